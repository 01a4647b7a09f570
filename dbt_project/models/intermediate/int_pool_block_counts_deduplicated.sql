{#- One block-count snapshot per calendar month: among the snapshots whose window stands for
    the month, the one that ended closest to the month's end (then the latest staged). -#}
with

block_counts as (

    select * from {{ ref('stg_mempool__pool_block_counts') }}
    where month_start is not null

),

closest as (

    select *
    from block_counts
    qualify
        dense_rank() over (
            partition by month_start
            order by
                abs(epoch(window_end_at) - epoch(month_start + interval 1 month)),
                staged_for_date desc,
                raw_key desc
        ) = 1

)

select * from closest
