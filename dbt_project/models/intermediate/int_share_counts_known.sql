{#- Point in time: on any day, the count in force is, among filings filed on or before that day,
    the one with the latest as-of date (ties: the later filing), per ticker and CIK (a ticker whose
    issuer changed, e.g. HUT after the 2023 merger, takes only its issuer's counts). Ordered by
    filing date, each row carries the best count known once it is filed — a later filing with an
    older as-of date never replaces a newer count. Downstream joins ASOF on filed_date <= day: no
    look-ahead. -#}
-- `best.<field>` reads a field of the struct column `best`; SQLFluff takes `best` for a table.
-- noqa: disable=RF03
with

share_counts as (

    select * from {{ ref('int_share_counts_unioned') }}

),

best_so_far as (

    select
        ticker,
        cik,
        filed_date,
        arg_max(
            {
                'as_of_date': as_of_date,
                'filed_date': filed_date,
                'shares_outstanding': shares_outstanding,
                'accession': accession,
                'source_url': source_url,
                'share_count_source': share_count_source
            },
            {'as_of_date': as_of_date, 'filed_date': filed_date}
        ) over (
            partition by ticker, cik order by filed_date
            rows between unbounded preceding and current row
        ) as best,

    from share_counts

),

one_per_filing_day as (

    select *
    from best_so_far
    qualify
        row_number() over (
            partition by ticker, cik, filed_date order by best.as_of_date desc, best.filed_date desc
        ) = 1

),

final as (

    select
        ticker,
        cik,
        filed_date as known_from_date,
        best.as_of_date as shares_as_of_date,
        best.filed_date as shares_filed_date,
        best.shares_outstanding as shares_reported,
        best.accession as shares_source,
        best.source_url as shares_source_url,
        best.share_count_source,

    from one_per_filing_day

)

select * from final
