with

source as (

    select * from {{ source('sec', 'share_counts') }}

),

renamed as (

    select
        cast(cik as varchar) as cik,
        cast(as_of_date as date) as as_of_date,
        cast(filed_date as date) as filed_date,
        cast(shares_outstanding as double) as shares_outstanding,
        cast(accession as varchar) as accession,
        cast(form as varchar) as form,
        cast(fiscal_year as integer) as fiscal_year,
        cast(fiscal_period as varchar) as fiscal_period,
        cast(class_count as integer) as class_count,
        cast(logical_date as date) as staged_for_date,
        raw_key,

    from source

)

select * from renamed
