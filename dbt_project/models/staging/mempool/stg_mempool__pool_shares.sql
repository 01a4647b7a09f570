{#- mempool.space's weekly pool shares, typed. Empty with the same columns until a run has
    staged this dataset (see stg_mempool__hashrate_days). -#}
{%- set staged = source('mempool', 'pool_shares_weekly') -%}
{%- set has_batches = true -%}
{%- if execute -%}
    {%- set pattern = env_var('MINERWATCH_LAKE_ROOT')
        ~ '/staged/mempool/pool_shares_weekly/*/*.parquet' -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')") -%}
    {%- set has_batches = (found.columns[0].values()[0] | int) > 0 -%}
{%- endif -%}
with

source as (

    {% if has_batches -%}
        select * from {{ staged }}
    {%- else -%}
        select
            cast(null as timestamptz) as week_end_at,
            cast(null as varchar) as pool_name,
            cast(null as varchar) as pool_slug,
            cast(null as double) as share,
            cast(null as double) as avg_hashrate_hs,
            cast(null as varchar) as raw_key,
            cast(null as date) as logical_date,
        where false
    {%- endif %}

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
