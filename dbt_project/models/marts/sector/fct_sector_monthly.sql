{#- One row per month: the headline figures of the monthly note. Market figures at the last
    trading day of the month, network figures as means of the month's days (hash rate,
    hashprice) or month-end values (difficulty). -#}
with

sector_daily as (

    select * from {{ ref('fct_sector_daily') }}

),

network as (

    select * from {{ ref('fct_network_daily') }}

),

performance as (

    select * from {{ ref('fct_miner_performance_monthly') }}

),

hashrate as (

    select * from {{ ref('fct_miner_hashrate_monthly') }}

),

miners as (

    select * from {{ ref('miners') }}

),

group_hashrate as (

    select
        hashrate.month_start,
        sum(hashrate.reported_hashrate_ehs order by hashrate.ticker) as group_hashrate_ehs,
        count(hashrate.reported_hashrate_ehs) as hashrate_reporting_miners,
        string_agg(hashrate.ticker, ',' order by hashrate.ticker) as hashrate_reporting_tickers,
        string_agg(distinct hashrate.hashrate_kind, ', ' order by hashrate.hashrate_kind)
            as hashrate_kinds,

    from hashrate
    where
        hashrate.reported_hashrate_ehs is not null
        and exists (  -- a member at some time in the month (semi join: periods may be several)
            select 1 from miners
            where
                miners.ticker = hashrate.ticker
                and last_day(hashrate.month_start) >= miners.member_from
                and (miners.member_to is null or hashrate.month_start <= miners.member_to)
        )
    group by 1

),

member_months as (

    -- every member at some time in each month (several periods of a ticker count once)
    select distinct
        months.month_start,
        miners.ticker,
    from (
        select distinct cast(date_trunc('month', date_day) as date) as month_start
        from sector_daily
    ) as months
    inner join miners
        on last_day(months.month_start) >= miners.member_from
        and (miners.member_to is null or months.month_start <= miners.member_to)

),

group_production as (

    -- bitcoin produced and held by the members who reported them, against what the network
    -- paid miners that month (realized share: a miner's share of rewards ~ its share of hash)
    select
        member_months.month_start,
        sum(hashrate.btc_mined order by hashrate.ticker) as group_btc_mined,
        count(hashrate.btc_mined) as btc_mined_reporting_miners,
        sum(hashrate.btc_held order by hashrate.ticker) as sector_btc_held,
        count(hashrate.btc_held) as btc_held_reporting_miners,
        max(hashrate.network_rewards_btc) as network_rewards_btc,
        coalesce(
            string_agg(member_months.ticker, ',' order by member_months.ticker)
            filter (where hashrate.ticker is null),
            ''
        ) as production_missing_tickers,

    from member_months
    left join hashrate
        on member_months.ticker = hashrate.ticker
        and member_months.month_start = hashrate.month_start
    group by 1

),

sector_month_end as (

    select
        cast(date_trunc('month', date_day) as date) as month_start,
        max(date_day) as month_end_date,
        arg_max(sector_market_cap_usd, date_day) as sector_market_cap_usd,
        arg_max(mcap_to_remaining_btc_value, date_day) as mcap_to_remaining_btc_value,
        arg_max(mcap_to_four_year_reward, date_day) as mcap_to_four_year_reward,
        arg_max(mcap_to_four_year_reward_flat, date_day) as mcap_to_four_year_reward_flat,
        arg_max(four_year_reward_flat_usd, date_day) as four_year_reward_flat_usd,
        arg_max(miners_count, date_day) as miners_count,
        arg_max(miners_tracked, date_day) as miners_tracked,
        arg_max(missing_tickers, date_day) as missing_tickers,
        arg_max(missing_reasons, date_day) as missing_reasons,

    from sector_daily
    group by 1

),

network_month as (

    select
        cast(date_trunc('month', date_day) as date) as month_start,
        avg(hashrate_ehs order by date_day) as avg_hashrate_ehs,
        avg(hashprice_usd_per_ehs_day order by date_day) as avg_hashprice_usd_per_ehs_day,
        arg_max(difficulty, date_day) as month_end_difficulty,

    from network
    group by 1

),

best_and_worst as (

    select
        month_start,
        first(ticker order by return_pct desc, ticker asc) as best_ticker,
        max(return_pct) as best_return_pct,
        first(ticker order by return_pct asc, ticker asc) as worst_ticker,
        min(return_pct) as worst_return_pct,
        bool_and(is_month_complete) as is_month_complete,

    from performance
    where is_member and return_pct is not null
    group by 1

),

joined as (

    select
        sector_month_end.*,
        network_month.avg_hashrate_ehs,
        network_month.avg_hashprice_usd_per_ehs_day,
        network_month.month_end_difficulty,
        best_and_worst.best_ticker,
        best_and_worst.best_return_pct,
        best_and_worst.worst_ticker,
        best_and_worst.worst_return_pct,
        best_and_worst.is_month_complete,
        group_production.group_btc_mined,
        group_production.btc_mined_reporting_miners,
        group_production.sector_btc_held,
        group_production.btc_held_reporting_miners,
        group_production.production_missing_tickers,
        group_production.group_btc_mined / nullif(group_production.network_rewards_btc, 0)
            as sector_realized_hashrate_share,
        group_hashrate.group_hashrate_ehs,
        group_hashrate.hashrate_reporting_miners,
        group_hashrate.hashrate_reporting_tickers,
        group_hashrate.hashrate_kinds,
        group_hashrate.group_hashrate_ehs / nullif(network_month.avg_hashrate_ehs, 0)
            as sector_hashrate_share,
        lag(sector_month_end.sector_market_cap_usd) over w as previous_market_cap_usd,
        lag(network_month.avg_hashrate_ehs) over w as previous_avg_hashrate_ehs,
        lag(network_month.avg_hashprice_usd_per_ehs_day) over w as previous_avg_hashprice,
        lag(network_month.month_end_difficulty) over w as previous_month_end_difficulty,
        lag(sector_month_end.month_start) over w as previous_month_start,
        lag(sector_month_end.month_end_date) over w as previous_month_end_date,

    from sector_month_end
    left join network_month on sector_month_end.month_start = network_month.month_start
    left join best_and_worst on sector_month_end.month_start = best_and_worst.month_start
    left join group_hashrate on sector_month_end.month_start = group_hashrate.month_start
    left join group_production on sector_month_end.month_start = group_production.month_start
    window w as (order by sector_month_end.month_start)

),

with_btc as (

    -- bitcoin over the same calendar days as the group's month-end to month-end
    select
        joined.*,
        (btc_end.price_usd / btc_start.price_usd - 1) * 100 as btc_return_pct,
    from joined
    left join network as btc_end on joined.month_end_date = btc_end.date_day
    left join network as btc_start on joined.previous_month_end_date = btc_start.date_day

),

final as (

    select
        month_start,
        month_end_date,
        cast(miners_tracked as integer) as miners_tracked,
        cast(miners_count as integer) as miners_count,
        missing_tickers,
        missing_reasons,
        sector_market_cap_usd,
        {{ change_pct('sector_market_cap_usd', 'previous_market_cap_usd') }}
            as sector_market_cap_change_pct,
        avg_hashrate_ehs,
        -- changes are month on month: after a month without sector data there is none
        {{ change_pct('avg_hashrate_ehs', 'previous_avg_hashrate_ehs') }} as hashrate_change_pct,
        {{ change_pct('month_end_difficulty', 'previous_month_end_difficulty') }}
            as difficulty_change_pct,
        avg_hashprice_usd_per_ehs_day,
        {{ change_pct('avg_hashprice_usd_per_ehs_day', 'previous_avg_hashprice') }}
            as hashprice_change_pct,
        sector_hashrate_share,
        group_hashrate_ehs,
        cast(hashrate_reporting_miners as integer) as hashrate_reporting_miners,
        hashrate_reporting_tickers,
        hashrate_kinds,
        mcap_to_remaining_btc_value,
        mcap_to_four_year_reward,
        mcap_to_four_year_reward_flat,
        -- the group against its own share of the coming rewards (flat reading), month end
        sector_market_cap_usd / nullif(sector_hashrate_share * four_year_reward_flat_usd, 0)
            as mcap_to_proportional_four_year_reward,
        sector_realized_hashrate_share,
        group_btc_mined,
        cast(btc_mined_reporting_miners as integer) as btc_mined_reporting_miners,
        sector_btc_held,
        cast(btc_held_reporting_miners as integer) as btc_held_reporting_miners,
        production_missing_tickers,
        best_ticker,
        best_return_pct,
        worst_ticker,
        worst_return_pct,
        btc_return_pct,
        coalesce(is_month_complete, false) as is_month_complete,
        'fct_sector_daily; fct_network_daily; fct_miner_performance_monthly' as source,

    from with_btc

)

select * from final
