{#- One row per miner per trading day. Market cap = close as traded × the share count known that
    day (no look-ahead), that count carried across later splits so a split moves neither the
    market cap nor anything but the per-share numbers; ADS listings divide by their ratio. -#}
with

prices as (

    select * from {{ ref('int_prices_latest_batch') }}

),

periods as (

    -- one row per membership period (ticker and CIK constant within it)
    select * from {{ ref('miners') }}

),

latest_period as (

    -- a price day outside every period (before joining, after leaving) takes the ticker's
    -- latest period's CIK and listing: the issuer whose shares trade under the ticker now
    select * from periods
    qualify row_number() over (partition by ticker order by member_from desc) = 1

),

share_counts as (

    select * from {{ ref('int_share_counts_known') }}

),

miner_prices as (

    select
        prices.*,
        coalesce(periods.cik, latest_period.cik) as cik,
        case when periods.ticker is not null then periods.ads_ratio else latest_period.ads_ratio
        end as ads_ratio,
        periods.ticker is not null as is_member,

    from prices
    inner join latest_period on prices.ticker = latest_period.ticker
    left join periods
        on prices.ticker = periods.ticker
        and prices.date_day >= periods.member_from
        and (periods.member_to is null or prices.date_day <= periods.member_to)

),

with_shares as (

    select
        miner_prices.*,
        share_counts.shares_as_of_date,
        share_counts.shares_filed_date,
        share_counts.shares_reported,
        share_counts.shares_source,
        share_counts.shares_source_url,

    from miner_prices
    asof left join share_counts
        on miner_prices.ticker = share_counts.ticker
        and miner_prices.cik = share_counts.cik
        and miner_prices.date_day >= share_counts.known_from_date

),

split_factor_at_as_of as (

    select
        with_shares.*,
        coalesce(split_at_as_of.cumulative_split_factor, 1.0) as as_of_split_factor,

    from with_shares
    asof left join prices as split_at_as_of
        on with_shares.ticker = split_at_as_of.ticker
        and with_shares.shares_as_of_date >= split_at_as_of.date_day

),

final as (

    select
        ticker,
        date_day,
        cik,
        close_usd,
        adj_close_usd,
        shares_reported * cumulative_split_factor / as_of_split_factor as shares_outstanding,
        shares_reported,
        cumulative_split_factor / as_of_split_factor as shares_split_factor,
        shares_as_of_date,
        shares_filed_date,
        shares_source,
        shares_source_url,
        ads_ratio,
        close_usd * (shares_reported * cumulative_split_factor / as_of_split_factor)
        / coalesce(ads_ratio, 1.0) as market_cap_usd,
        is_member,
        provider,
        raw_key as price_raw_key,

    from split_factor_at_as_of

)

select * from final
