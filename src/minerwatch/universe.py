"""The tracked miner universe: the reviewed seed ``seeds/miners.csv`` of the dbt project
(``MINERWATCH_DBT_PROJECT_DIR``, default ``dbt_project/``)."""

from __future__ import annotations

import csv
import shutil
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


def copy_project(dest: Path, miners_rows: list[dict[str, str]]) -> Path:
    """A copy of the dbt project whose miners seed is ``miners_rows`` (same columns as the
    seed): point MINERWATCH_DBT_PROJECT_DIR at it to track another group with the same models
    (the benchmark's 10x universe, the backfill test's three miners)."""
    source = load().dbt_project_dir
    shutil.copytree(
        source, dest, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml")
    )
    with (source / "seeds" / "miners.csv").open(newline="") as fh:
        fields = csv.DictReader(fh).fieldnames
    with (dest / "seeds" / "miners.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(miners_rows)
    return dest
