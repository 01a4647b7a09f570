{#- Every known share count: XBRL cover pages (latest staged revision of each filing and
    as-of date) and the reviewed overrides, each with the document it comes from. -#}
with

xbrl as (

    select * from {{ ref('stg_sec__share_counts') }}
    qualify
        row_number() over (
            partition by cik, accession, as_of_date order by staged_for_date desc
        ) = 1

),

overrides as (

    select * from {{ ref('share_count_overrides') }}

),

miners as (

    -- one row per ticker and CIK: a ticker can have several membership periods
    select distinct
        ticker,
        cik,
    from {{ ref('miners') }}

),

from_xbrl as (

    select
        miners.ticker,
        xbrl.cik,
        xbrl.as_of_date,
        xbrl.filed_date,
        xbrl.shares_outstanding,
        xbrl.accession,
        'https://www.sec.gov/Archives/edgar/data/'
        || cast(cast(xbrl.cik as bigint) as varchar)
        || '/' || replace(xbrl.accession, '-', '') || '/' as source_url,
        'xbrl:dei:EntityCommonStockSharesOutstanding' as share_count_source,

    from xbrl
    inner join miners on xbrl.cik = miners.cik

),

from_overrides as (

    select
        ticker,
        cik,
        as_of_date,
        filed_date,
        shares_outstanding,
        accession,
        source_url,
        'reviewed_override' as share_count_source,

    from overrides

),

unioned as (

    select * from from_xbrl
    union all
    select * from from_overrides

)

select * from unioned
