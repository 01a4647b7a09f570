with

source as (

    select * from {{ source('sec', 'cik_check') }}

),

renamed as (

    select
        cast(ticker as varchar) as ticker,
        cast(seed_cik as varchar) as seed_cik,
        cast(sec_cik as varchar) as sec_cik,
        cast(status as varchar) as cik_check_status,
        cast(logical_date as date) as staged_for_date,
        raw_key,

    from source

)

select * from renamed
