with

source as (

    select * from {{ source('market', 'prices_daily') }}

),

renamed as (

    select
        cast(ticker as varchar) as ticker,
        cast(date_day as date) as date_day,
        cast(logical_date as date) as staged_for_date,
        cast(open as double) as open_usd,
        cast(high as double) as high_usd,
        cast(low as double) as low_usd,
        cast(close as double) as close_split_adjusted_usd,
        cast(close_as_traded as double) as close_usd,
        cast(adj_close as double) as adj_close_usd,
        cast(volume as double) as volume,
        cast(split_ratio as double) as split_ratio,
        cast(provider as varchar) as provider,
        raw_key,

    from source

)

select * from renamed
