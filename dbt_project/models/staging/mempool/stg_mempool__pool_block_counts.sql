{#- mempool.space's 1-month block counts per pool, typed. Empty with the same columns until a
    run has staged this dataset (see stg_mempool__hashrate_days). -#}
{%- set staged = source('mempool', 'pool_blocks') -%}
{%- set has_batches = true -%}
{%- if execute -%}
    {%- set pattern = env_var('MINERWATCH_LAKE_ROOT')
        ~ '/staged/mempool/pool_blocks/*/*.parquet' -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')") -%}
    {%- set has_batches = (found.columns[0].values()[0] | int) > 0 -%}
{%- endif -%}
with

source as (

    {% if has_batches -%}
        select * from {{ staged }}
    {%- else -%}
        select
            cast(null as date) as month_start,
            cast(null as timestamptz) as window_start_at,
            cast(null as timestamptz) as window_end_at,
            cast(null as varchar) as pool_slug,
            cast(null as varchar) as pool_name,
            cast(null as bigint) as pool_id,
            cast(null as bigint) as rank,
            cast(null as bigint) as block_count,
            cast(null as bigint) as empty_blocks,
            cast(null as bigint) as total_block_count,
            cast(null as varchar) as raw_key,
            cast(null as date) as logical_date,
        where false
    {%- endif %}

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
