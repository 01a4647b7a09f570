"""The tracked miner universe: the reviewed seed ``seeds/miners.csv`` of the dbt project
(``MINERWATCH_DBT_PROJECT_DIR``, default ``dbt_project/``)."""

from __future__ import annotations

import csv
from pathlib import Path

from minerwatch.lake import key_part
from minerwatch.settings import load

BITCOIN_TICKER = "BTC-USD"


def seed_path() -> Path:
    return load().dbt_project_dir / "seeds" / "miners.csv"


def miners(path: Path | None = None) -> list[dict[str, str]]:
    with open(path or seed_path(), newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        key_part(row["ticker"], "ticker")  # tickers become object-key parts
    return rows


def price_tickers(path: Path | None = None) -> list[str]:
    """Every miner's ticker plus BTC-USD (the market's own bitcoin series)."""
    return [m["ticker"] for m in miners(path)] + [BITCOIN_TICKER]
