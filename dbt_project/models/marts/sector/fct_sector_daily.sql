{#- Floating-point sums are ordered (sum(x order by …)) so a rebuild gives the same bits.
    One row per trading day: the group's combined market cap against the value of the bitcoin
    left to mine and against four years of block rewards (that day's network figures), and how
    many of the day's members it covers: a figure over fewer members than the group says so. -#}
with

market as (

    select * from {{ ref('fct_miner_market_daily') }}

),

network as (

    select * from {{ ref('fct_network_daily') }}

),

periods as (

    select * from {{ ref('miners') }}

),

coverage as (

    select * from {{ ref('int_price_coverage_latest') }}

),

trading_days as (

    select distinct date_day from market

),

priced_tickers as (

    select distinct ticker from market

),

members as (

    -- every member of the group on every trading day, whether or not it has a market cap
    select
        trading_days.date_day,
        periods.ticker,
        market.market_cap_usd,
        case
            when market.market_cap_usd is not null then null
            when coverage.status = 'no_data' then 'no prices from the source'
            when priced_tickers.ticker is null then 'no prices staged'
            when market.ticker is null then 'no price that day'
            else 'no share count known that day'
        end as missing_reason,

    from trading_days
    inner join periods
        on trading_days.date_day >= periods.member_from
        and (periods.member_to is null or trading_days.date_day <= periods.member_to)
    left join market
        on periods.ticker = market.ticker
        and trading_days.date_day = market.date_day
    left join coverage on periods.ticker = coverage.ticker
    left join priced_tickers on periods.ticker = priced_tickers.ticker

),

sector as (

    select
        date_day,
        count(*) as miners_tracked,
        count(market_cap_usd) as miners_count,
        coalesce(
            string_agg(ticker, ',' order by ticker) filter (where market_cap_usd is null), ''
        ) as missing_tickers,
        coalesce(
            string_agg(ticker || ' (' || missing_reason || ')', ', ' order by ticker)
            filter (where market_cap_usd is null),
            ''
        ) as missing_reasons,
        sum(market_cap_usd order by ticker) as sector_market_cap_usd,

    from members
    group by date_day
    having count(market_cap_usd) > 0  -- a day with no known market cap is not a sector day

),

final as (

    select
        sector.date_day,
        cast(sector.miners_tracked as integer) as miners_tracked,
        cast(sector.miners_count as integer) as miners_count,
        sector.missing_tickers,
        sector.missing_reasons,
        sector.sector_market_cap_usd,
        network.remaining_btc_value_usd,
        sector.sector_market_cap_usd / nullif(network.remaining_btc_value_usd, 0)
            as mcap_to_remaining_btc_value,
        network.four_year_reward_usd,
        sector.sector_market_cap_usd / nullif(network.four_year_reward_usd, 0)
            as mcap_to_four_year_reward,
        network.four_year_reward_flat_usd,
        sector.sector_market_cap_usd / nullif(network.four_year_reward_flat_usd, 0)
            as mcap_to_four_year_reward_flat,
        network.price_usd as btc_price_usd,
        'fct_miner_market_daily; fct_network_daily; seeds/miners.csv; staged/market/coverage'
            as source,

    from sector
    left join network on sector.date_day = network.date_day

)

select * from final
