with

source as (

    select * from {{ source('mempool', 'difficulty_adjustments') }}

),

renamed as (

    select
        cast(height as bigint) as height,
        cast(adjusted_at as timestamp) as adjusted_at,
        cast(difficulty as double) as difficulty,
        cast(change_ratio as double) as change_ratio,
        cast(logical_date as date) as staged_for_date,
        raw_key,

    from source

)

select * from renamed
