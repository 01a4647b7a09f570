with

adjustments as (

    select * from {{ ref('stg_mempool__difficulty_adjustments') }}

),

latest as (

    select *
    from adjustments
    qualify row_number() over (partition by height order by staged_for_date desc) = 1

)

select * from latest
