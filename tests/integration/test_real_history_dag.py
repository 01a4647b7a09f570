"""The whole DAG on the real network history: Coin Metrics' own daily file from the genesis
day to 2024-05-31 and mempool.space's real retargets (both in ../shared/refdata), served in the
sources' API formats by the replay server; market and SEC data from the SAMPLE recording (there
is no real recording of those here), with one member the price source does not list (SDIG
answers HTTP 404 "No data found, symbol may be delisted", as Yahoo does for a delisted symbol).

The run must stay green, publish, and say the coverage; the mart is checked against values this
test computes itself from the real files: heights around the four halvings, the subsidy against
IssTotNtv on every day, supply, the difficulty in force after every retarget, and hashprice in
May 2024.
"""

import csv
import datetime as dt
import json
import statistics

import duckdb
import pytest

from minerwatch import protocol, warehouse
from minerwatch.cli import run_dag
from minerwatch.demo.refdata import write_recording as real_network_recording
from minerwatch.demo.replay import ReplayServer
from minerwatch.settings import load

pytestmark = pytest.mark.slow

DAY = dt.date(2024, 5, 31)
GENESIS_CSV = "coinmetrics_btc_2009-01-03_2024-05-31.csv"
MEMPOOL_JSON = "mempool_hashrate_all_2009-01-03_2024-05-31.json"
MISSING = "SDIG"


@pytest.fixture
def real_recording(refdata, tmp_path):
    """Real network files (as published) + SAMPLE market and SEC files."""
    rec = real_network_recording(tmp_path / "recording", refdata)
    (rec / "yahoo" / f"{MISSING}.csv").unlink()  # the source no longer lists it
    return rec


@pytest.fixture
def real_rows(refdata):
    with open(refdata / GENESIS_CSV, newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_daily_dag_on_the_real_genesis_history(
    airflow_db, env, real_recording, real_rows, refdata, monkeypatch, capsys
):
    monkeypatch.setenv("MINERWATCH_SEC_USER_AGENT", "minerwatch tests tests@example.invalid")
    with ReplayServer(real_recording) as server:
        for k, v in server.env().items():
            monkeypatch.setenv(k, v)
        assert run_dag(DAY).endswith("success")
        no_data = [r for r in server.requests if f"/chart/{MISSING}?" in r]
    assert len(no_data) == 1, "a definitive no-data answer is not retried"

    settings = load()
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        mart = {
            r[0]: r[1:]
            for r in con.execute(
                "select date_day, block_height, block_count, subsidy_btc, supply_btc, difficulty,"
                " hashrate_ehs, price_usd, fees_btc, hashprice_usd_per_ehs_day,"
                " four_year_reward_flat_btc from marts.fct_network_daily order by date_day"
            ).fetchall()
        }
        sector = con.execute(
            "select miners_tracked, miners_count, missing_tickers, missing_reasons "
            "from marts.fct_sector_daily where date_day = ?",
            [DAY],
        ).fetchone()
        may = con.execute(
            "select avg_hashprice_usd_per_ehs_day, miners_count, miners_tracked, missing_tickers "
            "from marts.fct_sector_monthly where month_start = '2024-05-01'"
        ).fetchone()
    finally:
        con.close()

    # one row per real day, genesis included
    assert len(mart) == len(real_rows) == 5628
    assert min(mart) == dt.date(2009, 1, 3) and max(mart) == DAY

    height, heights = 0, {}
    for row in real_rows:
        day = dt.date.fromisoformat(row["time"])
        blocks = int(row["BlkCnt"])
        height += blocks
        heights[day] = height
        got = mart[day]
        assert got[0] == height and got[1] == blocks, day
        # the subsidy from heights equals the source's own issuance on every day
        issued = float(row["IssTotNtv"]) if row["IssTotNtv"] else 0.0
        assert got[2] == pytest.approx(issued, abs=1e-8), (day, got[2], issued)
        assert got[3] == pytest.approx(float(row["SplyCur"]), rel=1e-12), day
        assert got[9] == protocol.HALVING_INTERVAL * protocol.subsidy_btc(height)

    # the four halvings, in Coin Metrics' own day bucketing (DESIGN §7: its count crosses
    # 840,000 on 2024-04-19 although block 840,000 was mined at 00:09 UTC on 2024-04-20)
    crossing = {}
    for h in (210_000, 420_000, 630_000, 840_000):
        crossing[h] = min(d for d, v in heights.items() if v >= h)
        before = crossing[h] - dt.timedelta(days=1)
        assert mart[before][0] < h <= mart[crossing[h]][0]
    assert [crossing[h].isoformat() for h in sorted(crossing)] == [
        "2012-11-28",
        "2016-07-09",
        "2020-05-11",
        "2024-04-19",
    ]

    # the difficulty in force at the end of every day is the latest real retarget at or below
    # that day's height (every retarget of the real series is hit)
    doc = json.loads((refdata / MEMPOOL_JSON).read_text())
    retargets = sorted((d["height"], d["difficulty"]) for d in doc["difficulty"])
    seen = set()
    for day, h in heights.items():
        expected = max((r for r in retargets if r[0] <= h), key=lambda r: r[0])
        seen.add(expected[0])
        assert mart[day][4] == expected[1], (day, h)
    assert len(seen) == len(retargets)

    # hashprice in May 2024 from the raw CSV values: (issuance + fees) × price / EH/s
    daily = []
    for row in real_rows:
        if row["time"].startswith("2024-05"):
            value = (
                (float(row["IssTotNtv"]) + float(row["FeeTotNtv"]))
                * float(row["PriceUSD"])
                / (float(row["HashRate"]) / 1e6)
            )
            assert mart[dt.date.fromisoformat(row["time"])][8] == pytest.approx(value, rel=1e-12)
            daily.append(value)
    assert may[0] == pytest.approx(statistics.fmean(daily), rel=1e-12)
    assert 45_000 < may[0] < 60_000  # near the note's ~$52k/EH/s/day of June

    # coverage: the member without prices is named with why, the run stayed green
    assert sector[0] == 14 and sector[1] == 13
    assert sector[2] == MISSING
    assert sector[3] == f"{MISSING} (no prices from the source)"
    assert may[1:] == (13, 14, MISSING)
    headline = warehouse.format_headline(warehouse.headline(DAY), settings.warehouse)
    assert f"13 of 14 priced; missing: {MISSING} (no prices from the source)" in headline
    with capsys.disabled():
        print("\n" + headline)
    report = settings.warehouse.parent / "published" / "reports" / "minerwatch-2024-05.html"
    assert "13 of 14 members" in report.read_text()
