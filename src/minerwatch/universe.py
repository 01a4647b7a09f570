"""The tracked miner universe: the reviewed seed ``dbt_project/seeds/miners.csv``."""

from __future__ import annotations

import csv
from pathlib import Path

from minerwatch.lake import key_part
from minerwatch.settings import REPO_ROOT

SEED = REPO_ROOT / "dbt_project" / "seeds" / "miners.csv"
BITCOIN_TICKER = "BTC-USD"


def miners(path: Path = SEED) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        key_part(row["ticker"], "ticker")  # tickers become object-key parts
    return rows


def price_tickers(path: Path = SEED) -> list[str]:
    """Every miner's ticker plus BTC-USD (the market's own bitcoin series)."""
    return [m["ticker"] for m in miners(path)] + [BITCOIN_TICKER]
