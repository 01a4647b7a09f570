{#- One row per UTC day since the genesis block. Heights follow Coin Metrics'
    own bucketing: BlkCnt leaves the genesis block out, so the height of the day's last block is
    the running sum of BlkCnt. Subsidies come from heights through the halving schedule. The
    second source's hash rate (mempool.space) sits beside Coin Metrics' on the day its bucket
    covers; `source` says where the row's values came from (Coin Metrics' API or its published
    CSV, told apart by the raw object's dataset). -#}
with

network_days as (

    select * from {{ ref('int_network_days_deduplicated') }}

),

difficulty_adjustments as (

    select * from {{ ref('int_difficulty_adjustments_deduplicated') }}

),

mempool_hashrate_days as (

    select * from {{ ref('int_mempool_hashrate_days_deduplicated') }}

),

heights as (

    select
        *,
        sum(block_count) over (
            order by date_day rows between unbounded preceding and current row
        ) as block_height,

    from network_days

),

issuance as (

    select
        *,
        {{ subsidy_sats_between('block_height - block_count + 1', 'block_height') }} / 1e8
            as subsidy_btc,
        {{ subsidy_sats_between('block_height + 1', 'block_height + 210000') }} / 1e8
            as four_year_reward_btc,
        -- the note's "four-year block reward": 210,000 blocks at the current subsidy, no halving
        210000 * {{ subsidy_sats('block_height') }} / 1e8 as four_year_reward_flat_btc,
        avg(hashrate_ehs) over (
            order by date_day rows between 6 preceding and current row
        ) as hashrate_ehs_7d,

    from heights

),

with_difficulty as (

    select
        issuance.*,
        difficulty_adjustments.difficulty,
        difficulty_adjustments.raw_key as difficulty_raw_key,

    from issuance
    asof left join difficulty_adjustments
        on issuance.block_height >= difficulty_adjustments.height

),

with_mempool as (

    select
        with_difficulty.*,
        mempool_hashrate_days.hashrate_ehs as hashrate_ehs_mempool,
        mempool_hashrate_days.raw_key as hashrate_mempool_raw_key,
        case
            when with_difficulty.raw_key like '%/coinmetrics/btc_csv/%' then 'coinmetrics:csv'
            else 'coinmetrics:api'
        end as network_source,

    from with_difficulty
    left join mempool_hashrate_days
        on with_difficulty.date_day = mempool_hashrate_days.date_day

),

final as (

    select
        date_day,
        cast(block_height as bigint) as block_height,
        block_count,
        hashrate_ehs,
        hashrate_ehs_7d,
        difficulty,
        subsidy_btc,
        fees_btc,
        price_usd,
        supply_btc,
        21000000 - supply_btc as remaining_btc,
        (21000000 - supply_btc) * price_usd as remaining_btc_value_usd,
        four_year_reward_btc,
        four_year_reward_btc * price_usd as four_year_reward_usd,
        (subsidy_btc + fees_btc) * price_usd / nullif(hashrate_ehs, 0)
            as hashprice_usd_per_ehs_day,
        subsidy_btc * price_usd / nullif(hashrate_ehs, 0)
            as hashprice_subsidy_usd_per_ehs_day,
        four_year_reward_flat_btc,
        four_year_reward_flat_btc * price_usd as four_year_reward_flat_usd,
        hashrate_ehs_mempool,
        concat_ws(
            '; ',
            network_source,
            case when difficulty_raw_key is not null then 'mempool:difficulty_adjustments' end,
            case when hashrate_mempool_raw_key is not null then 'mempool:hashrate' end
        ) as source,
        raw_key,
        difficulty_raw_key,
        hashrate_mempool_raw_key,

    from with_mempool

)

select * from final
