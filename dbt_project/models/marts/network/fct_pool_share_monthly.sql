{#- One row per mining pool per month. Where a month has a block-count snapshot
    that stands for it (mempool.space /api/v1/mining/pools/1m fetched right after the month
    ended), the row is the pool's blocks and its share of the month's blocks. Otherwise it is
    the source's weekly shares averaged over the month's days: a week's share stands for each of
    its 7 days (the bucket stamped Monday 00:00 covers the 7 days before it), and a pool's month
    share is the sum over the month's covered days divided by the number of covered days (a
    week the pool is not listed in counts 0). Pools are not companies. -#}
with

weekly_shares as (

    select * from {{ ref('int_pool_shares_deduplicated') }}

),

block_counts as (

    select * from {{ ref('int_pool_block_counts_deduplicated') }}

),

-- the source's own slug where a block-count snapshot names the pool (the weekly history carries
-- names only; its slug is derived by the source's rule for pools without a configured one)
known_slugs as (

    select
        pool_name,
        arg_max(pool_slug, window_end_at) as pool_slug,

    from block_counts
    group by pool_name

),

share_days as (

    select
        coalesce(known_slugs.pool_slug, weekly_shares.pool_slug) as pool_slug,
        weekly_shares.pool_name,
        weekly_shares.week_end_at,
        weekly_shares.share,
        weekly_shares.raw_key,
        cast(weekly_shares.week_end_at as date)
        - cast(offsets.days_before_end as integer) as date_day,

    from weekly_shares
    cross join range(1, 8) as offsets (days_before_end)
    left join known_slugs
        on weekly_shares.pool_name = known_slugs.pool_name

),

months_covered as (

    select
        cast(date_trunc('month', date_day) as date) as month_start,
        count(distinct date_day) as days_covered,
        min(date_day) as first_day,
        max(date_day) as last_day,

    from share_days
    group by cast(date_trunc('month', date_day) as date)

),

shares_monthly as (

    select
        months_covered.month_start,
        share_days.pool_slug,
        arg_max(share_days.pool_name, share_days.week_end_at) as pool_name,
        sum(share_days.share) / months_covered.days_covered as block_share,
        cast(null as bigint) as block_count,
        'mempool:hashrate/pools (weekly shares, mean over the days covered)' as source,
        months_covered.days_covered,
        cast(months_covered.first_day as timestamp) as window_start_at,
        cast(months_covered.last_day + 1 as timestamp) as window_end_at,
        string_agg(distinct share_days.raw_key, ', ' order by share_days.raw_key) as raw_key,

    from share_days
    inner join months_covered
        on cast(date_trunc('month', share_days.date_day) as date) = months_covered.month_start
    group by
        months_covered.month_start,
        share_days.pool_slug,
        months_covered.days_covered,
        months_covered.first_day,
        months_covered.last_day

),

blocks_monthly as (

    select
        month_start,
        pool_slug,
        pool_name,
        block_count / total_block_count as block_share,
        block_count,
        'mempool:pools/1m (block counts)' as source,
        cast(
            date_diff('day', month_start, cast(month_start + interval 1 month as date))
            as bigint
        ) as days_covered,
        window_start_at,
        window_end_at,
        raw_key,

    from block_counts

),

months_with_blocks as (

    select distinct month_start from blocks_monthly

),

unioned as (

    select * from blocks_monthly

    union all by name

    select shares_monthly.*
    from shares_monthly
    left join months_with_blocks
        on shares_monthly.month_start = months_with_blocks.month_start
    where months_with_blocks.month_start is null

),

final as (

    select
        month_start,
        pool_slug,
        pool_name,
        cast(block_share as double) as block_share,
        cast(block_count as bigint) as block_count,
        source,
        cast(days_covered as bigint) as days_covered,
        window_start_at,
        window_end_at,
        raw_key,

    from unioned

)

select * from final
