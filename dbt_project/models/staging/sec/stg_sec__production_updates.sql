with

source as (

    select * from {{ source('sec', 'production_updates') }}

),

renamed as (

    select
        cast(cik as varchar) as cik,
        cast(accession as varchar) as accession,
        cast(form as varchar) as form,
        cast(filed_date as date) as filed_date,
        cast(document as varchar) as document,
        cast(source_url as varchar) as source_url,
        cast(period_month as date) as month_start,
        -- the release's own month (a figure for another month comes from one of its columns);
        -- batches staged before this column existed read null
        cast(document_month as date) as document_month_start,
        cast(metric as varchar) as metric,
        cast(hashrate_kind as varchar) as hashrate_kind,
        cast(value as double) as value,
        cast(reported_value as double) as reported_value,
        cast(reported_unit as varchar) as reported_unit,
        cast(evidence as varchar) as evidence,
        cast(method as varchar) as parse_method,
        cast(logical_date as date) as staged_for_date,
        raw_key,

    from source

)

select * from renamed
