{{ config(severity='warn') }}
-- Cross-source check: the market provider's BTC-USD close and Coin Metrics' PriceUSD (both the
-- 00:00 UTC price ending the day) agree within 5 %. A warning, not a gate: it flags a source
-- drifting, it does not decide which one is right.
with

btc_usd as (

    select
        date_day,
        close_usd,
    from {{ ref('int_prices_latest_batch') }}
    where ticker = 'BTC-USD'

),

network as (

    select
        date_day,
        price_usd,
    from {{ ref('fct_network_daily') }}

)

select
    btc_usd.date_day,
    btc_usd.close_usd,
    network.price_usd,
from btc_usd
inner join network on btc_usd.date_day = network.date_day
where abs(btc_usd.close_usd / network.price_usd - 1) > 0.05
