"""Real data: the Coin Metrics rows of ../shared/refdata (2023-10-01..2024-03-31, from Coin
Metrics' published btc.csv) served through the replay server in the real API format, run through
extract → GX → stage → dbt, and the mart checked against values computed here from the CSV.

Heights need the history from genesis, which the reference file does not have. The test puts a
synthetic prefix (2009-01-03..2023-09-30) in front, labelled as such, whose block total H0 is the
height implied by the real supply on 2023-09-30 (no coin lost): every number asserted for the real
window is either independent of H0 (prices, hash rate, supply, fees, and the subsidy, which the
real IssTotNtv confirms) or computed here from the same H0 (heights, four-year reward, difficulty).
"""

import csv
import datetime as dt
import json
import math

import duckdb
import pytest

from minerwatch import protocol, warehouse
from minerwatch.demo.replay import ReplayServer
from minerwatch.pipeline import network
from minerwatch.settings import load

pytestmark = pytest.mark.slow

CSV_NAME = "coinmetrics_btc_2023-10_2024-03.csv"
FIRST_REAL = dt.date(2023, 10, 1)
LAST_REAL = dt.date(2024, 3, 31)
METRICS = ["BlkCnt", "FeeTotNtv", "HashRate", "IssTotNtv", "PriceUSD", "SplyCur"]


def _read_refdata(refdata):
    with open(refdata / CSV_NAME, newline="") as fh:
        return list(csv.DictReader(fh))


def _difficulty_example(refdata):
    text = (
        refdata / "formats" / "mempool_v1_mining_difficulty_adjustments_1m.example.txt"
    ).read_text()
    return json.loads("\n".join(ln for ln in text.splitlines() if not ln.startswith("#")))


def _prefix(real_rows):
    """Synthetic genesis..2023-09-30 rows ending at the supply-implied height H0."""
    first = real_rows[0]
    supply_before = float(first["SplyCur"]) - float(first["IssTotNtv"])
    era3_start = 3 * protocol.HALVING_INTERVAL
    issued_before_era3 = protocol.issuance_sats(1, era3_start - 1) / 1e8
    h0 = era3_start - 1 + math.floor((supply_before - 50 - issued_before_era3) / 6.25)
    days = [
        dt.date(2009, 1, 3) + dt.timedelta(d)
        for d in range((FIRST_REAL - dt.date(2009, 1, 3)).days)
    ]
    mining_days = [d for d in days if d >= dt.date(2009, 1, 9)]
    per_day, extra = divmod(h0, len(mining_days))
    blocks_on = {d: per_day + (1 if i < extra else 0) for i, d in enumerate(mining_days)}
    rows, height, supply_sats = [], 0, protocol.subsidy_sats(0)
    for d in days:
        n = blocks_on.get(d, 0)
        issued = protocol.issuance_sats(height + 1, height + n)
        height += n
        supply_sats += issued
        rows.append(
            {
                "time": d.isoformat(),
                "BlkCnt": str(n),
                "FeeTotNtv": "0",
                "HashRate": first["HashRate"],
                "IssTotNtv": f"{issued / 1e8:.8f}",
                # Coin Metrics prices from 2010-07-18 (the real history has them; this prefix is
                # synthetic, so it carries the first real day's price from then on)
                "PriceUSD": first["PriceUSD"] if d >= dt.date(2010, 7, 18) else "",
                "SplyCur": f"{supply_sats / 1e8:.8f}",
            }
        )
    assert height == h0
    return rows, h0


@pytest.fixture
def real_server(refdata, tmp_path, monkeypatch):
    real = _read_refdata(refdata)
    prefix, h0 = _prefix(real)
    rec = tmp_path / "recording"
    (rec / "coinmetrics").mkdir(parents=True)
    (rec / "mempool").mkdir()
    with open(rec / "coinmetrics" / "btc.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["time", *METRICS])
        w.writeheader()
        w.writerows(prefix)
        w.writerows({k: r[k] for k in ["time", *METRICS]} for r in real)
    adjustments = _difficulty_example(refdata) + [[1231006505, 0, 1.0, 0.0]]
    (rec / "mempool" / "difficulty-adjustments.json").write_text(json.dumps(adjustments))
    with ReplayServer(rec) as server:
        for k, v in server.env().items():
            monkeypatch.setenv(k, v)
        yield server, real, h0, adjustments


def test_mart_reproduces_the_real_coinmetrics_rows(env, real_server):
    server, real, h0, adjustments = real_server
    keys = network.extract_coinmetrics(LAST_REAL)
    network.stage_coinmetrics(LAST_REAL, keys)
    network.stage_mempool_difficulty(LAST_REAL, network.extract_mempool_difficulty(LAST_REAL))
    warehouse.build(select="+fct_network_daily")

    con = duckdb.connect(str(load().warehouse), read_only=True)
    mart = {
        r[0]: r
        for r in con.execute(
            "select date_day, block_height, block_count, hashrate_ehs, hashrate_ehs_7d, difficulty,"
            " subsidy_btc, fees_btc, price_usd, supply_btc, remaining_btc, remaining_btc_value_usd,"
            " four_year_reward_btc, four_year_reward_usd, hashprice_usd_per_ehs_day,"
            " hashprice_subsidy_usd_per_ehs_day from marts.fct_network_daily where date_day >= ?",
            [FIRST_REAL],
        ).fetchall()
    }
    con.close()
    assert len(mart) == len(real) == 183

    by_height = sorted((a[1], a[2]) for a in adjustments)
    height, hashrates = h0, []
    for i, row in enumerate(real):
        day = dt.date.fromisoformat(row["time"])
        got = mart[day]
        blocks = int(row["BlkCnt"])
        height += blocks
        ehs = float(row["HashRate"]) / 1e6
        hashrates.append(ehs)
        price, supply = float(row["PriceUSD"]), float(row["SplyCur"])
        issued, fees = float(row["IssTotNtv"]), float(row["FeeTotNtv"])
        four_year = protocol.four_year_reward_btc(height)
        known = [d for h, d in by_height if h <= height]
        expected = {
            1: height,
            2: blocks,
            3: ehs,
            5: known[-1],
            6: issued,
            7: fees,
            8: price,
            9: supply,
            10: 21e6 - supply,
            11: (21e6 - supply) * price,
            12: four_year,
            13: four_year * price,
            14: (issued + fees) * price / ehs,
            15: issued * price / ehs,
        }
        if i >= 6:
            expected[4] = sum(hashrates[-7:]) / 7
        for col, value in expected.items():
            assert got[col] == pytest.approx(value, rel=1e-12), (day, col, got[col], value)

    # spot checks against the raw CSV text, independent of any formula above
    oct1 = mart[FIRST_REAL]
    assert oct1[3] == pytest.approx(400361634.0935395330846888917456906285882 / 1e6, rel=1e-12)
    assert oct1[8] == pytest.approx(27950.1453594389, rel=1e-12)
    assert oct1[6] == 881.25  # 141 blocks × 6.25: the real IssTotNtv equals the subsidy by height
    assert mart[dt.date(2023, 12, 24)][5] == 72006146478567.1  # retarget at 822,528 (mempool docs)
