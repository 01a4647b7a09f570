"""Write → audit → publish. After ``dbt build`` (its tests included), every mart is audited with
its Great Expectations suite; only when all pass are the marts exported as Parquet to the lake's
``marts/`` and the warehouse copied, atomically and read-only, to ``published/warehouse.duckdb``.
A failed audit leaves the previous publication untouched, fails the run, and keeps the failing
expectations beside the batch in the lake (``audit/<table>/logical_date=…/``; passing results
are kept there too). The audit also checks each source's freshness (``minerwatch.freshness``): a
source whose newest staged day is too far behind the run's date fails it the same way."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from minerwatch.dates import as_day
from minerwatch.errors import MinerwatchError, ValidationFailed
from minerwatch.lake import Lake, date_part
from minerwatch.settings import Settings
from minerwatch.settings import load as load_settings

log = logging.getLogger(__name__)

# table -> (key columns for a stable order, the date column checked against the run date)
MARTS: dict[str, tuple[list[str], str | None]] = {
    "dim_miners": (["ticker", "member_from"], None),
    "fct_network_daily": (["date_day"], "date_day"),
    "fct_miner_market_daily": (["ticker", "date_day"], "date_day"),
    "fct_sector_daily": (["date_day"], "date_day"),
    "fct_miner_performance_monthly": (["month_start", "ticker"], "month_start"),
    "fct_miner_hashrate_monthly": (["month_start", "ticker"], "month_start"),
    "fct_sector_monthly": (["month_start"], "month_start"),
    "fct_pool_share_monthly": (["month_start", "pool_slug"], "month_start"),
}


def published_path(settings: Settings) -> Path:
    return settings.warehouse.parent / "published" / settings.warehouse.name


def _select(table: str) -> str:
    if table not in MARTS:  # identifiers are whitelisted, never taken from input
        raise ValueError(f"unknown mart {table!r}")
    keys = ", ".join(MARTS[table][0])
    return f"select * from marts.{table} order by {keys}"


def audit_frame(table: str, df, day: dt.date):
    """The mart plus the columns its suite checks."""
    import pandas as pd

    out = df.copy()
    if table == "fct_sector_daily":
        out["miners_beyond_universe"] = (out["miners_count"] - out["miners_tracked"]).astype(
            "float64"
        )
    date_col = MARTS[table][1]
    if date_col:
        out["days_after_run"] = (pd.to_datetime(out[date_col]) - pd.Timestamp(day)).dt.days.astype(
            "float64"
        )
    if table == "fct_network_daily":
        from minerwatch.quality import reconcile

        out["block_height_step"] = out["block_height"].diff().astype("float64")
        # the two hash-rate sources over 30-day means; beyond the tolerance: a loud warning
        out["hashrate_divergence_30d"] = reconcile.divergence_column(out)
        reconcile.warn_hashrate_divergence(out)
    if table == "fct_pool_share_monthly":
        out["month_share_total"] = out.groupby("month_start")["block_share"].transform("sum")
    if table == "fct_miner_market_daily":
        lag = pd.to_datetime(out["shares_filed_date"]) - pd.to_datetime(out["date_day"])
        out["shares_lookahead_days"] = lag.dt.days.astype("float64")
    return out


def coverage_text(count, tracked, reasons: str | None, missing: str | None = None) -> str:
    """'13 of 14 priced; missing: SDIG (no prices from the source)'."""
    text = f"{int(count)} of {int(tracked)} with a market cap"
    detail = reasons or missing
    return text + (f"; missing: {detail}" if detail else "")


def coverage_on(sector_daily, day: dt.date) -> dict | None:
    """The group's coverage on the newest sector day on or before ``day`` (None without one)."""
    import pandas as pd

    rows = sector_daily[pd.to_datetime(sector_daily["date_day"]) <= pd.Timestamp(day)]
    if rows.empty:
        return None
    row = rows.sort_values("date_day").iloc[-1]
    return {
        "date_day": pd.Timestamp(row["date_day"]).date(),
        "share": row["miners_count"] / row["miners_tracked"] if row["miners_tracked"] else 0.0,
        "text": coverage_text(row["miners_count"], row["miners_tracked"], row["missing_reasons"]),
    }


def audit(logical_date, settings: Settings | None = None) -> dict[str, int]:
    """GX suite per mart on the freshly built warehouse; raise (after saving the results) if any
    expectation fails. Returns rows audited per table."""
    import duckdb

    from minerwatch.quality import validate_frame
    from minerwatch.quality.gx import stable_result

    settings = settings or load_settings()
    day = as_day(logical_date)
    lake = Lake(settings)
    # the warehouse is built from every staged batch of every source: a backfill of an old date
    # (or runs of a backfill in parallel) legitimately holds days up to the newest batch, so
    # "no future dates" is checked against that
    # (each dataset's date folders: listing every staged file grew with every run)
    newest = [lake.newest_partition_date(src, ds) for src, ds in lake.staged_datasets()]
    bound = max([day, *(d for d in newest if d is not None)])
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        frames = {t: con.execute(_select(t)).df() for t in MARTS}
    finally:
        con.close()
    failures, counts = [], {}
    for table, df in frames.items():
        outcome = validate_frame(audit_frame(table, df, bound), f"mart_{table}")
        counts[table] = len(df)
        # kept beside the batch whatever the outcome: what was checked, and what was found
        key = f"audit/{table}/{date_part('logical_date', day)}/validation_result.json"
        lake.replace(key, json.dumps(stable_result(outcome.result), indent=2, default=str).encode())
        if not outcome.success:
            failures.append(f"{outcome.summary()}\n  result saved at {lake.url(key)}")
    coverage = coverage_on(frames["fct_sector_daily"], day)
    if coverage is not None:
        log.info("coverage on %s: %s", coverage["date_day"], coverage["text"])
        if coverage["share"] < settings.min_coverage:
            failures.append(
                f"coverage on {coverage['date_day']}: {coverage['text']} — "
                f"{coverage['share']:.0%} of the tracked miners, below MINERWATCH_MIN_COVERAGE="
                f"{settings.min_coverage:g}"
            )
    # stale sources: their newest staged day too far behind the run's date (MINERWATCH_MAX_LAG_DAYS)
    from minerwatch import freshness

    failures.extend(freshness.check(lake, day, dict(settings.max_lag_days)))
    if failures:
        raise ValidationFailed(
            "audit failed — nothing was published; the previous publication is unchanged:\n"
            + "\n".join(failures)
        )
    log.info("audit passed: %s", ", ".join(f"{t} {n} rows" for t, n in counts.items()))
    return counts


def publish(logical_date, settings: Settings | None = None) -> dict[str, str]:
    """Export every mart as Parquet to the lake and replace the read-only published copy."""
    import duckdb

    settings = settings or load_settings()
    lake = Lake(settings)
    out: dict[str, str] = {}
    if not settings.warehouse.exists():
        raise MinerwatchError(f"no warehouse at {settings.warehouse}: dbt build must run first")
    # fold the write-ahead log into the file so the copy is complete (we hold the writer slot)
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute("set threads = 1")  # one writer thread: the same marts give the same bytes
        con.execute("checkpoint")
        with tempfile.TemporaryDirectory(prefix="minerwatch-publish-") as tmp:
            for table in MARTS:
                path = Path(tmp) / f"{table}.parquet"
                con.execute(
                    f"copy ({_select(table)}) to '{path}' (format parquet, compression zstd)"
                )
                key = f"marts/{table}/data.parquet"
                lake.replace(key, path.read_bytes())
                out[table] = lake.url(key)
    finally:
        con.close()
    target = published_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
    os.close(fd)
    try:
        shutil.copyfile(settings.warehouse, tmp_name)
        os.chmod(tmp_name, 0o444)
        os.replace(tmp_name, target)  # readers holding the old file keep a whole old file
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    out["published_warehouse"] = str(target)
    log.info("published %d marts to %s and %s", len(MARTS), lake.url("marts"), target)
    return out
