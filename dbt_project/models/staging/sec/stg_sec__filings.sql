with

source as (

    select * from {{ source('sec', 'filings') }}

),

renamed as (

    select
        cast(cik as varchar) as cik,
        cast(accession as varchar) as accession,
        cast(form as varchar) as form,
        cast(filing_date as date) as filing_date,
        cast(report_date as date) as report_date,
        cast(primary_document as varchar) as primary_document,
        cast(items as varchar) as items,
        cast(logical_date as date) as staged_for_date,
        raw_key,

    from source

)

select * from renamed
