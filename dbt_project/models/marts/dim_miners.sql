with

miners as (

    select * from {{ ref('miners') }}

),

cik_checks as (

    select * from {{ ref('stg_sec__cik_checks') }}
    qualify staged_for_date = max(staged_for_date) over ()

),

final as (

    select
        miners.ticker,
        miners.cik,
        miners.company_name,
        miners.exchange,
        miners.filer_type,
        miners.listing_type,
        miners.ads_ratio,
        miners.member_from,
        miners.member_to,
        coalesce(cik_checks.cik_check_status, 'not_checked') as cik_check_status,
        cik_checks.sec_cik,
        miners.cik_reference,
        'seeds/miners.csv' as source,

    from miners
    left join cik_checks on cik_checks.ticker = miners.ticker

)

select * from final
