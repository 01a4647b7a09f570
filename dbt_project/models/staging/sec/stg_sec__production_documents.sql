with

source as (

    select * from {{ source('sec', 'production_documents') }}

),

renamed as (

    select
        cast(cik as varchar) as cik,
        cast(accession as varchar) as accession,
        cast(form as varchar) as form,
        cast(filed_date as date) as filed_date,
        cast(document as varchar) as document,
        cast(source_url as varchar) as source_url,
        cast(period_month as date) as month_start,
        cast(status as varchar) as parse_status,
        cast(reason as varchar) as unparsed_reason,
        cast(figures as integer) as figures_count,
        cast(logical_date as date) as staged_for_date,
        raw_key,

    from source

)

select * from renamed
