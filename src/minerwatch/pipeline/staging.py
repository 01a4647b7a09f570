"""What every domain's staging shares: the run's settings and lake, reading earlier staged
partitions, validating batches with their GX suite, staging the good ones and quarantining the
bad ones, and the coverage rows that name members without data.

Every function is keyed on the run's logical date (the data day), never on ``now()``: running
the same date twice lands no new raw objects and writes the same staged partition.
"""

from __future__ import annotations

import datetime as dt

from minerwatch.errors import ValidationFailed
from minerwatch.lake import Lake
from minerwatch.settings import Settings
from minerwatch.settings import load as load_settings


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
