{#- mempool.space's daily network hash rate, typed, EH/s. The source reads the lake's staged
    Parquet; until a run has staged this dataset (a lake from before it existed, or a mirror
    without the mining API) there is no file to read, and the model is empty with the same
    columns (macro staged_or_empty: the glob is checked when the model runs). -#}
with

source as (

    {{ staged_or_empty('mempool', 'hashrate_daily', {
        'date_day': 'date',
        'bucket_end_at': 'timestamptz',
        'avg_hashrate_hs': 'double',
        'raw_key': 'varchar',
        'logical_date': 'date',
    }) }}

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
