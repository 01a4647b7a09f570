{#- Each staged price batch is a ticker's whole history as fetched that day, adjusted as of the
    fetch; mixing batches would mix adjustments. Keep each ticker's latest batch whole, and give
    every day its cumulative split factor (product of the ratios of splits on or before it). -#}
with

prices as (

    select * from {{ ref('stg_market__prices') }}

),

latest as (

    select *
    from prices
    qualify staged_for_date = max(staged_for_date) over (partition by ticker)

),

with_split_factor as (

    select
        *,
        exp(sum(ln(coalesce(split_ratio, 1.0))) over (
            partition by ticker order by date_day rows between unbounded preceding and current row
        )) as cumulative_split_factor,

    from latest

)

select * from with_split_factor
