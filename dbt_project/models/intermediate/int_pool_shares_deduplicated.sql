{#- Each week's pool shares from the latest staged batch that holds the week: the whole week is
    taken from one batch (the source lists only its current pools, so mixing batches could
    count a week twice or lose pools). -#}
with

pool_shares as (

    select * from {{ ref('stg_mempool__pool_shares') }}

),

latest as (

    select *
    from pool_shares
    qualify dense_rank() over (partition by week_end_at order by staged_for_date desc) = 1

)

select * from latest
