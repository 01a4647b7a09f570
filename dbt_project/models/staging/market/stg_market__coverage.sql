with

source as (

    select * from {{ source('market', 'coverage') }}

),

renamed as (

    select
        cast(member as varchar) as ticker,
        cast(logical_date as date) as staged_for_date,
        cast(provider as varchar) as provider,
        cast(status as varchar) as status,
        cast(reason as varchar) as reason,
        cast(raw_key as varchar) as raw_key,

    from source

)

select * from renamed
