{#- One row per miner per month with a reported figure: the hash rate of the kind that comes
    first in the company's declared preference order (the row says which kind), bitcoin mined
    and held, each with its document, and the share of the network's monthly mean hash rate. -#}
with

figures as (

    select * from {{ ref('int_production_figures_deduplicated') }}

),

preferences as (

    select
        ticker,
        list_transform(string_split(kind_preference, '>'), k -> trim(k)) as kinds,
    from {{ ref('hashrate_kind_preference') }}

),

network as (

    select * from {{ ref('fct_network_daily') }}

),

market as (

    select * from {{ ref('fct_miner_market_daily') }}

),

network_monthly as (

    select
        cast(date_trunc('month', date_day) as date) as month_start,
        avg(hashrate_ehs order by date_day) as network_hashrate_ehs,
        -- what the network paid miners that month: subsidy + fees of every block
        sum(subsidy_btc + fees_btc order by date_day) as network_rewards_btc,
        count(*) as network_days,
        -- a realized figure needs the whole month on both sides (btc_mined is a month's total)
        count(*) = day(last_day(min(date_day))) as is_network_month_complete,
    from network
    group by 1

),

month_end_market_cap as (

    select
        ticker,
        cast(date_trunc('month', date_day) as date) as month_start,
        arg_max(market_cap_usd, date_day) as month_end_market_cap_usd,
        max(date_day) as month_end_date,
    from market
    where market_cap_usd is not null
    group by 1, 2

),

hashrate_ranked as (

    select
        figures.*,
        list_position(preferences.kinds, figures.hashrate_kind) as kind_preference_rank,
    from figures
    left join preferences on figures.ticker = preferences.ticker
    where figures.metric = 'hashrate_ehs'

),

hashrate_chosen as (

    select *
    from hashrate_ranked
    where kind_preference_rank is not null
    qualify
        row_number() over (
            partition by ticker, month_start order by kind_preference_rank
        ) = 1

),

btc as (

    select
        ticker,
        month_start,
        max(case when metric = 'btc_mined' then value end) as btc_mined,
        max(case when metric = 'btc_held' then value end) as btc_held,
        max(case when metric = 'btc_mined' then source_url end) as btc_mined_source_url,
        max(case when metric = 'btc_held' then source_url end) as btc_held_source_url,
    from figures
    where metric in ('btc_mined', 'btc_held')
    group by 1, 2

),

months as (

    select
        ticker,
        month_start,
    from hashrate_chosen
    union
    select
        ticker,
        month_start,
    from btc

),

joined as (

    select
        months.month_start,
        months.ticker,
        hashrate_chosen.value as reported_hashrate_ehs,
        hashrate_chosen.hashrate_kind,
        cast(hashrate_chosen.kind_preference_rank as integer) as kind_preference_rank,
        btc.btc_mined,
        btc.btc_held,
        coalesce(hashrate_chosen.source_url, btc.btc_mined_source_url, btc.btc_held_source_url)
            as source_url,
        hashrate_chosen.accession,
        hashrate_chosen.evidence,
        hashrate_chosen.figure_source,
        network_monthly.network_hashrate_ehs,
        hashrate_chosen.value / nullif(network_monthly.network_hashrate_ehs, 0) as hashrate_share,
        case
            when network_monthly.is_network_month_complete
                then network_monthly.network_rewards_btc
        end as network_rewards_btc,
        month_end_market_cap.month_end_market_cap_usd,

    from months
    left join hashrate_chosen
        on months.ticker = hashrate_chosen.ticker
        and months.month_start = hashrate_chosen.month_start
    left join btc on months.ticker = btc.ticker and months.month_start = btc.month_start
    left join network_monthly on months.month_start = network_monthly.month_start
    left join month_end_market_cap
        on months.ticker = month_end_market_cap.ticker
        and months.month_start = month_end_market_cap.month_start

),

realized as (

    -- a miner's share of the block rewards equals its share of the hash power over time, so
    -- the bitcoin it produced implies the hash rate it ran (TheMinerMag's realized hash rate)
    select
        joined.*,
        joined.btc_mined / nullif(joined.network_rewards_btc, 0) as realized_hashrate_share,
        joined.btc_mined / nullif(joined.network_rewards_btc, 0) * joined.network_hashrate_ehs
            as realized_hashrate_ehs,
    from joined

),

final as (

    select
        *,
        realized_hashrate_ehs / nullif(reported_hashrate_ehs, 0) as realization_rate,
        -- price-to-hash: what the market pays per EH/s the company reports
        month_end_market_cap_usd / nullif(reported_hashrate_ehs, 0) as mcap_per_ehs_usd,
    from realized

)

select * from final
