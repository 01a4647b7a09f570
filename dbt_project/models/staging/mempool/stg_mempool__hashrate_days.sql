{#- mempool.space's daily network hash rate, typed, EH/s. The source reads the lake's staged
    Parquet; until a run has staged this dataset (a lake from before it existed, or a mirror
    without the mining API) there is no file to read, and the model is empty with the same
    columns (the glob is checked when the model runs). -#}
{%- set staged = source('mempool', 'hashrate_daily') -%}
{%- set has_batches = true -%}
{%- if execute -%}
    {%- set pattern = env_var('MINERWATCH_LAKE_ROOT')
        ~ '/staged/mempool/hashrate_daily/*/*.parquet' -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')") -%}
    {%- set has_batches = (found.columns[0].values()[0] | int) > 0 -%}
{%- endif -%}
with

source as (

    {% if has_batches -%}
        select * from {{ staged }}
    {%- else -%}
        select
            cast(null as date) as date_day,
            cast(null as timestamptz) as bucket_end_at,
            cast(null as double) as avg_hashrate_hs,
            cast(null as varchar) as raw_key,
            cast(null as date) as logical_date,
        where false
    {%- endif %}

),

renamed as (

    select
        cast(date_day as date) as date_day,
        timezone('UTC', cast(bucket_end_at as timestamptz)) as bucket_end_at,
        cast(avg_hashrate_hs as double) / 1e18 as hashrate_ehs,
        cast(logical_date as date) as staged_for_date,
        raw_key,

    from source

)

select * from renamed
