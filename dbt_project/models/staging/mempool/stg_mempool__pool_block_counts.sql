{#- mempool.space's 1-month block counts per pool, typed. Empty with the same columns until a
    run has staged this dataset (see stg_mempool__hashrate_days). -#}
with

source as (

    {{ staged_or_empty('mempool', 'pool_blocks', {
        'month_start': 'date',
        'window_start_at': 'timestamptz',
        'window_end_at': 'timestamptz',
        'pool_slug': 'varchar',
        'pool_name': 'varchar',
        'pool_id': 'bigint',
        'rank': 'bigint',
        'block_count': 'bigint',
        'empty_blocks': 'bigint',
        'total_block_count': 'bigint',
        'raw_key': 'varchar',
        'logical_date': 'date',
    }) }}

),

renamed as (

    select
        cast(month_start as date) as month_start,
        timezone('UTC', cast(window_start_at as timestamptz)) as window_start_at,
        timezone('UTC', cast(window_end_at as timestamptz)) as window_end_at,
        pool_slug,
        pool_name,
        cast(pool_id as bigint) as pool_id,
        cast(rank as bigint) as pool_rank,
        cast(block_count as bigint) as block_count,
        cast(empty_blocks as bigint) as empty_block_count,
        cast(total_block_count as bigint) as total_block_count,
        cast(logical_date as date) as staged_for_date,
        raw_key,

    from source

)

select * from renamed
