"""What every domain's staging shares: the run's settings and lake, reading earlier staged
partitions, validating batches with their GX suite, staging the good ones and quarantining the
bad ones, and the coverage rows that name members without data.

Every function is keyed on the run's logical date (the data day), never on ``now()``: running
the same date twice lands no new raw objects and writes the same staged partition.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from minerwatch.errors import ValidationFailed
from minerwatch.lake import Lake
from minerwatch.settings import Settings
from minerwatch.settings import load as load_settings

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

log = logging.getLogger(__name__)


def context(settings: Settings | None) -> tuple[Settings, Lake]:
    """The settings (loaded unless given) and the lake they point at."""
    settings = settings or load_settings()
    return settings, Lake(settings)


def staged_frames(lake: Lake, source: str, dataset: str, before: dt.date, cik: str | None = None):
    """Every staged partition of a dataset from runs before ``before`` (with its logical_date)."""
    import pandas as pd

    frames = []
    for part_date, key in lake.staged_partitions(source, dataset):
        if part_date < before and (cik is None or f"/cik={cik}/" in key):
            df = lake.read_parquet(key)
            df["logical_date"] = part_date
            frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _utc_naive(value):
    import pandas as pd

    ts = pd.Timestamp(value)
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def _partition_max(df: pd.DataFrame, column: str, keep):
    """The newest non-null value of ``column`` in the rows ``keep`` leaves (naive UTC), or None."""
    import pandas as pd

    if keep is not None:
        df = keep(df)
    if column not in df.columns or df.empty:
        return None
    values = pd.to_datetime(df[column], errors="coerce").dropna()
    return None if values.empty else _utc_naive(values.max())


def newest_staged(
    lake: Lake,
    source: str,
    dataset: str,
    through: dt.date,
    column: str,
    keep: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    bound: Callable[[dt.date], Any] | None = None,
):
    """The newest value of ``column`` (a naive UTC timestamp; of the rows ``keep`` leaves) over
    the staged partitions of runs on or before ``through``, reading the newest partitions only;
    None when none holds one.

    Each run stages a window that ends on its logical date (Coin Metrics' ``end_time``, mempool's
    buckets clipped to the window, Yahoo's exclusive ``period2`` the day after, FMP's ``to``), so
    a partition holds nothing after ``bound(its date)`` (the date itself by default): once the
    newest value found is at or past the next older partition's bound, no older partition can
    hold a newer one and the scan stops — one partition date read on a daily lake, instead of
    every earlier run's (a year of daily runs: 365 files per dataset, 365 per ticker for prices,
    read by every run). A partition found past its bound (a source answering beyond what was
    asked) makes the scan read every partition, as before, with a warning: the answer is the
    exact maximum either way."""
    bound = bound or (lambda d: d)
    # the dataset's date folders, then the files of the dates read only: listing every file
    # would be every ticker's partition of every earlier run (41,000 keys a year at 10x)
    dates = [d for d in lake.partition_dates(source, dataset) if d <= through]
    best = None
    exhaustive = False
    for part_date in reversed(dates):
        limit = _utc_naive(bound(part_date))
        if not exhaustive and best is not None and limit <= best:
            break
        for _, key in lake.staged_partitions(source, dataset, dates=[part_date]):
            value = _partition_max(lake.read_parquet(key), column, keep)
            if value is None:
                continue
            if not exhaustive and value > limit:
                log.warning(
                    "staged/%s/%s: %s holds %s, after its run's window: every partition is read",
                    source, dataset, key, value,
                )  # fmt: skip
                exhaustive = True
            best = value if best is None or value > best else best
    return best


def quarantine_and_fail(
    lake: Lake, source: str, dataset: str, day: dt.date, df, outcome, raw_keys
) -> None:
    """Quarantine a batch that failed its suite (with the GX result) and raise."""
    where = lake.quarantine(source, dataset, day, df, outcome.result, raw_keys)
    raise ValidationFailed(
        f"{outcome.summary()}\nThe batch was quarantined at {lake.url(where)}; "
        "nothing was staged and the last good data is unchanged."
    )


def stage_each(lake, day, source, dataset, suite, items, partition_of) -> list[str]:
    """Validate each (name, frame, raw_keys) with ``suite`` — one GX run for all of them, one per
    batch only when that fails (``validate_batches``) — stage the good ones, quarantine the bad
    ones, then fail if any was bad (after the good ones are safely staged)."""
    from minerwatch.quality import validate_batches

    staged, failures = [], []
    outcomes = validate_batches([(name, frame) for name, frame, _ in items], suite)
    for name, frame, raw_keys in items:
        outcome = outcomes[name]
        if outcome.success:
            staged.append(lake.write_staged(source, dataset, day, frame, partition_of(name)))
        else:
            where = lake.quarantine(source, dataset, day, frame, outcome.result, raw_keys)
            failures.append(f"{name}: {outcome.summary()}\n  quarantined at {lake.url(where)}")
    if failures:
        raise ValidationFailed(
            f"{len(failures)} of {len(items)} {source}/{dataset} batch(es) failed validation "
            f"({len(staged)} staged):\n" + "\n".join(failures)
        )
    return staged


COVERAGE_COLUMNS = ["member", "provider", "status", "reason", "raw_key"]


def write_coverage(lake: Lake, source: str, day: dt.date, records: list[dict]) -> str:
    """One row per member asked for: ``landed`` or ``no_data`` (with the source's answer and
    the raw object it was landed as). The marts name the members without data from it."""
    import pandas as pd

    df = pd.DataFrame(records, columns=COVERAGE_COLUMNS)
    for col in COVERAGE_COLUMNS:
        df[col] = df[col].astype("string")
    return lake.write_staged(source, "coverage", day, df)
