{#- The latest revision of each day's mempool.space hash rate: when several staged batches hold
    a day (overlap windows re-fetch recent days), the batch staged for the latest logical date
    wins. -#}
with

hashrate_days as (

    select * from {{ ref('stg_mempool__hashrate_days') }}

),

latest as (

    select *
    from hashrate_days
    qualify row_number() over (partition by date_day order by staged_for_date desc) = 1

)

select * from latest
