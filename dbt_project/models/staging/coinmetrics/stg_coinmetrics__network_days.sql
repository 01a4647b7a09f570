with

source as (

    select * from {{ source('coinmetrics', 'btc_asset_metrics') }}

),

renamed as (

    select
        cast(date_day as date) as date_day,
        cast(logical_date as date) as staged_for_date,
        cast("BlkCnt" as bigint) as block_count,
        cast("HashRate" as double) / 1e6 as hashrate_ehs,
        cast("PriceUSD" as double) as price_usd,
        cast("SplyCur" as double) as supply_btc,
        cast("IssTotNtv" as double) as issuance_btc,
        cast("FeeTotNtv" as double) as fees_btc,
        raw_key,

    from source

)

select * from renamed
