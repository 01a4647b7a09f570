"""SAMPLE DATA generator for the offline demo — not real market or network data.

It follows the bitcoin protocol so that every derived figure is meaningful: blocks arrive at a
Poisson rate set by hash power and difficulty (~144 a day at equilibrium), difficulty retargets
every 2016 blocks toward 600 s blocks (clamped to 4x, never below 1), the subsidy halves every
210,000 blocks and is summed by height, supply is cumulative issuance, and the reported hash rate
is estimated from difficulty and block count the way Coin Metrics estimates it. Hash power, price
and fee paths are smooth log-interpolations through rough historical anchors plus seeded noise:
realistic in scale, wrong in detail. Deterministic: the same seed gives the same days, and a
day's values do not depend on the recording's end (the days are drawn in order from genesis;
demo/market.py gives each series its own generator), so every demo run holds the same June
2024 that claims/sample_demo.yml checks.

Output (a "recording" the replay server serves in the sources' real formats):
    <dir>/coinmetrics/btc.csv                      Coin Metrics data-CSV layout
    <dir>/mempool/difficulty-adjustments.json      mempool.space response layout
    <dir>/mempool/hashrate-all.json                mempool.space /v1/mining/hashrate/all layout
    <dir>/mempool/hashrate-pools-all.json          /v1/mining/hashrate/pools/all layout (weekly)
    <dir>/yahoo/, <dir>/sec/                        prices and SEC documents (demo/market.py)
    <dir>/SAMPLE_DATA.md                            the label
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import random
from pathlib import Path

from minerwatch import protocol
from minerwatch.settings import GENESIS_DATE

FIRST_MINED_DAY = dt.date(2009, 1, 9)  # block 1 was mined on 2009-01-09
FIRST_PRICE_DAY = dt.date(2010, 7, 18)

# (date, hash power in H/s) — rough anchors for sample data only
HASHPOWER = [
    ("2009-01-09", 4.5e6),
    ("2010-07-01", 1.5e9),
    ("2011-06-01", 1.0e13),
    ("2013-01-01", 2.5e13),
    ("2014-01-01", 1.0e16),
    ("2016-01-01", 8.0e17),
    ("2018-01-01", 1.5e19),
    ("2020-01-01", 1.1e20),
    ("2021-05-01", 1.6e20),
    ("2021-07-01", 9.0e19),
    ("2022-01-01", 1.8e20),
    ("2024-01-01", 5.0e20),
    ("2024-06-01", 6.0e20),
    ("2025-06-01", 8.5e20),
    ("2026-11-01", 1.1e21),
    ("2030-01-01", 2.0e21),
]
# (date, price in USD)
PRICE = [
    ("2010-07-18", 0.09),
    ("2011-06-08", 29.0),
    ("2011-11-18", 2.2),
    ("2013-04-09", 200.0),
    ("2013-12-01", 1000.0),
    ("2015-01-14", 180.0),
    ("2017-12-17", 19000.0),
    ("2018-12-15", 3200.0),
    ("2020-03-12", 5000.0),
    ("2021-04-14", 63000.0),
    ("2021-11-10", 67000.0),
    ("2022-11-21", 16000.0),
    ("2024-03-14", 73000.0),
    ("2024-06-15", 66000.0),
    ("2025-10-06", 124000.0),
    ("2026-11-20", 95000.0),
    ("2030-01-01", 150000.0),
]
# (date, fees per block in BTC)
FEES = [
    ("2009-01-09", 0.0),
    ("2011-01-01", 0.001),
    ("2012-06-01", 0.05),
    ("2016-01-01", 0.3),
    ("2017-12-20", 3.0),
    ("2019-01-01", 0.2),
    ("2021-04-20", 1.5),
    ("2022-06-01", 0.1),
    ("2023-05-08", 1.0),
    ("2024-04-20", 0.6),
    ("2025-01-01", 0.04),
    ("2030-01-01", 0.05),
]


def _interp_log(anchors: list[tuple[str, float]], day: dt.date) -> float:
    pts = [(dt.date.fromisoformat(d), v) for d, v in anchors]
    if day <= pts[0][0]:
        return pts[0][1]
    for (d0, v0), (d1, v1) in zip(pts, pts[1:], strict=False):
        if d0 <= day <= d1:
            w = (day - d0).days / (d1 - d0).days
            if v0 <= 0 or v1 <= 0:
                return v0 + w * (v1 - v0)
            return math.exp(math.log(v0) + w * (math.log(v1) - math.log(v0)))
    return pts[-1][1]


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 60:  # normal approximation, plenty for a day's block count
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    threshold, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= threshold:
            return k
        k += 1


def generate_days(end: dt.date, seed: int = 20090103) -> tuple[list[dict], list[list]]:
    """Daily rows genesis..end and the difficulty adjustments (oldest first)."""
    rng = random.Random(seed)
    height = 0  # genesis block, mined 2009-01-03, excluded from BlkCnt like Coin Metrics does
    difficulty = 1.0
    epoch_start_s = dt.datetime(2009, 1, 3, 18, 15, 5, tzinfo=dt.UTC).timestamp()
    adjustments = [[int(epoch_start_s), 0, 1.0, 0.0]]
    supply_sats = protocol.subsidy_sats(0)
    hp_noise = price_noise = 0.0
    rows = []
    day = GENESIS_DATE
    while day <= end:
        day_start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()
        hp_noise = 0.9 * hp_noise + rng.gauss(0, 0.03)
        price_noise = 0.97 * price_noise + rng.gauss(0, 0.025)
        hashpower = _interp_log(HASHPOWER, day) * math.exp(hp_noise)
        blocks = 0
        if day >= FIRST_MINED_DAY:
            lam = hashpower * 86400 / (difficulty * 2**32)
            blocks = _poisson(rng, lam)
        issued_sats = 0
        diff_sum = 0.0
        for i in range(blocks):
            height += 1
            block_time = day_start + (i + 0.5) * 86400 / blocks
            if height % protocol.DIFFICULTY_EPOCH == 0:
                actual = max(1.0, block_time - epoch_start_s)
                target = protocol.DIFFICULTY_EPOCH * protocol.TARGET_BLOCK_SECONDS
                ratio = min(4.0, max(0.25, target / actual))
                new = max(1.0, difficulty * ratio)
                adjustments.append([int(block_time), height, new, new / difficulty])
                difficulty = new
                epoch_start_s = block_time
            issued_sats += protocol.subsidy_sats(height)
            diff_sum += difficulty
        supply_sats += issued_sats
        hashrate_ths = (diff_sum * 2**32 / 86400) / 1e12
        price = None
        if day >= FIRST_PRICE_DAY:
            price = _interp_log(PRICE, day) * math.exp(price_noise)
        fees = _interp_log(FEES, day) * blocks * math.exp(rng.gauss(0, 0.2))
        rows.append(
            {
                "time": day.isoformat(),
                "BlkCnt": blocks,
                "FeeTotNtv": f"{fees:.8f}",
                "HashRate": repr(hashrate_ths),
                "IssTotNtv": f"{issued_sats / 1e8:.8f}",
                "PriceUSD": "" if price is None else f"{price:.10g}",
                "SplyCur": f"{supply_sats / 1e8:.8f}",
            }
        )
        day += dt.timedelta(days=1)
    return rows, adjustments


LABEL = """# SAMPLE DATA — not real

Generated by `minerwatch sample` (src/minerwatch/demo/sample.py) for the offline demo. It
follows the bitcoin protocol (Poisson block arrivals, 2016-block retargets, halvings by height)
but the hash power, price and fee paths are invented around rough anchors. Miner prices, splits,
share counts and filings (src/minerwatch/demo/market.py) are invented too. Do not quote these
figures.
"""


# invented pools (SAMPLE): a name and a weight around which each week's share moves
SAMPLE_POOLS = [("Sample Pool A", 0.28), ("Sample Pool B", 0.22), ("Sample Pool C", 0.14),
                ("Sample Pool D", 0.11), ("Sample Pool E", 0.09), ("Sample Pool F", 0.07),
                ("Sample Pool G", 0.05), ("Sample Pool H", 0.04)]  # fmt: skip
POOLS_FROM = dt.date(2022, 1, 3)  # a Monday: the first week of the sample's pool statistics


def pool_weeks(rows: list[dict], seed: int) -> list[dict]:
    """``/v1/mining/hashrate/pools/all`` in mempool's shape for the SAMPLE network: one bucket
    per pool per week, stamped Monday 00:00 UTC at the END of its 7-day window, shares summing
    to 1, avgHashrate = share × the week's mean hash rate (H/s). Each week's shares depend only
    on the week (not on the run date), like the rest of the sample."""
    by_day = {r["time"][:10]: float(r["HashRate"] or 0) * 1e12 for r in rows}
    out, end = [], POOLS_FROM + dt.timedelta(days=7)
    while True:
        days = [(end - dt.timedelta(days=i)).isoformat() for i in range(1, 8)]
        if days[0] not in by_day:  # the week is not over in the sample
            break
        rng = random.Random(f"{seed}-pools-{end.isoformat()}")
        weights = [w * math.exp(rng.gauss(0, 0.08)) for _, w in SAMPLE_POOLS]
        total, mean_hs = sum(weights), sum(by_day[d] for d in days) / 7
        stamp = int(dt.datetime(end.year, end.month, end.day, tzinfo=dt.UTC).timestamp())
        for (name, _), w in zip(SAMPLE_POOLS, weights, strict=True):
            share = math.floor(w / total * 1e6) / 1e6  # never summing above 1
            out.append({"timestamp": stamp, "avgHashrate": share * mean_hs, "share": share,
                        "poolName": name})  # fmt: skip
        end += dt.timedelta(days=7)
    return out


def write_recording(directory: Path, end: dt.date, seed: int = 20090103) -> Path:
    from minerwatch.demo.market import write_market_recording

    rows, adjustments = generate_days(end, seed)
    cm = directory / "coinmetrics"
    mp = directory / "mempool"
    cm.mkdir(parents=True, exist_ok=True)
    mp.mkdir(parents=True, exist_ok=True)
    with (cm / "btc.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    newest_first = list(reversed(adjustments))
    (mp / "difficulty-adjustments.json").write_text(json.dumps(newest_first))
    # mempool's daily hash rate: each bucket stamped with the END of the UTC day it covers
    ends = [dt.datetime.fromisoformat(r["time"]).replace(tzinfo=dt.UTC) + dt.timedelta(days=1)
            for r in rows]  # fmt: skip
    rates = [{"timestamp": int(e.timestamp()), "avgHashrate": float(r["HashRate"] or 0) * 1e12}
             for e, r in zip(ends, rows, strict=True)]  # fmt: skip
    (mp / "hashrate-all.json").write_text(json.dumps({"hashrates": rates, "difficulty": []}))
    (mp / "hashrate-pools-all.json").write_text(json.dumps(pool_weeks(rows, seed)))
    write_market_recording(directory, rows, end)
    (directory / "SAMPLE_DATA.md").write_text(LABEL)
    return directory
