-- Block heights are running sums, so the history must start at the genesis day and have no
-- missing day. Returns the offending rows (none when the history is whole).
with

days as (

    select
        date_day,
        lag(date_day) over (order by date_day) as previous_day,
        min(date_day) over () as first_day,

    from {{ ref('fct_network_daily') }}

)

select *
from days
where first_day <> date '2009-01-03'
    or (previous_day is not null and date_day - previous_day <> 1)
