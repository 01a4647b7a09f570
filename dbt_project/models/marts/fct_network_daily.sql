{#- One row per UTC day since the genesis block (DESIGN.md §6–7). Heights follow Coin Metrics'
    own bucketing: BlkCnt leaves the genesis block out, so the height of the day's last block is
    the running sum of BlkCnt. Subsidies come from heights through the halving schedule. -#}
with

network_days as (

    select * from {{ ref('int_network_days_deduplicated') }}

),

difficulty_adjustments as (

    select * from {{ ref('int_difficulty_adjustments_deduplicated') }}

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
        'coinmetrics:btc_asset_metrics; mempool:difficulty_adjustments' as source,
        raw_key,
        difficulty_raw_key,

    from with_difficulty

)

select * from final
