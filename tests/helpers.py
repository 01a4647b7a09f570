"""Helpers shared by tests."""

from __future__ import annotations

import csv

METRICS = ("PriceUSD", "HashRate", "SplyCur", "IssTotNtv", "FeeTotNtv", "BlkCnt")


def cm_rows(recording_dir, start: str, end: str) -> list[dict]:
    """Rows of the replay recording start..end in Coin Metrics' API item shape, to mutate and
    serve back as a faulty page."""
    with open(recording_dir / "coinmetrics" / "btc.csv") as fh:
        rows = [r for r in csv.DictReader(fh) if start <= r["time"] <= end]
    out = []
    for r in rows:
        item = {"asset": "btc", "time": r["time"] + "T00:00:00.000000000Z"}
        item.update({m: r[m] for m in METRICS if r[m] != ""})
        out.append(item)
    return out
