"""Reading the newest staged value without reading every earlier run's partition (issue #15).

The overlap windows (Coin Metrics, mempool, pools) and the audit's freshness check read every
partition of every earlier run: after a year of daily runs, 365 files per dataset and 365 per
ticker for prices, every day. On a lake of 365 daily runs at 1× (copies of a bench run's
partitions) that was 17 s for freshness and 0.9 s for the Coin Metrics window; they now read the
newest partitions only (0.8 s, 0.04 s), with the same answer."""

import datetime as dt
import logging

import pandas as pd
import pytest

from minerwatch import freshness
from minerwatch.lake import Lake
from minerwatch.pipeline import network, staging
from minerwatch.settings import load

DAY = dt.date(2024, 6, 29)


@pytest.fixture
def lake(tmp_path):
    return Lake(load({"MINERWATCH_LAKE_URL": f"file://{tmp_path / 'lake'}"}))


def _window(last: dt.date, n: int = 8) -> list[dt.date]:
    return [last - dt.timedelta(days=i) for i in range(n)]


def _daily_runs(lake: Lake, days: int = 40) -> None:
    """``days`` daily runs, each staging an 8-day window ending on its date (the source one day
    behind on the newest run, as Coin Metrics is before it finishes a day)."""
    for i in range(days):
        run = DAY - dt.timedelta(days=i)
        last = run - dt.timedelta(days=1) if i == 0 else run
        for source, dataset in (
            ("coinmetrics", "btc_asset_metrics"),
            ("mempool", "hashrate_daily"),
        ):
            lake.write_staged(source, dataset, run, pd.DataFrame({"date_day": _window(last)}))
        for ticker in ("MARA", "BTC-USD"):
            rows = pd.DataFrame({"date_day": _window(run), "ticker": ticker})
            lake.write_staged("market", "prices_daily", run, rows, {"ticker": ticker})


def _full_scan(lake, source, dataset, through, keep=None):
    values = []
    for d, key in lake.staged_partitions(source, dataset):
        if d <= through:
            df = lake.read_parquet(key)
            df = keep(df) if keep else df
            values.extend(pd.to_datetime(df["date_day"]))
    return max(values) if values else None


@pytest.fixture
def reads(lake, monkeypatch):
    seen: list[str] = []
    original = lake.read_parquet

    def counting(key):
        seen.append(key)
        return original(key)

    monkeypatch.setattr(lake, "read_parquet", counting)
    return seen


def test_the_newest_partitions_only_give_the_full_scans_answer(lake, reads):
    _daily_runs(lake)
    for through in (DAY, DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=20)):
        for source, dataset in (("coinmetrics", "btc_asset_metrics"), ("market", "prices_daily")):
            reads.clear()
            got = staging.newest_staged(lake, source, dataset, through, "date_day")
            assert got == _full_scan(lake, source, dataset, through)
    # the newest Coin Metrics run is a day behind its date, which is the run before's date: that
    # run cannot hold a newer day, so one partition is read
    reads.clear()
    staging.newest_staged(lake, "coinmetrics", "btc_asset_metrics", DAY, "date_day")
    assert len(reads) == 1


def test_windows_and_freshness_read_one_or_two_runs_not_forty(lake, reads):
    _daily_runs(lake)
    reads.clear()
    assert network.network_window(lake, DAY + dt.timedelta(days=1)) == (
        DAY - dt.timedelta(days=network.OVERLAP_DAYS), DAY + dt.timedelta(days=1)
    )  # fmt: skip
    assert network.mempool_hashrate_window(lake, DAY + dt.timedelta(days=1))[
        0
    ] == DAY - dt.timedelta(days=network.OVERLAP_DAYS)
    assert len(reads) == 2  # one run of each
    reads.clear()
    found = {f.source: f.newest for f in freshness.measure(lake, DAY, dict(load().max_lag_days))}
    assert found == {"coinmetrics": DAY - dt.timedelta(days=1), "mempool": DAY - dt.timedelta(days=1),
                     "market": DAY, "sec": None}  # fmt: skip
    assert len(reads) == 1 + 1 + 2  # the newest run of each; its two tickers for prices


def test_a_newest_run_with_only_btc_usd_falls_back_to_the_run_before(lake):
    old = DAY - dt.timedelta(days=3)
    lake.write_staged("market", "prices_daily", old,
                      pd.DataFrame({"date_day": _window(old), "ticker": "MARA"}), {"ticker": "MARA"})  # fmt: skip
    lake.write_staged("market", "prices_daily", DAY,
                      pd.DataFrame({"date_day": _window(DAY), "ticker": "BTC-USD"}), {"ticker": "BTC-USD"})  # fmt: skip
    found = {f.source: f.newest for f in freshness.measure(lake, DAY, dict(load().max_lag_days))}
    assert found["market"] == old


def test_a_partition_past_its_window_makes_the_scan_read_everything(lake, reads, caplog):
    _daily_runs(lake, days=10)
    # an older run whose rows reach past its date (a source answering beyond what was asked)
    odd = DAY - dt.timedelta(days=5)
    lake.write_staged("mempool", "hashrate_daily", odd,
                      pd.DataFrame({"date_day": [DAY + dt.timedelta(days=3)]}))  # fmt: skip
    reads.clear()
    with caplog.at_level(logging.WARNING):
        got = staging.newest_staged(lake, "mempool", "hashrate_daily", DAY,
                                    "date_day")  # fmt: skip
    # through DAY the scan stops at the newest run and never sees it: the windows are what it
    # relies on (each source's request ends on the run's date)
    assert got == pd.Timestamp(DAY - dt.timedelta(days=1))
    assert "every partition is read" not in caplog.text
    reads.clear()
    got = staging.newest_staged(lake, "mempool", "hashrate_daily", odd,
                                "date_day")  # fmt: skip
    assert got == pd.Timestamp(DAY + dt.timedelta(days=3))
    assert "after its run's window: every partition is read" in caplog.text
    assert len(reads) == 1 + 4  # the odd run, then every older one


def test_pool_weeks_are_bounded_by_the_midnight_after_the_run(lake, reads):
    for i in range(20):
        run = DAY - dt.timedelta(days=i)
        end = pd.Timestamp(run + dt.timedelta(days=1), tz="UTC")  # a week ending at midnight
        weeks = pd.DataFrame({"week_end_at": [end - pd.Timedelta(days=7 * k) for k in range(3)]})
        lake.write_staged("mempool", "pool_shares_weekly", run, weeks)
    reads.clear()
    start, last = network.pool_shares_window(lake, DAY + dt.timedelta(days=1))
    assert start == dt.datetime(2024, 6, 30, tzinfo=dt.UTC) - network.POOL_SHARES_OVERLAP
    assert len(reads) == 1
