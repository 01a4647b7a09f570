"""Network task bodies: Coin Metrics daily metrics (the API, or its published CSV when the API
refuses), mempool.space difficulty retargets, its daily hash rate (the second source) and its
mining-pool statistics — each extracted (landed write-once) and then staged through its GX gate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from minerwatch import protocol
from minerwatch.dates import as_day
from minerwatch.errors import MinerwatchError, NoDataError, ValidationFailed
from minerwatch.lake import Lake
from minerwatch.pipeline import staging
from minerwatch.settings import GENESIS_DATE, Settings
from minerwatch.sources import coinmetrics, mempool, pools

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

log = logging.getLogger(__name__)

# Coin Metrics revises recent days: each run re-fetches the last OVERLAP_DAYS staged days (the
# mempool.space hash rate likewise).
OVERLAP_DAYS = 7


# -- Coin Metrics ---------------------------------------------------------------------------
def prior_network_history(lake: Lake, logical_date: dt.date) -> pd.DataFrame:
    """Staged network rows from partitions strictly before ``logical_date``, latest revision
    of each day. Only earlier partitions count, so a rerun of a date sees the same state."""
    import pandas as pd

    df = staging.staged_frames(lake, coinmetrics.SOURCE, coinmetrics.DATASET, logical_date)
    if df.empty:
        return pd.DataFrame(columns=["date_day", "BlkCnt", "logical_date"])
    df = df.sort_values(["date_day", "logical_date"]).drop_duplicates("date_day", keep="last")
    return df.reset_index(drop=True)


# -- the staged history's block heights, compacted ------------------------------------------
# The Coin Metrics gate needs the block height at the end of the day before each batch: the
# blocks of every staged day before it (latest revision of each day). Read from every earlier
# partition, that is a file per daily run, read by every run (~0.9 s per year of daily runs on
# a local lake, a GET per run on S3). Each run therefore leaves a record beside its partition —
# the heights of its last HEIGHTS_TAIL_DAYS days and the total before them — and the next run
# starts from the newest record instead. Not a dbt source: it steers the next run. A record is
# used only when it summarises exactly the partitions staged up to its date (a digest of their
# keys: a partition added before it, e.g. by an out-of-order backfill, or one removed, voids
# it), a run deletes the records of its date and later before it (re)writes its partition, and
# partitions newer than the record are read and applied on top; otherwise every partition is
# read, as before.
HEIGHTS = "block_heights"
HEIGHTS_TAIL_DAYS = 4 * OVERLAP_DAYS  # a run's window reaches back OVERLAP_DAYS from the newest


@dataclass(frozen=True)
class BlockHeights:
    """Blocks in the staged history (latest revision of each day): ``base_height`` through
    ``base_day`` (the day before genesis and 0 for all of it), then each later day's count
    (a day without a BlkCnt counts 0, as the gate's check frame does)."""

    base_day: dt.date
    base_height: int
    counts: dict[dt.date, int]

    @classmethod
    def from_history(cls, history: pd.DataFrame) -> BlockHeights:
        import pandas as pd

        counts = {
            as_day(d): 0 if pd.isna(n) else int(n)
            for d, n in zip(history["date_day"], history["BlkCnt"], strict=True)
        }
        return cls(GENESIS_DATE - dt.timedelta(days=1), 0, dict(sorted(counts.items())))

    def has_day(self, day: dt.date) -> bool:
        """``day`` is a staged day (the base day of a compacted record is one)."""
        return day in self.counts or (day == self.base_day and day >= GENESIS_DATE)

    def height_through(self, day: dt.date) -> int | None:
        """Blocks through the end of ``day``; None when it lies inside the compacted base."""
        if day < self.base_day:
            return None
        return self.base_height + sum(n for d, n in self.counts.items() if d <= day)

    def applied(self, rows: pd.DataFrame) -> BlockHeights | None:
        """This history with a newer partition's days over it; None when the partition revises
        a day compacted into the base (only the whole history can answer then)."""
        counts = dict(self.counts)
        newer = BlockHeights.from_history(rows).counts
        if newer and min(newer) <= self.base_day:
            return None
        counts.update(newer)
        return BlockHeights(self.base_day, self.base_height, dict(sorted(counts.items())))

    def compacted(self, keep: int = HEIGHTS_TAIL_DAYS) -> BlockHeights:
        days = list(self.counts)
        if len(days) <= keep:
            return self
        folded = days[: len(days) - keep]
        return BlockHeights(
            folded[-1],
            self.base_height + sum(self.counts[d] for d in folded),
            {d: self.counts[d] for d in days[len(folded) :]},
        )

    def frame(self, summarises: list[str]) -> pd.DataFrame:
        """The record: the base row, then a row per day with its count and height."""
        import pandas as pd

        days = [self.base_day, *self.counts]
        blocks = [0, *self.counts.values()]
        heights = list(itertools.accumulate(blocks, initial=self.base_height))[1:]
        return pd.DataFrame(
            {
                "date_day": days,
                "is_base": [True] + [False] * len(self.counts),
                "blocks": pd.Series(blocks, dtype="int64"),
                "block_height": pd.Series(heights, dtype="int64"),
                "partitions": len(summarises),
                "partitions_digest": _keys_digest(summarises),
            }
        )

    @classmethod
    def from_record(cls, df: pd.DataFrame) -> BlockHeights | None:
        """The record read back; None when it does not add up (its heights are the base plus
        the running sum of its counts)."""
        df = df.sort_values("date_day").reset_index(drop=True)
        if df.empty or not bool(df["is_base"].iloc[0]) or df["is_base"].iloc[1:].any():
            return None
        base = int(df["block_height"].iloc[0])
        rows = zip(df["date_day"][1:], df["blocks"][1:], strict=True)
        counts = {as_day(d): int(n) for d, n in rows}
        expected = base + df["blocks"][1:].cumsum()
        if not (expected == df["block_height"][1:]).all():
            return None
        return cls(as_day(df["date_day"].iloc[0]), base, counts)


def _keys_digest(keys: list[str]) -> str:
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()


def prior_block_heights(
    lake: Lake, logical_date: dt.date, reach: dt.date
) -> tuple[BlockHeights, list[str], int]:
    """The staged history before ``logical_date`` (partitions of earlier runs, latest revision
    of each day) as block counts, able to answer heights from ``reach`` on; with the keys of
    those partitions and how many of them were read."""
    parts = [
        (d, key)
        for d, key in lake.staged_partitions(coinmetrics.SOURCE, coinmetrics.DATASET)
        if d < logical_date
    ]
    records = [
        (d, key) for d, key in lake.staged_partitions(coinmetrics.SOURCE, HEIGHTS)
        if d < logical_date
    ]  # fmt: skip
    keys = [key for _, key in parts]
    if records:
        record_date, record_key = records[-1]
        summarised = [key for d, key in parts if d <= record_date]
        record = lake.read_parquet(record_key)
        heights = None
        if (
            not record.empty
            and int(record["partitions"].iloc[0]) == len(summarised)
            and record["partitions_digest"].iloc[0] == _keys_digest(summarised)
        ):
            heights = BlockHeights.from_record(record)
        reads = 0
        for d, key in parts:
            if heights is None or d <= record_date:
                continue
            heights = heights.applied(lake.read_parquet(key))
            reads += 1
        if heights is not None and reach >= heights.base_day:
            return heights, keys, reads
        log.info(
            "the block-height record of %s does not cover the staged history before %s: "
            "reading every partition", record_date, logical_date,
        )  # fmt: skip
    history = prior_network_history(lake, logical_date)
    return BlockHeights.from_history(history), keys, len(parts)


def drop_block_heights_from(lake: Lake, logical_date: dt.date) -> None:
    """Delete the records of ``logical_date`` and later, before its partition is (re)written:
    they summarise that partition as it was. A run that fails after the write then leaves no
    record that could pass the key digest with the old rows: the next run starts from an
    earlier record and reads the new partition on top."""
    for d, key in lake.staged_partitions(coinmetrics.SOURCE, HEIGHTS):
        if d >= logical_date:
            lake.delete(key)


def record_block_heights(
    lake: Lake, logical_date: dt.date, heights: BlockHeights, keys: list[str]
) -> str:
    """Write the run's record (``keys``: the partitions it summarises, its own included)."""
    return lake.write_staged(
        coinmetrics.SOURCE, HEIGHTS, logical_date, heights.compacted().frame(keys)
    )


def _overlap_start(lake: Lake, source: str, dataset: str, logical_date: dt.date) -> dt.date | None:
    """OVERLAP_DAYS before the day after the newest staged day of runs before ``logical_date``
    (None on an empty lake): the start of a daily window that refetches recent revisions."""
    newest = staging.newest_staged(
        lake, source, dataset, logical_date - dt.timedelta(days=1), "date_day"
    )
    if newest is None:
        return None
    last = min(as_day(newest) + dt.timedelta(days=1), logical_date)
    return max(GENESIS_DATE, last - dt.timedelta(days=OVERLAP_DAYS))


def network_window(lake: Lake, logical_date: dt.date) -> tuple[dt.date, dt.date]:
    """Genesis..date on an empty lake; else an overlap window ending on ``logical_date``."""
    start = _overlap_start(lake, coinmetrics.SOURCE, coinmetrics.DATASET, logical_date)
    return start or GENESIS_DATE, logical_date


def extract_coinmetrics(logical_date, settings: Settings | None = None) -> list[str]:
    """Land the window's Coin Metrics data: the community API, or — when it refuses access
    (HTTP 401/403) — Coin Metrics' published CSV, said loudly. Transient errors retry."""
    settings, lake = staging.context(settings)
    day = as_day(logical_date)
    start, end = network_window(lake, day)
    log.info("Coin Metrics window %s..%s for logical date %s", start, end, day)
    try:
        objs = coinmetrics.extract(settings, lake, start=start, end=end, ingest_date=day)
    except coinmetrics.AccessRefused as exc:
        log.warning(
            "Coin Metrics community API refused access (HTTP %d): the network data for %s..%s "
            "comes from Coin Metrics' published CSV %s instead (source 'coinmetrics:csv'); set "
            "MINERWATCH_COINMETRICS_API_KEY if you have a key. %s",
            exc.status,
            start,
            end,
            settings.coinmetrics_csv_url,
            exc,
        )
        obj = coinmetrics.extract_csv(
            settings, lake, start=start, end=end, ingest_date=day, refused_status=exc.status
        )
        return [obj.key]
    log.info("Coin Metrics source for %s: the community API ('coinmetrics:api')", day)
    return [o.key for o in objs]


def coinmetrics_batch(lake: Lake, raw_keys: list[str]) -> pd.DataFrame:
    """Typed rows of landed Coin Metrics objects: API pages, or the CSV (for the window its
    sidecar names) — one frame shape, so one gate."""
    batches = []
    for key in raw_keys:
        body = lake.read_bytes(key)
        if coinmetrics.provider_of(key) == "coinmetrics:csv":
            side = lake.raw_sidecar(key)
            start, end = as_day(side["window_start"]), as_day(side["window_end"])
            batches.append((key, coinmetrics.csv_items(body, key, start, end)))
        else:
            batches.append((key, coinmetrics.parse_page(body, key)["data"]))
    return coinmetrics.items_frame(batches)


# The first day Coin Metrics gives a price for (its PriceUSD starts with the first exchange
# data, 2010-07-18; refdata/coinmetrics_btc_2009-01-03_2024-05-31.csv): before it an empty
# price is the source's documented behaviour, after it a missing price is bad data.
FIRST_PRICED_DAY = dt.date(2010, 7, 18)


# Metrics every day must have. HashRate and IssTotNtv are empty on a day without blocks (no work
# measured, nothing issued: 2009-01-03..08), PriceUSD before FIRST_PRICED_DAY.
ALWAYS_PRESENT = ("BlkCnt", "SplyCur", "FeeTotNtv")


def network_check_frame(df: pd.DataFrame, start_height: int) -> pd.DataFrame:
    """The batch plus the derived columns the GX suite checks (see the suite's meta)."""
    import pandas as pd

    out = df.sort_values("date_day").reset_index(drop=True).copy()
    dates = pd.to_datetime(out["date_day"])
    out["hashrate_ehs"] = out["HashRate"] / 1e6
    out["gap_days"] = dates.diff().dt.days.astype("float64")
    blocks = out["BlkCnt"].fillna(0).astype("int64")
    # the suite checks PriceUSD only on these days (row_condition), HashRate and IssTotNtv only
    # on days with blocks (BlkCnt > 0)
    out["is_priced_day"] = (dates >= pd.Timestamp(FIRST_PRICED_DAY)).astype(bool)
    heights = start_height + blocks.cumsum()
    out["block_height"] = heights.astype("int64")
    expected, error = [], []
    for end_h, n, issued in zip(heights, blocks, out["IssTotNtv"], strict=True):
        first = int(end_h) - int(n) + 1
        exp = protocol.issuance_sats(first, int(end_h)) / protocol.SATS_PER_BTC
        expected.append(exp)
        per_block = protocol.subsidy_btc(int(end_h))
        error.append(None if issued != issued or per_block == 0 else (issued - exp) / per_block)
    out["expected_issuance_btc"] = expected
    out["issuance_error_blocks"] = pd.Series(error, dtype="float64")
    return out


def incomplete_days(batch: pd.DataFrame) -> list[dt.date]:
    """The newest day(s) of a batch that the source has not finished: a live API publishes a
    day's metrics as they complete, so the last row can lack some of them. Only trailing rows
    count; a missing value inside the batch is bad data for the gate to reject."""
    import pandas as pd

    ordered = batch.sort_values("date_day").reset_index(drop=True)
    out: list[dt.date] = []
    for i in range(len(ordered) - 1, 0, -1):  # never the whole batch: the gate must see it
        row = ordered.iloc[i]
        day = as_day(row["date_day"])
        required = list(ALWAYS_PRESENT)
        if pd.notna(row["BlkCnt"]) and row["BlkCnt"] > 0:
            required += ["HashRate", "IssTotNtv"]
        if day >= FIRST_PRICED_DAY:
            required.append("PriceUSD")
        if not any(pd.isna(row[m]) for m in required):
            break
        out.append(day)
        break  # one day: the source's newest; an older incomplete day is a gap in the data
    return out


def stage_coinmetrics(logical_date, raw_keys: list[str], settings: Settings | None = None) -> str:
    """Validate the landed batch with GX; stage it, or quarantine it and fail."""
    from minerwatch.quality import validate_frame

    settings, lake = staging.context(settings)
    day = as_day(logical_date)
    if not raw_keys:
        raise MinerwatchError(f"no Coin Metrics pages were landed for {day}; nothing to stage")
    batch = coinmetrics_batch(lake, raw_keys)
    if batch.empty:
        raise MinerwatchError(f"Coin Metrics returned no rows for {day} ({len(raw_keys)} page(s))")
    pending = incomplete_days(batch)
    if pending and len(pending) < len(batch):
        missing = [
            m
            for m in coinmetrics.METRICS
            if batch.loc[batch["date_day"] == pending[0], m].isna().any()
        ]
        log.warning(
            "Coin Metrics has not finished %s (no %s yet): not staged now; the next run "
            "fetches it again (its window overlaps the last %d staged days)",
            pending[0],
            ", ".join(missing),
            OVERLAP_DAYS,
        )
        batch = batch[~batch["date_day"].isin(pending)].reset_index(drop=True)
    first_day = as_day(batch["date_day"].min())
    day_before = first_day - dt.timedelta(days=1)
    heights, prior_keys, reads = prior_block_heights(lake, day, reach=day_before)
    log.info("block heights before %s: %d earlier partition(s) read", first_day, reads)
    start_height = 0
    if first_day > GENESIS_DATE:
        if not heights.has_day(day_before):
            raise MinerwatchError(
                f"the Coin Metrics batch for {day} starts on {first_day}, but the staged history "
                "does not reach the day before it; run the earlier dates first (or clear the lake)"
            )
        start_height = heights.height_through(day_before)
    check = network_check_frame(batch, start_height)
    outcome = validate_frame(check, "coinmetrics_btc_asset_metrics")
    if not outcome.success:
        staging.quarantine_and_fail(
            lake, coinmetrics.SOURCE, coinmetrics.DATASET, day, batch, outcome, raw_keys
        )
    staged = batch.sort_values("date_day").reset_index(drop=True)
    # which one the rows came from, carried to the marts' `source`
    staged["source"] = staged["raw_key"].map(coinmetrics.provider_of).astype("string")
    used = sorted(set(staged["source"]))
    log.info("Coin Metrics batch for %s: %d days from %s", day, len(staged), ", ".join(used))
    drop_block_heights_from(lake, day)
    key = lake.write_staged(coinmetrics.SOURCE, coinmetrics.DATASET, day, staged)
    after = heights.applied(staged)  # the batch starts after the base: has_day checked it
    record_block_heights(lake, day, after, [*prior_keys, key])
    return key


# -- mempool.space difficulty retargets -----------------------------------------------------
def extract_mempool_difficulty(logical_date, settings: Settings | None = None) -> list[str]:
    settings, lake = staging.context(settings)
    objs = mempool.extract_difficulty(settings, lake, ingest_date=as_day(logical_date))
    return [o.key for o in objs]


def stage_mempool_difficulty(
    logical_date, raw_keys: list[str], settings: Settings | None = None
) -> str:
    from minerwatch.quality import validate_frame

    settings, lake = staging.context(settings)
    day = as_day(logical_date)
    batch = mempool.difficulty_frame([(k, lake.read_bytes(k)) for k in raw_keys])
    check = batch.copy()
    check["height_mod_epoch"] = check["height"] % protocol.DIFFICULTY_EPOCH
    outcome = validate_frame(check, "mempool_difficulty_adjustments")
    if not outcome.success:
        staging.quarantine_and_fail(
            lake, mempool.SOURCE, mempool.DATASET, day, batch, outcome, raw_keys
        )
    return lake.write_staged(mempool.SOURCE, mempool.DATASET, day, batch)


# -- mempool.space daily hash rate (the second source) ---------------------------------------
# The day block 1 was mined (2009-01-09): from it on every UTC day has blocks (Coin Metrics'
# BlkCnt is 0 only on 2009-01-03..08), so the source's hash rate is positive.
FIRST_MINED_DAY = dt.date(2009, 1, 9)


def _utc_today() -> dt.date:
    # only sizes a request (mempool's periods are relative to the source's clock); what is
    # staged is filtered to the run's window, keyed on the logical date
    return dt.datetime.now(dt.UTC).date()


def mempool_hashrate_window(lake: Lake, logical_date: dt.date) -> tuple[dt.date | None, dt.date]:
    """(None, date) on an empty lake — the whole history (period ``all``); else an overlap of
    OVERLAP_DAYS before the last staged day, as for Coin Metrics."""
    start = _overlap_start(lake, mempool.SOURCE, mempool.HASHRATE_DATASET, logical_date)
    return start, logical_date


def extract_mempool_hashrate(
    logical_date, settings: Settings | None = None, today: dt.date | None = None
) -> dict:
    settings, lake = staging.context(settings)
    day = as_day(logical_date)
    start, end = mempool_hashrate_window(lake, day)
    window = {"window_start": (start or GENESIS_DATE).isoformat(), "window_end": end.isoformat()}
    try:
        obj = mempool.extract_hashrate(
            settings, lake, start=start, end=end, ingest_date=day, today=today or _utc_today()
        )
    except NoDataError as exc:
        log.warning("%s; no second hash-rate source for %s, the run goes on", exc, day)
        return {"status": "no_data", "reason": str(exc), "keys": [exc.raw_key], **window}
    return {"status": "landed", "keys": [obj.key], **window}


def mempool_hashrate_check_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The batch plus the derived columns its suite checks."""
    import pandas as pd

    out = frame.sort_values("date_day").reset_index(drop=True).copy()
    out["hashrate_ehs"] = out["avg_hashrate_hs"] / 1e18
    out["gap_days"] = pd.to_datetime(out["date_day"]).diff().dt.days.astype("float64")
    stamps = pd.to_datetime(out["bucket_end_at"], utc=True)
    out["seconds_after_midnight"] = (stamps - stamps.dt.floor("D")).dt.total_seconds()
    out["is_mined_day"] = (pd.to_datetime(out["date_day"]) >= pd.Timestamp(FIRST_MINED_DAY)).astype(
        bool
    )
    return out


def stage_mempool_hashrate(logical_date, batch: dict, settings: Settings | None = None):
    """Validate the day buckets of the run's window and stage them; quarantine a bad batch.
    Nothing to stage (the source had no data, or no bucket in the window yet) is a warning."""
    from minerwatch.quality import validate_frame

    settings, lake = staging.context(settings)
    day = as_day(logical_date)
    if batch.get("status") != "landed":
        log.warning("mempool.space hash rate for %s not staged: %s", day, batch.get("reason"))
        return None
    start, end = as_day(batch["window_start"]), as_day(batch["window_end"])
    keys = batch["keys"]
    frame = mempool.hashrate_frame([(k, lake.read_bytes(k)) for k in keys], start, end)
    if frame.empty:
        log.warning(
            "mempool.space has no daily hash rate for %s..%s yet: nothing staged; the next "
            "run's window overlaps these days",
            start,
            end,
        )
        return None
    outcome = validate_frame(mempool_hashrate_check_frame(frame), "mempool_hashrate_daily")
    if not outcome.success:
        staging.quarantine_and_fail(
            lake, mempool.SOURCE, mempool.HASHRATE_DATASET, day, frame, outcome, keys
        )
    newest = as_day(frame["date_day"].max())
    if newest < end:
        # the bucket covering a day is stamped at the next midnight and indexed after it
        log.info(
            "mempool.space's newest daily bucket covers %s; later days come with a later run",
            newest,
        )
    return lake.write_staged(mempool.SOURCE, mempool.HASHRATE_DATASET, day, frame)


# -- mempool.space mining pools -------------------------------------------------------------
POOL_SHARES_OVERLAP = dt.timedelta(days=14)  # re-fetch two weeks: the source re-lists them


def _midnight_after(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) + dt.timedelta(days=1)


def is_month_end(day: dt.date) -> bool:
    return (day + dt.timedelta(days=1)).day == 1


def pool_shares_window(lake: Lake, logical_date: dt.date) -> tuple[dt.datetime | None, dt.datetime]:
    """Week ends to stage: from two weeks before the last staged week (None on an empty lake:
    the whole history) to the end of the logical day (a week counts once it has ended)."""
    newest = staging.newest_staged(
        lake, pools.SOURCE, pools.SHARES_DATASET, logical_date - dt.timedelta(days=1),
        "week_end_at", bound=_midnight_after,
    )  # fmt: skip
    last = _midnight_after(logical_date)
    if newest is None:
        return None, last
    return min(pd_timestamp(newest), last) - POOL_SHARES_OVERLAP, last


def pd_timestamp(value) -> dt.datetime:
    import pandas as pd

    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


def extract_mempool_pools(
    logical_date, settings: Settings | None = None, today: dt.date | None = None
) -> dict:
    """Land the weekly pool-share history (every run, its period sized like the hash rate's)
    and, on the run for a month's last day, the 1m block counts per pool (that month's when
    the run is on time; see minerwatch.sources.pools)."""
    settings, lake = staging.context(settings)
    day = as_day(logical_date)
    first, last = pool_shares_window(lake, day)
    period = mempool.period_for(first.date() if first else None, today or _utc_today())
    out: dict = {"shares": None, "blocks": None}
    window = {
        "first_week_end": first.isoformat() if first else None,
        "last_week_end": last.isoformat(),
    }
    try:
        obj = pools.extract_shares(settings, lake, period=period, ingest_date=day)
        out["shares"] = {"status": "landed", "keys": [obj.key], **window}
    except NoDataError as exc:
        log.warning("%s; no pool shares for %s, the run goes on", exc, day)
        out["shares"] = {"status": "no_data", "reason": str(exc), "keys": [exc.raw_key], **window}
    if is_month_end(day):
        try:
            obj = pools.extract_blocks(settings, lake, ingest_date=day)
            out["blocks"] = {"status": "landed", "keys": [obj.key]}
        except NoDataError as exc:
            log.warning(
                "%s; no pool block counts for %s, the run goes on", exc, day.strftime("%Y-%m")
            )
            out["blocks"] = {"status": "no_data", "reason": str(exc), "keys": [exc.raw_key]}
    return out


def pool_shares_check_frame(frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    out = frame.copy()
    ends = pd.to_datetime(out["week_end_at"], utc=True)
    out["week_seconds_after_midnight"] = (ends - ends.dt.floor("D")).dt.total_seconds()
    out["week_end_weekday"] = ends.dt.weekday.astype("float64")
    out["week_share_total"] = out.groupby("week_end_at")["share"].transform("sum")
    out["hashrate_ehs"] = out["avg_hashrate_hs"] / 1e18
    return out


def pool_blocks_check_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["block_total_error"] = out["block_count"].astype("float64").sum() - out[
        "total_block_count"
    ].astype("float64")
    return out


def stage_mempool_pools(logical_date, batch: dict, settings: Settings | None = None) -> list[str]:
    """Validate and stage the pool shares and (month-end runs) the block counts; a bad batch is
    quarantined and the task fails after the good one is staged."""
    from minerwatch.quality import validate_frame

    settings, lake = staging.context(settings)
    day = as_day(logical_date)
    staged, failures = [], []
    items = []
    shares = batch.get("shares") or {}
    if shares.get("status") == "landed":
        first = shares.get("first_week_end")
        frame = pools.shares_frame(
            [(k, lake.read_bytes(k)) for k in shares["keys"]],
            dt.datetime.fromisoformat(first) if first else None,
            dt.datetime.fromisoformat(shares["last_week_end"]),
        )
        if frame.empty:
            log.warning("mempool.space listed no pool shares for the weeks to %s", day)
        else:
            items.append((pools.SHARES_DATASET, "mempool_pool_shares_weekly", frame,
                          pool_shares_check_frame(frame), shares["keys"]))  # fmt: skip
    elif shares:
        log.warning("mempool.space pool shares for %s not staged: %s", day, shares.get("reason"))
    blocks = batch.get("blocks") or {}
    if blocks.get("status") == "landed":
        key = blocks["keys"][0]
        ends = pools.response_time(lake.raw_sidecar(key))
        frame = pools.blocks_frame(lake.read_bytes(key), key, ends)
        month = pools.calendar_month(ends)
        if month is None:
            log.warning(
                "mempool.space pool block counts fetched at %s: the 1m window %s..%s is not a "
                "calendar month (the run was late); staged, but used for no month",
                ends.isoformat(),
                pools.minus_one_month(ends).isoformat(),
                ends.isoformat(),
            )
        items.append((pools.BLOCKS_DATASET, "mempool_pool_blocks", frame,
                      pool_blocks_check_frame(frame), blocks["keys"]))  # fmt: skip
    elif blocks:
        log.warning(
            "mempool.space pool block counts for %s not staged: %s", day, blocks.get("reason")
        )
    for dataset, suite, frame, check, keys in items:
        outcome = validate_frame(check, suite)
        if outcome.success:
            staged.append(lake.write_staged(pools.SOURCE, dataset, day, frame))
        else:
            where = lake.quarantine(pools.SOURCE, dataset, day, frame, outcome.result, keys)
            failures.append(f"{dataset}: {outcome.summary()}\n  quarantined at {lake.url(where)}")
    if failures:
        raise ValidationFailed(
            f"{len(failures)} mempool pool batch(es) failed validation ({len(staged)} staged):\n"
            + "\n".join(failures)
        )
    return staged
