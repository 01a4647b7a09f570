"""Source freshness in the audit: a stale source names itself and its newest day."""

import datetime as dt

import pandas as pd
import pytest

from minerwatch import freshness
from minerwatch.lake import Lake
from minerwatch.settings import MAX_LAG_DAYS, SettingsError, load


@pytest.fixture
def lake(tmp_path):
    settings = load({"MINERWATCH_LAKE_URL": f"file://{tmp_path / 'lake'}"})
    return Lake(settings)


def _stage(lake, run_day, cm_last, mp_last, px_last):
    def days(last, n=5):
        return [last - dt.timedelta(days=i) for i in range(n)]

    lake.write_staged(
        "coinmetrics", "btc_asset_metrics", run_day, pd.DataFrame({"date_day": days(cm_last)})
    )
    lake.write_staged(
        "mempool", "hashrate_daily", run_day, pd.DataFrame({"date_day": days(mp_last)})
    )
    prices = pd.DataFrame({"date_day": days(px_last), "ticker": "MARA"})
    btc = pd.DataFrame({"date_day": days(run_day), "ticker": "BTC-USD"})
    lake.write_staged("market", "prices_daily", run_day, prices, {"ticker": "MARA"})
    lake.write_staged("market", "prices_daily", run_day, btc, {"ticker": "BTC-USD"})
    lake.write_staged("sec", "filings", run_day, pd.DataFrame({"filing_date": [run_day]}))


def test_fresh_sources_pass(lake):
    day = dt.date(2025, 1, 12)  # a Sunday; the newest NYSE session on or before it: Fri 10th
    _stage(lake, day, day - dt.timedelta(days=1), day, dt.date(2025, 1, 10))
    assert freshness.check(lake, day, MAX_LAG_DAYS) == []
    market = {f.source: f for f in freshness.measure(lake, day, MAX_LAG_DAYS)}["market"]
    assert market.expected == dt.date(2025, 1, 10) and market.lag_days == 0


def test_stale_coinmetrics_and_market_name_source_and_newest_day(lake):
    day = dt.date(2025, 1, 14)
    # BTC-USD trades every day and must not hide a stale miner price series
    _stage(lake, day, dt.date(2025, 1, 10), day, dt.date(2025, 1, 8))
    failures = freshness.check(lake, day, MAX_LAG_DAYS)
    assert len(failures) == 2, failures
    assert failures[0].startswith("stale source coinmetrics: newest day 2025-01-10")
    # expected Tue 14th; the 9th was closed (national day of mourning): 6 days behind
    assert (
        "market: newest day 2025-01-08" in failures[1]
        and "6 day(s) behind 2025-01-14" in failures[1]
    )


def test_nothing_staged_is_warned_not_failed(lake, caplog):
    """A source never staged in this lake (a partial pipeline, a backfill before its first
    batch) is not stale: the audit warns and goes on; in a DAG run every source stages first."""
    import logging

    with caplog.at_level(logging.WARNING, logger="minerwatch.freshness"):
        failures = freshness.check(lake, dt.date(2025, 1, 14), MAX_LAG_DAYS)
    assert failures == []
    assert caplog.text.count("freshness not checked") == 4


def test_max_lag_setting():
    assert load({}).max_lag_days == MAX_LAG_DAYS
    assert (
        load({"MINERWATCH_MAX_LAG_DAYS": "coinmetrics=5, sec=30"}).max_lag_days["coinmetrics"] == 5
    )
    with pytest.raises(SettingsError, match="MINERWATCH_MAX_LAG_DAYS"):
        load({"MINERWATCH_MAX_LAG_DAYS": "yahoo=3"})
