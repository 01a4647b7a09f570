{#- One figure per company, month, metric and kind: parsed releases and reviewed overrides; when
    several documents give the same figure (an amendment, a later restatement), the latest filed
    wins. -#}
with

parsed as (

    select * from {{ ref('stg_sec__production_updates') }}

),

overrides as (

    select * from {{ ref('production_overrides') }}

),

miners as (

    -- one row per ticker and CIK: a ticker can have several membership periods
    select distinct
        ticker,
        cik,
    from {{ ref('miners') }}

),

from_parsed as (

    select
        miners.ticker,
        parsed.month_start,
        parsed.metric,
        parsed.hashrate_kind,
        parsed.value,
        parsed.source_url,
        parsed.accession,
        parsed.evidence,
        parsed.filed_date,
        'parsed:' || parsed.parse_method as figure_source,
        parsed.staged_for_date,
        coalesce(parsed.document_month_start = parsed.month_start, true) as is_own_month,

    from parsed
    inner join miners on parsed.cik = miners.cik

),

from_overrides as (

    select
        ticker,
        month_start,
        metric,
        hashrate_kind,
        value,
        source_url,
        accession,
        evidence,
        cast(null as date) as filed_date,
        'reviewed_override' as figure_source,
        cast(null as date) as staged_for_date,
        true as is_own_month,

    from overrides

),

unioned as (

    select * from from_parsed
    union all
    select * from from_overrides

),

latest as (

    select *
    from unioned
    qualify
        row_number() over (
            partition by ticker, month_start, metric, coalesce(hashrate_kind, '')
            -- a month's own release (or its amendment) beats another month's column restating it
            order by
                figure_source = 'reviewed_override' desc,
                is_own_month desc,
                filed_date desc nulls last,
                staged_for_date desc nulls last,
                accession desc
        ) = 1

)

select * from latest
