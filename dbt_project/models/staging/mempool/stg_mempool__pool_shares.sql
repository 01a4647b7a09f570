{#- mempool.space's weekly pool shares, typed. Empty with the same columns until a run has
    staged this dataset (see stg_mempool__hashrate_days). -#}
with

source as (

    {{ staged_or_empty('mempool', 'pool_shares_weekly', {
        'week_end_at': 'timestamptz',
        'pool_name': 'varchar',
        'pool_slug': 'varchar',
        'share': 'double',
        'avg_hashrate_hs': 'double',
        'raw_key': 'varchar',
        'logical_date': 'date',
    }) }}

),

renamed as (

    select
        timezone('UTC', cast(week_end_at as timestamptz)) as week_end_at,
        pool_slug,
        pool_name,
        cast(share as double) as share,
        cast(avg_hashrate_hs as double) / 1e18 as hashrate_ehs,
        cast(logical_date as date) as staged_for_date,
        raw_key,

    from source

)

select * from renamed
