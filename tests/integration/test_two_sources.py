"""The two network sources held together, on the real files of ../shared/refdata: Coin Metrics'
daily file from genesis to 2024-05-31 (served through the API path) and mempool.space's real
saved `/api/v1/mining/hashrate/all` response (served at `/api/v1/mining/hashrate/<period>`, with
its retargets at `/api/v1/mining/difficulty-adjustments`). The network extract/stage runs for
2024-05-31 and `dbt build +fct_network_daily`; the mart's hashrate_ehs_mempool is checked
against values computed here from the JSON (each bucket on the day before its end-of-window
stamp), and the tolerance between the sources (1 % over 30-day means, since 2011) against every
real day — with the measured divergence, and the misaligned reading that the tolerance rejects."""

import csv
import datetime as dt
import json
import logging
import shutil

import duckdb
import pandas as pd
import pytest

from minerwatch import publish, warehouse
from minerwatch.demo.refdata import difficulty_adjustments
from minerwatch.demo.replay import ReplayServer
from minerwatch.pipeline import network
from minerwatch.quality import reconcile, validate_frame
from minerwatch.settings import load

pytestmark = pytest.mark.slow

DAY = dt.date(2024, 5, 31)
GENESIS_CSV = "coinmetrics_btc_2009-01-03_2024-05-31.csv"
MEMPOOL_JSON = "mempool_hashrate_all_2009-01-03_2024-05-31.json"


@pytest.fixture
def real_server(refdata, tmp_path, monkeypatch):
    rec = tmp_path / "recording"
    (rec / "coinmetrics").mkdir(parents=True)
    (rec / "mempool").mkdir()
    shutil.copyfile(refdata / GENESIS_CSV, rec / "coinmetrics" / "btc.csv")  # as published
    shutil.copyfile(refdata / MEMPOOL_JSON, rec / "mempool" / "hashrate-all.json")  # as saved
    adjustments = difficulty_adjustments(refdata)  # the real retargets, in the API's shape
    (rec / "mempool" / "difficulty-adjustments.json").write_text(json.dumps(adjustments))
    with ReplayServer(rec) as server:
        for k, v in server.env().items():
            monkeypatch.setenv(k, v)
        yield server


def _expected_mempool(refdata) -> dict[dt.date, float]:
    """EH/s per UTC day, computed here: a bucket stamped at 00:00Z ends the 24 h window of the
    day before; the first entry (the genesis block's own time, 18:15:05Z) is no daily window."""
    out = {}
    for item in json.loads((refdata / MEMPOOL_JSON).read_text())["hashrates"]:
        end = dt.datetime.fromtimestamp(item["timestamp"], tz=dt.UTC)
        if end.time() != dt.time(0):
            assert item["timestamp"] == 1231006505  # only the genesis entry
            continue
        out[end.date() - dt.timedelta(days=1)] = item["avgHashrate"] / 1e18
    return out


def _divergence_30d(days: pd.DataFrame, col_a: str, col_b: str) -> pd.Series:
    """|mean_b / mean_a − 1| over the 30 days ending on each day, full windows, from 2011."""
    s = days.set_index(pd.to_datetime(days["date_day"])).sort_index()
    mean_a, mean_b = s[col_a].rolling("30D").mean(), s[col_b].rolling("30D").mean()
    full = (s[col_a].rolling("30D").count() == 30) & (s[col_b].rolling("30D").count() == 30)
    return (mean_b / mean_a - 1).abs()[full & (s.index >= "2011-01-01")]


def test_the_mart_holds_both_sources_and_they_agree_within_the_tolerance(
    env, real_server, refdata, caplog
):
    network.stage_coinmetrics(DAY, network.extract_coinmetrics(DAY))
    network.stage_mempool_difficulty(DAY, network.extract_mempool_difficulty(DAY))
    batch = network.extract_mempool_hashrate(DAY, today=DAY + dt.timedelta(days=1))
    assert "/api/v1/mining/hashrate/all" in real_server.requests  # an empty lake: everything
    network.stage_mempool_hashrate(DAY, batch)
    warehouse.build(select="+fct_network_daily")

    con = duckdb.connect(str(load().warehouse), read_only=True)
    try:
        mart = con.execute(
            "select date_day, hashrate_ehs, hashrate_ehs_mempool, source, hashrate_mempool_raw_key "
            "from marts.fct_network_daily order by date_day"
        ).df()
        full = con.execute("select * from marts.fct_network_daily order by date_day").df()
    finally:
        con.close()
    mart["date_day"] = pd.to_datetime(mart["date_day"]).dt.date
    assert len(mart) == 5628 and mart["date_day"].iloc[-1] == DAY

    # hashrate_ehs_mempool = avgHashrate / 1e18 on the day each bucket covers, every real day
    expected = _expected_mempool(refdata)
    assert len(expected) == 5627 and max(expected) == DAY - dt.timedelta(days=1)
    by_day = mart.set_index("date_day")
    for day, value in expected.items():
        assert by_day.at[day, "hashrate_ehs_mempool"] == pytest.approx(value, rel=1e-12), day
        assert by_day.at[day, "source"] == (
            "coinmetrics:api; mempool:difficulty_adjustments; mempool:hashrate"
        )
        assert by_day.at[day, "hashrate_mempool_raw_key"] == batch["keys"][0]
    # 2024-05-31's bucket (stamped 2024-06-01T00:00Z) is not in the saved response: no value
    assert pd.isna(by_day.at[DAY, "hashrate_ehs_mempool"])
    assert by_day.at[DAY, "source"] == "coinmetrics:api; mempool:difficulty_adjustments"

    # the tolerance holds on every real day since 2011, with the divergence measured on them
    divergence = _divergence_30d(mart, "hashrate_ehs", "hashrate_ehs_mempool")
    assert len(divergence) == 4899  # 2011-01-01 .. 2024-05-30, every window full
    assert divergence.max() < reconcile.TOLERANCE
    assert divergence.max() == pytest.approx(0.00272, abs=5e-5)  # the measured worst day
    assert divergence.idxmax().date() == dt.date(2013, 7, 27)
    assert divergence.quantile(0.99) == pytest.approx(0.00168, abs=5e-5)
    # the module the audit uses computes the same divergence and finds nothing to warn about
    same = reconcile.divergence_column(mart).dropna()
    assert len(same) == 4899 and same.max() == pytest.approx(divergence.max(), rel=1e-9)
    with caplog.at_level(logging.WARNING, logger="minerwatch.quality.reconcile"):
        assert reconcile.warn_hashrate_divergence(mart) == []
    assert "diverge" not in caplog.text
    # and the mart's audit suite passes, its divergence expectation included
    outcome = validate_frame(
        publish.audit_frame("fct_network_daily", full, DAY), "mart_fct_network_daily"
    )
    assert outcome.success, outcome.summary()

    # the tolerance is not loose: the buckets on the day their stamp names (a one-day
    # misalignment) break it on about a fifth of the days
    misaligned = mart[["date_day", "hashrate_ehs"]].copy()
    misaligned["shifted"] = [expected.get(d - dt.timedelta(days=1)) for d in mart["date_day"]]
    wrong = _divergence_30d(misaligned, "hashrate_ehs", "shifted")
    assert (wrong > reconcile.TOLERANCE).mean() > 0.15


def test_a_divergence_beyond_the_tolerance_is_a_loud_warning_naming_days_and_values(caplog):
    days = pd.date_range("2024-01-01", "2024-03-31").date
    frame = pd.DataFrame({"date_day": days, "hashrate_ehs": 500.0, "hashrate_ehs_mempool": 500.0})
    frame.loc[frame["date_day"] >= dt.date(2024, 3, 1), "hashrate_ehs_mempool"] = 545.0
    with caplog.at_level(logging.WARNING, logger="minerwatch.quality.reconcile"):
        stretches = reconcile.warn_hashrate_divergence(frame)
    # a 9 % step: the 30-day mean is 1.2 % off after 4 days (0.9 % after 3), then stays beyond
    assert len(stretches) == 1
    s = stretches[0]
    assert (s["first_day"], s["last_day"], s["days"]) == (
        dt.date(2024, 3, 4),
        dt.date(2024, 3, 31),
        28,
    )
    worst = s["worst"]
    assert worst["date_day"] >= dt.date(2024, 3, 30)  # the windows wholly after the step
    assert worst["coinmetrics_ehs_30d"] == pytest.approx(500.0)
    assert worst["mempool_ehs_30d"] == pytest.approx(545.0)
    assert "2024-03-04..2024-03-31 (28 day(s))" in caplog.text
    assert "Coin Metrics 500.000 EH/s vs mempool.space 545.000 EH/s (+9.00 %)" in caplog.text
    assert "none chosen" in caplog.text
    # the audit's column is beyond the suite's bound on those days (severity: warning)
    column = reconcile.divergence_column(frame)
    assert column[frame["date_day"] == dt.date(2024, 3, 31)].iloc[0] == pytest.approx(0.09)
    assert column[frame["date_day"] == dt.date(2024, 2, 29)].iloc[0] == pytest.approx(0.0)


def test_the_real_files_are_what_the_yaml_says(refdata):
    # the numbers quoted beside the tolerance (models/marts/_marts__models.yml) come from here
    with open(refdata / GENESIS_CSV, newline="") as fh:
        cm = {
            dt.date.fromisoformat(r["time"]): float(r["HashRate"]) / 1e6 if r["HashRate"] else None
            for r in csv.DictReader(fh)
        }
    mp = _expected_mempool(refdata)
    days = pd.DataFrame(
        {"date_day": list(cm), "a": list(cm.values()), "b": [mp.get(d) for d in cm]}
    )
    d = _divergence_30d(days, "a", "b")
    assert round(100 * d.max(), 3) == 0.272 and round(100 * d.quantile(0.99), 3) == 0.168
    assert round(100 * d.quantile(0.95), 3) == 0.097 and round(100 * d.median(), 3) == 0.026
