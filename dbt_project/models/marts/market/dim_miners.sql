{#- One row per tracked company per membership period (seeds/miners.csv): a ticker has several
    rows when it left the group and came back, when the listed company behind it changed (a new
    CIK), or when its filer status or ADS ratio changed. The latest CIK check against SEC's
    ticker map is shown on the ticker's current period. -#}
with

periods as (

    select * from {{ ref('miners') }}

),

cik_checks as (

    select * from {{ ref('stg_sec__cik_checks') }}
    qualify staged_for_date = max(staged_for_date) over ()

),

final as (

    select
        periods.ticker,
        periods.cik,
        periods.company_name,
        periods.exchange,
        periods.filer_type,
        periods.listing_type,
        periods.ads_ratio,
        periods.member_from,
        periods.member_to,
        periods.member_to is null as is_current_member,
        case
            when periods.member_to is not null then 'period_ended'
            else coalesce(cik_checks.cik_check_status, 'not_checked')
        end as cik_check_status,
        case when periods.member_to is null then cik_checks.sec_cik end as sec_cik,
        periods.membership_source,
        periods.cik_source,
        periods.note,
        'seeds/miners.csv' as source,

    from periods
    left join cik_checks on periods.ticker = cik_checks.ticker

)

select * from final
