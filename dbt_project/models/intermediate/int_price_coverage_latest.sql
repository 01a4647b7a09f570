{#- One row per ticker: what the price provider answered on the latest run that asked for it
    (landed, or no_data). -#}
with

coverage as (

    select * from {{ ref('stg_market__coverage') }}

),

latest as (

    select *
    from coverage
    qualify row_number() over (partition by ticker order by staged_for_date desc) = 1

)

select * from latest
