"""The tracked miner universe: the reviewed seed ``seeds/miners.csv`` of the dbt project
(``MINERWATCH_DBT_PROJECT_DIR``, default ``dbt_project/``).

The seed has one row per membership period: a company is in the group while its shares trade
on a US national exchange under the tracked ticker, from ``member_from`` to ``member_to``
(inclusive; empty = still a member). Ticker, CIK, filer type, listing type and ADS ratio are
constant within a row, so a ticker can have several rows (CORZ left Nasdaq in chapter 11 and
came back; HUT changed CIK with the Hut 8 Corp merger; IREN changed filer status). Periods of
one ticker never overlap. docs/universe.md cites every change."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

from minerwatch.lake import key_part
from minerwatch.settings import load

BITCOIN_TICKER = "BTC-USD"

DateLike = dt.date | str | None


def seed_path() -> Path:
    return load().dbt_project_dir / "seeds" / "miners.csv"


def _date(value: dt.date | str, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a YYYY-MM-DD date") from None


def _optional_date(value: DateLike, what: str) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _date(value, what)


def cik10(value: str) -> str:
    """A CIK as the 10-digit, zero-padded string SEC URLs use."""
    text = str(value).strip()
    if not text.isdigit() or len(text) > 10:
        raise ValueError(f"CIK {value!r} is not 1-10 digits")
    return text.zfill(10)


def miners(path: Path | None = None) -> list[dict[str, str]]:
    """Every row of the seed (one per membership period), as strings, in seed order."""
    source = path or seed_path()
    with open(source, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for i, row in enumerate(rows, start=2):  # line 1 is the header
        where = f"{source}:{i}"
        key_part(row["ticker"], "ticker")  # tickers become object-key parts
        start = _date(row["member_from"], f"{where} member_from")
        end = _optional_date(row.get("member_to"), f"{where} member_to")
        if end is not None and end < start:
            raise ValueError(f"{where}: member_to {end} is before member_from {start}")
    return rows


def _bounds(row: dict[str, str]) -> tuple[dt.date, dt.date | None]:
    return (
        _date(row["member_from"], "member_from"),
        _optional_date(row.get("member_to"), "member_to"),
    )


def periods_overlapping(
    start: DateLike = None, end: DateLike = None, path: Path | None = None
) -> list[dict[str, str]]:
    """The periods that share at least one day with ``start``..``end`` (both inclusive; None =
    unbounded on that side), in seed order."""
    lo = _optional_date(start, "start")
    hi = _optional_date(end, "end")
    if lo is not None and hi is not None and hi < lo:
        raise ValueError(f"window end {hi} is before its start {lo}")
    out = []
    for row in miners(path):
        member_from, member_to = _bounds(row)
        if hi is not None and member_from > hi:
            continue
        if lo is not None and member_to is not None and member_to < lo:
            continue
        out.append(row)
    return out


def _distinct(values) -> list[str]:
    return list(dict.fromkeys(values))


def members_on(day: dt.date | str, path: Path | None = None) -> list[str]:
    """The tickers that are members on ``day``, in seed order."""
    day = _date(day, "day")
    return _distinct(m["ticker"] for m in periods_overlapping(day, day, path))


def ciks(start: DateLike = None, end: DateLike = None, path: Path | None = None) -> list[str]:
    """The distinct 10-digit CIKs of the periods overlapping the window (all periods when no
    window), in seed order: the SEC tasks fetch each company once."""
    return _distinct(cik10(m["cik"]) for m in periods_overlapping(start, end, path))


def price_tickers(
    path: Path | None = None, start: DateLike = None, end: DateLike = None
) -> list[str]:
    """The distinct tickers whose periods overlap the window (every ticker when no window), in
    seed order, plus BTC-USD (the market's own bitcoin series)."""
    tickers = _distinct(m["ticker"] for m in periods_overlapping(start, end, path))
    return tickers + [BITCOIN_TICKER]


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


def chunks(items: list[str], size: int) -> list[list[str]]:
    """``items`` in order, in consecutive chunks of at most ``size`` (one mapped task each)."""
    if size < 1:
        raise ValueError(f"chunk size {size} < 1")
    return [items[i : i + size] for i in range(0, len(items), size)]
