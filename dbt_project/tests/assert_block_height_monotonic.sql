-- The height at the end of a day never decreases, and the subsidy matches its block count.
with

days as (

    select
        date_day,
        block_height,
        block_count,
        subsidy_btc,
        lag(block_height) over (order by date_day) as previous_height,

    from {{ ref('fct_network_daily') }}

)

select *
from days
where block_height < coalesce(previous_height, 0)
    or block_height - coalesce(previous_height, 0) <> block_count
    or (block_count = 0 and subsidy_btc <> 0)
    or subsidy_btc < 0
