"""Members without data: a definitive "no such symbol / no data" answer is landed, not retried,
and staged as a coverage record; transient errors still retry; the audit publishes only when
enough of the group is covered; the headline and report say how many and who is missing."""

import datetime as dt

import pandas as pd
import pytest

from minerwatch import publish, warehouse
from minerwatch.demo.replay import Fault
from minerwatch.errors import SourceError
from minerwatch.lake import Lake
from minerwatch.pipeline import market
from minerwatch.pipeline import sec as sec_tasks
from minerwatch.settings import load
from minerwatch.sources import sec

DAY = dt.date(2024, 6, 30)


def _coverage(source):
    lake = Lake(load())
    return lake.read_parquet(lake.staged_key(source, "coverage", DAY))


def test_yahoo_no_data_is_landed_not_retried_and_staged_as_coverage(env, replay):
    replay.requests.clear()
    batches = [market.extract_prices(DAY, t) for t in ("MARA", "GONE")]
    gone = batches[1]
    assert gone["status"] == "no_data"
    assert "No data found, symbol may be delisted" in gone["reason"]
    assert sum("/chart/GONE" in r for r in replay.requests) == 1  # a 404 is not retried
    lake = Lake(load())
    assert b"No data found" in lake.read_bytes(gone["keys"][0])  # the answer, as it came
    staged = market.stage_prices(DAY, batches)
    assert len(staged) == 1  # MARA staged, the run goes on
    cov = _coverage(market.MARKET_SOURCE).set_index("member")
    assert cov.loc["MARA", "status"] == "landed"
    assert cov.loc["GONE", "status"] == "no_data"
    assert cov.loc["GONE", "raw_key"] == gone["keys"][0]


def test_transient_errors_still_retry(env, replay):
    replay.set_fault("/v8/finance/chart/MARA", Fault(status=503, times=2))
    batch = market.extract_prices(DAY, "MARA")
    assert batch["status"] == "landed"


def test_a_404_that_is_not_the_no_data_answer_is_an_error(env, replay):
    replay.set_fault("/v8/finance/chart/MARA", Fault(status=404, body=b"<html>gateway</html>"))
    with pytest.raises(SourceError, match="HTTP 404.*MINERWATCH_YAHOO_URL"):
        market.extract_prices(DAY, "MARA")


def test_fmp_empty_answer_is_no_data(env, replay, monkeypatch):
    monkeypatch.setenv("MINERWATCH_MARKET_PROVIDER", "fmp")
    monkeypatch.setenv("MINERWATCH_FMP_API_KEY", "k-123")
    batch = market.extract_prices(DAY, "GONE")
    assert batch["status"] == "no_data" and "FMP has no prices for GONE" in batch["reason"]


def test_sec_company_without_documents_is_named_not_fatal(env, replay, monkeypatch):
    monkeypatch.setenv("MINERWATCH_SEC_USER_AGENT", "minerwatch tests tests@example.invalid")
    replay.requests.clear()
    missing = sec_tasks.extract_sec_company(DAY, "0000000001")
    assert missing["status"] == "no_data" and "HTTP 404" in missing["reason"]
    assert sum("CIK0000000001" in r for r in replay.requests) == 1
    present = sec_tasks.extract_sec_company(DAY, "0001507605")
    sec_tasks.stage_sec(DAY, [present, missing])
    cov = _coverage(sec.SOURCE).set_index("member")
    assert cov.loc["0000000001", "status"] == "no_data"
    assert cov.loc["0001507605", "status"] == "landed"


def _sector(count, tracked, missing="", reasons=""):
    return pd.DataFrame(
        {
            "date_day": [DAY],
            "miners_count": [count],
            "miners_tracked": [tracked],
            "missing_tickers": [missing],
            "missing_reasons": [reasons],
        }
    )


def test_coverage_text_and_threshold():
    cov = publish.coverage_on(_sector(13, 14, "SDIG", "SDIG (no prices from the source)"), DAY)
    assert cov["text"] == "13 of 14 with a market cap; missing: SDIG (no prices from the source)"
    assert cov["share"] == pytest.approx(13 / 14)
    assert publish.coverage_on(_sector(13, 14), DAY - dt.timedelta(days=1)) is None


def test_headline_says_the_coverage_and_survives_missing_months():
    base = {
        "date_day": DAY,
        "block_height": 850_000,
        "hashrate_ehs_7d": 600.0,
        "difficulty": 8e13,
        "price_usd": 60_000.0,
        "hashprice_usd_per_ehs_day": 50_000.0,
        "remaining_btc": 1.3e6,
        "remaining_btc_value_usd": 7.8e10,
        "four_year_reward_usd": 4e10,
    }
    sector = {
        "sector_date": DAY,
        "miners_count": 13,
        "miners_tracked": 14,
        "missing_tickers": "SDIG",
        "missing_reasons": "SDIG (no prices from the source)",
        "sector_market_cap_usd": 2.2e10,
        "mcap_to_remaining_btc_value": 0.28,
        "mcap_to_four_year_reward": 0.55,
        "mcap_to_four_year_reward_flat": 0.56,
        "month_start": None,  # no month with returns yet
        "share_month": None,  # no hash-rate share yet (was: NaTType strftime crash)
    }
    text = warehouse.format_headline({**base, **sector}, load().warehouse)
    assert "13 of 14 priced; missing: SDIG (no prices from the source)" in text
    assert "no production updates parsed yet" in text
    assert "no month with returns yet" in text
    partial = {
        **base,
        **sector,
        "share_month": dt.date(2024, 6, 1),
        "sector_hashrate_share": 0.045,
        "hashrate_reporting_miners": 1,
        "hashrate_reporting_tickers": "MARA",
        "share_miners_tracked": 14,
        "hashrate_kinds": "operating",
    }
    text = warehouse.format_headline(partial, load().warehouse)
    assert "from 1 of 14 members (MARA): partial, not the whole group's" in text


def test_min_coverage_setting_is_validated(monkeypatch):
    from minerwatch.settings import SettingsError

    monkeypatch.setenv("MINERWATCH_MIN_COVERAGE", "1.5")
    with pytest.raises(SettingsError, match="MINERWATCH_MIN_COVERAGE"):
        load()
    monkeypatch.setenv("MINERWATCH_MIN_COVERAGE", "0.9")
    assert load().min_coverage == 0.9
