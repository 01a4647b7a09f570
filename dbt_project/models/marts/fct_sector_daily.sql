{#- Floating-point sums are ordered (sum(x order by …)) so a rebuild gives the same bits.
    One row per trading day: the group's combined market cap against the value of the bitcoin
    left to mine and against four years of block rewards (that day's network figures). -#}
with

market as (

    select * from {{ ref('fct_miner_market_daily') }}

),

network as (

    select * from {{ ref('fct_network_daily') }}

),

sector as (

    select
        date_day,
        count(market_cap_usd) as miners_count,
        sum(market_cap_usd order by ticker) as sector_market_cap_usd,

    from market
    where is_member
    group by date_day
    having count(market_cap_usd) > 0  -- a day with no known market cap is not a sector day

),

final as (

    select
        sector.date_day,
        cast(sector.miners_count as integer) as miners_count,
        sector.sector_market_cap_usd,
        network.remaining_btc_value_usd,
        sector.sector_market_cap_usd / nullif(network.remaining_btc_value_usd, 0)
            as mcap_to_remaining_btc_value,
        network.four_year_reward_usd,
        sector.sector_market_cap_usd / nullif(network.four_year_reward_usd, 0)
            as mcap_to_four_year_reward,
        network.price_usd as btc_price_usd,
        'fct_miner_market_daily; fct_network_daily' as source,

    from sector
    left join network on network.date_day = sector.date_day

)

select * from final
