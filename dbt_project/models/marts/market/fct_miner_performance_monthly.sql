{#- One row per miner per month: the return from the last trading day of the previous month to
    the last trading day of the month (adjusted closes), bitcoin's over the same calendar days,
    the excess, and the rank among the group's members that month (1 = best). -#}
with

market as (

    select * from {{ ref('fct_miner_market_daily') }}

),

network as (

    select * from {{ ref('fct_network_daily') }}

),

last_day_of_data as (

    -- calendar days (the network has every day): a month is complete once its last day is in
    select max(date_day) as last_date from network

),

month_ends as (

    select
        ticker,
        cast(date_trunc('month', date_day) as date) as month_start,
        max(date_day) as month_end_date,
        arg_max(adj_close_usd, date_day) as adj_close_usd,
        bool_or(is_member) as is_member,

    from market
    group by ticker, date_trunc('month', date_day)

),

with_previous as (

    select
        *,
        lag(month_end_date) over by_ticker as previous_month_end_date,
        lag(adj_close_usd) over by_ticker as previous_adj_close_usd,
        lag(month_start) over by_ticker as previous_month_start,

    from month_ends
    window by_ticker as (partition by ticker order by month_start)

),

returns as (

    select
        with_previous.month_start,
        with_previous.ticker,
        with_previous.month_end_date,
        with_previous.previous_month_end_date,
        (with_previous.adj_close_usd / with_previous.previous_adj_close_usd - 1) * 100
            as return_pct,
        (btc_end.price_usd / btc_start.price_usd - 1) * 100 as btc_return_pct,
        with_previous.is_member,
        last_day(with_previous.month_start) <= last_day_of_data.last_date as is_month_complete,

    from with_previous
    cross join last_day_of_data
    left join network as btc_end on with_previous.month_end_date = btc_end.date_day
    left join network as btc_start on with_previous.previous_month_end_date = btc_start.date_day
    where with_previous.previous_month_start = with_previous.month_start - interval 1 month

),

final as (

    select
        month_start,
        ticker,
        month_end_date,
        previous_month_end_date,
        return_pct,
        btc_return_pct,
        return_pct - btc_return_pct as excess_return_pct,
        case
            when is_member then cast(rank() over (
                partition by month_start, is_member order by return_pct desc
            ) as integer)
        end as rank,
        is_member,
        is_month_complete,
        'fct_miner_market_daily (adj_close_usd); fct_network_daily (price_usd)' as source,

    from returns

)

select * from final
