"""Task bodies of the daily DAG. DAG files only wire these together.

Every function is keyed on the run's logical date (the data day), never on ``now()``:
running the same date twice lands no new raw objects and writes the same staged partition.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from minerwatch import protocol
from minerwatch.errors import MinerwatchError, NoDataError, ValidationFailed
from minerwatch.lake import Lake
from minerwatch.settings import GENESIS_DATE, Settings
from minerwatch.settings import load as load_settings
from minerwatch.sources import coinmetrics, mempool, pools

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

log = logging.getLogger(__name__)

# Coin Metrics revises recent days: each run re-fetches the last OVERLAP_DAYS staged days.
OVERLAP_DAYS = 7


def as_day(value: dt.date | dt.datetime | str) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _context(settings: Settings | None) -> tuple[Settings, Lake]:
    settings = settings or load_settings()
    return settings, Lake(settings)


# -- network: Coin Metrics ------------------------------------------------------------------
def prior_network_history(lake: Lake, logical_date: dt.date) -> pd.DataFrame:
    """Staged network rows from partitions strictly before ``logical_date``, latest revision
    of each day. Only earlier partitions count, so a rerun of a date sees the same state."""
    import pandas as pd

    df = _staged_frames(lake, coinmetrics.SOURCE, coinmetrics.DATASET, logical_date)
    if df.empty:
        return pd.DataFrame(columns=["date_day", "BlkCnt", "logical_date"])
    df = df.sort_values(["date_day", "logical_date"]).drop_duplicates("date_day", keep="last")
    return df.reset_index(drop=True)


def network_window(lake: Lake, logical_date: dt.date) -> tuple[dt.date, dt.date]:
    """Genesis..date on an empty lake; else an overlap window ending on ``logical_date``."""
    history = prior_network_history(lake, logical_date)
    if history.empty:
        return GENESIS_DATE, logical_date
    last = min(as_day(history["date_day"].max()) + dt.timedelta(days=1), logical_date)
    return max(GENESIS_DATE, last - dt.timedelta(days=OVERLAP_DAYS)), logical_date


def extract_coinmetrics(logical_date, settings: Settings | None = None) -> list[str]:
    """Land the window's Coin Metrics data: the community API, or — when it refuses access
    (HTTP 401/403) — Coin Metrics' published CSV, said loudly. Transient errors retry."""
    settings, lake = _context(settings)
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


def _fail(lake: Lake, source: str, dataset: str, day: dt.date, df, outcome, raw_keys) -> None:
    where = lake.quarantine(source, dataset, day, df, outcome.result, raw_keys)
    raise ValidationFailed(
        f"{outcome.summary()}\nThe batch was quarantined at {lake.url(where)}; "
        "nothing was staged and the last good data is unchanged."
    )


def stage_coinmetrics(logical_date, raw_keys: list[str], settings: Settings | None = None) -> str:
    """Validate the landed batch with GX; stage it, or quarantine it and fail."""
    from minerwatch.quality import validate_frame

    settings, lake = _context(settings)
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
    history = prior_network_history(lake, day)
    before = history[history["date_day"] < first_day] if not history.empty else history
    if first_day > GENESIS_DATE:
        if before.empty or as_day(before["date_day"].max()) != first_day - dt.timedelta(days=1):
            raise MinerwatchError(
                f"the Coin Metrics batch for {day} starts on {first_day}, but the staged history "
                "does not reach the day before it; run the earlier dates first (or clear the lake)"
            )
    start_height = int(before["BlkCnt"].fillna(0).sum()) if not before.empty else 0
    check = network_check_frame(batch, start_height)
    outcome = validate_frame(check, "coinmetrics_btc_asset_metrics")
    if not outcome.success:
        _fail(lake, coinmetrics.SOURCE, coinmetrics.DATASET, day, batch, outcome, raw_keys)
    staged = batch.sort_values("date_day").reset_index(drop=True)
    # which one the rows came from, carried to the marts' `source`
    staged["source"] = staged["raw_key"].map(coinmetrics.provider_of).astype("string")
    used = sorted(set(staged["source"]))
    log.info("Coin Metrics batch for %s: %d days from %s", day, len(staged), ", ".join(used))
    return lake.write_staged(coinmetrics.SOURCE, coinmetrics.DATASET, day, staged)


# -- network: mempool difficulty ------------------------------------------------------------
def extract_mempool_difficulty(logical_date, settings: Settings | None = None) -> list[str]:
    settings, lake = _context(settings)
    objs = mempool.extract(settings, lake, ingest_date=as_day(logical_date))
    return [o.key for o in objs]


def stage_mempool_difficulty(
    logical_date, raw_keys: list[str], settings: Settings | None = None
) -> str:
    from minerwatch.quality import validate_frame

    settings, lake = _context(settings)
    day = as_day(logical_date)
    batch = mempool.to_frame([(k, lake.read_bytes(k)) for k in raw_keys])
    check = batch.copy()
    check["height_mod_epoch"] = check["height"] % protocol.DIFFICULTY_EPOCH
    outcome = validate_frame(check, "mempool_difficulty_adjustments")
    if not outcome.success:
        _fail(lake, mempool.SOURCE, mempool.DATASET, day, batch, outcome, raw_keys)
    return lake.write_staged(mempool.SOURCE, mempool.DATASET, day, batch)


# -- network: mempool.space daily hash rate (the second source) -----------------------------
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
    df = _staged_frames(lake, mempool.SOURCE, mempool.HASHRATE_DATASET, logical_date)
    if df.empty:
        return None, logical_date
    last = min(as_day(df["date_day"].max()) + dt.timedelta(days=1), logical_date)
    return max(GENESIS_DATE, last - dt.timedelta(days=OVERLAP_DAYS)), logical_date


def extract_mempool_hashrate(
    logical_date, settings: Settings | None = None, today: dt.date | None = None
) -> dict:
    settings, lake = _context(settings)
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

    settings, lake = _context(settings)
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
        _fail(lake, mempool.SOURCE, mempool.HASHRATE_DATASET, day, frame, outcome, keys)
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
    df = _staged_frames(lake, pools.SOURCE, pools.SHARES_DATASET, logical_date)
    last = _midnight_after(logical_date)
    if df.empty:
        return None, last
    newest = pd_timestamp(df["week_end_at"].max())
    return min(newest, last) - POOL_SHARES_OVERLAP, last


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
    settings, lake = _context(settings)
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

    settings, lake = _context(settings)
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


# -- market prices --------------------------------------------------------------------------
MARKET_SOURCE = "market"
MARKET_DATASET = "prices_daily"


def extract_prices(logical_date, ticker: str, settings: Settings | None = None) -> dict:
    """Land the whole price history window of one ticker from the configured provider."""
    from minerwatch.sources import fmp, yahoo

    settings, lake = _context(settings)
    day = as_day(logical_date)
    start = settings.history_start
    batch = {"ticker": ticker, "provider": settings.market_provider, "status": "landed"}
    try:
        if settings.market_provider == "fmp":
            objs = fmp.extract(settings, lake, ticker=ticker, start=start, end=day, ingest_date=day)
        else:
            objs = [
                yahoo.extract(settings, lake, ticker=ticker, start=start, end=day, ingest_date=day)
            ]
    except NoDataError as exc:
        # definitive: not retried; the answer is landed and the member is reported missing
        log.warning("%s; %s is reported missing, the run goes on", exc, ticker)
        return {**batch, "status": "no_data", "reason": str(exc), "keys": [exc.raw_key]}
    return {**batch, "keys": [o.key for o in objs]}


def price_frame(lake: Lake, batch: dict) -> pd.DataFrame:
    from minerwatch.sources import fmp, yahoo

    bodies = [(k, lake.read_bytes(k)) for k in batch["keys"]]
    if batch["provider"] == "fmp":
        df = fmp.to_frame(bodies[0], bodies[1], batch["ticker"])
    else:
        df = yahoo.to_frame(bodies[0][1], bodies[0][0], batch["ticker"])
    df["provider"] = batch["provider"]
    return df


def _stage_each(lake, day, source, dataset, suite, items, partition_of) -> list[str]:
    """Validate each (name, frame, raw_keys) with ``suite``; stage the good ones, quarantine the
    bad ones, then fail if any was bad (after the good ones are safely staged)."""
    from minerwatch.quality import validate_frame

    staged, failures = [], []
    for name, frame, raw_keys in items:
        outcome = validate_frame(frame, suite)
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


def stage_prices(logical_date, batches: list[dict], settings: Settings | None = None) -> list[str]:
    settings, lake = _context(settings)
    day = as_day(logical_date)
    coverage = [
        {"member": b["ticker"], "provider": b["provider"], "status": b.get("status", "landed"),
         "reason": b.get("reason"), "raw_key": (b["keys"] or [None])[0]}
        for b in batches
    ]  # fmt: skip
    write_coverage(lake, MARKET_SOURCE, day, coverage)
    missing = [c["member"] for c in coverage if c["status"] == "no_data"]
    if missing:
        log.warning("no prices from the source for %s (coverage staged)", ", ".join(missing))
    priced = [b for b in batches if b.get("status", "landed") == "landed"]
    items = [(b["ticker"], price_frame(lake, b), b["keys"]) for b in priced]
    return _stage_each(
        lake, day, MARKET_SOURCE, MARKET_DATASET, "market_prices_daily", items,
        lambda ticker: {"ticker": ticker},
    )  # fmt: skip


# -- SEC ------------------------------------------------------------------------------------
def extract_sec_company_tickers(logical_date, settings: Settings | None = None) -> str:
    from minerwatch.sources.sec import SecClient

    settings, lake = _context(settings)
    return SecClient(settings).company_tickers(lake, as_day(logical_date)).key


def check_sec_ciks(logical_date, raw_key: str, settings: Settings | None = None) -> list[dict]:
    """Compare the CIKs of the day's members with SEC's ticker map (loud warnings) and stage
    the result. SEC's map is today's: a period that has ended (an old issuer's CIK) is not
    compared with it."""
    import pandas as pd

    from minerwatch import universe
    from minerwatch.sources import sec

    settings, lake = _context(settings)
    day = as_day(logical_date)
    listed = sec.company_tickers_frame(lake.read_bytes(raw_key), raw_key)
    checks = sec.check_ciks(universe.periods_overlapping(day, day), listed)
    df = pd.DataFrame(checks)
    df["raw_key"] = raw_key
    lake.write_staged(sec.SOURCE, "cik_check", as_day(logical_date), df)
    return checks


def extract_sec_company(logical_date, cik: str, settings: Settings | None = None) -> dict:
    from minerwatch.sources.sec import SecClient

    settings, lake = _context(settings)
    day = as_day(logical_date)
    from minerwatch.sources.sec import older_pages

    client = SecClient(settings)
    out = {"cik": cik, "status": "landed", "submissions": None, "companyfacts": None}
    try:
        out["submissions"] = client.submissions(lake, day, cik).key
        # filings.recent holds the latest ~1,000 filings; older ones are on further pages, which
        # are fetched when they reach into the history window (their bytes rarely change, and
        # an unchanged page lands as no new object)
        pages = older_pages(lake.read_bytes(out["submissions"]), out["submissions"])
        wanted = [
            p for p in pages if (p["filingTo"] or "9999") >= settings.history_start.isoformat()
        ]
        out["submission_pages"] = [
            client.submissions_page(lake, day, cik, p["name"]).key for p in wanted
        ]
        out["companyfacts"] = client.companyfacts(lake, day, cik).key
    except NoDataError as exc:
        # definitive (HTTP 404 from data.sec.gov): named in the coverage, not fatal
        log.warning("%s; CIK %s is reported missing, the run goes on", exc, cik)
        out.update(status="no_data", reason=str(exc), no_data_key=exc.raw_key)
    return out


def stage_sec(logical_date, batches: list[dict], settings: Settings | None = None) -> list[str]:
    """Share counts (GX-gated per company) and filing lists of every company's documents."""
    import pandas as pd

    from minerwatch.sources import sec

    settings, lake = _context(settings)
    day = as_day(logical_date)
    items, filings = [], []
    coverage = [
        {"member": sec.cik10(b["cik"]), "provider": "sec", "status": b.get("status", "landed"),
         "reason": b.get("reason"), "raw_key": b.get("no_data_key") or b.get("companyfacts")}
        for b in batches
    ]  # fmt: skip
    write_coverage(lake, sec.SOURCE, day, coverage)
    for b in batches:
        if b.get("submissions") is None:
            continue
        filings.append(sec.filings_frame(lake.read_bytes(b["submissions"]), b["submissions"]))
        for key in b.get("submission_pages") or []:
            filings.append(sec.filings_frame(lake.read_bytes(key), key, sec.cik10(b["cik"])))
        if b.get("companyfacts") is None:  # filings known, no XBRL facts
            continue
        counts = sec.share_counts_frame(lake.read_bytes(b["companyfacts"]), b["companyfacts"])
        items.append((sec.cik10(b["cik"]), share_check_frame(counts), [b["companyfacts"]]))
    if filings:
        # an accession listed on two pages (a page boundary moving between fetches) once
        frame = pd.concat(filings, ignore_index=True).drop_duplicates(["cik", "accession"])
        lake.write_staged(sec.SOURCE, "filings", day, frame.reset_index(drop=True))
    return _stage_each(
        lake, day, sec.SOURCE, "share_counts", "sec_share_counts", items,
        lambda cik: {"cik": cik},
    )  # fmt: skip


def share_check_frame(counts: pd.DataFrame) -> pd.DataFrame:
    """Share counts plus the lag the suite checks (filed − as-of, in days)."""
    import pandas as pd

    out = counts.copy()
    lag = pd.to_datetime(out["filed_date"]) - pd.to_datetime(out["as_of_date"])
    out["filing_lag_days"] = lag.dt.days.astype("float64")
    return out


# -- SEC production updates (exhibit 99.x of 8-K / 6-K) -------------------------------------
PRODUCTION_FORMS = {"8-K", "8-K/A", "6-K", "6-K/A"}


def _staged_frames(lake: Lake, source: str, dataset: str, before: dt.date, cik: str | None = None):
    """Every staged partition of a dataset from runs before ``before`` (with its logical_date)."""
    import pandas as pd

    frames = []
    for part_date, key in lake.staged_partitions(source, dataset):
        if part_date < before and (cik is None or f"/cik={cik}/" in key):
            df = lake.read_parquet(key)
            df["logical_date"] = part_date
            frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def production_candidates(lake: Lake, day: dt.date, cik: str, start: dt.date) -> list[dict]:
    """8-K (items 7.01/8.01) and 6-K filings of ``cik`` filed start..day, minus the accessions
    processed by runs before ``day`` (so a rerun of a date repeats exactly its own work)."""
    from minerwatch.sources import sec

    key = lake.staged_key(sec.SOURCE, "filings", day)
    if not lake.exists(key):
        raise MinerwatchError(f"no staged SEC filings for {day}: stage_sec must run first")
    filings = lake.read_parquet(key)
    filings = filings[filings["cik"] == cik]
    done = _staged_frames(lake, sec.SOURCE, "production_documents", day, cik)
    seen = set(done["accession"]) if not done.empty else set()
    out = []
    for row in filings.itertuples(index=False):
        filed = as_day(row.filing_date)
        items = row.items or ""
        if row.form not in PRODUCTION_FORMS or not start <= filed <= day or row.accession in seen:
            continue
        if row.form.startswith("8-K") and not ({"7.01", "8.01"} & set(items.split(","))):
            continue
        out.append({"accession": row.accession, "form": row.form, "filed_date": filed.isoformat()})
    return out


def extract_production_updates(logical_date, cik: str, settings: Settings | None = None) -> dict:
    """Discover the exhibit 99.x documents of new 8-K/6-K filings and land them write-once."""
    import time

    from minerwatch.sources import production
    from minerwatch.sources.sec import SecClient, cik10

    settings, lake = _context(settings)
    day = as_day(logical_date)
    cik = cik10(cik)
    client = SecClient(settings)
    candidates = production_candidates(lake, day, cik, settings.history_start)
    documents, started = [], time.monotonic()
    for i, filing in enumerate(candidates, 1):
        acc = filing["accession"]
        folder = f"/Archives/edgar/data/{int(cik)}/{acc.replace('-', '')}"
        index = client.archive(
            lake, day, "filing_index", f"{folder}/{acc}-index.htm", cik=cik, accession=acc
        )
        entries = production.exhibits_99(production.parse_filing_index(lake.read_bytes(index.key)))
        if not entries:
            documents.append({**filing, "document": None, "url": None, "raw_key": None})
        for entry in entries:
            path = (
                entry.href if entry.href.startswith("/Archives/") else f"{folder}/{entry.document}"
            )
            obj = client.archive(
                lake, day, "exhibits", path, cik=cik, accession=acc, exhibit=entry.type
            )
            documents.append(
                {
                    **filing,
                    "document": entry.document,
                    "url": f"https://www.sec.gov{path}",
                    "raw_key": obj.key,
                }
            )
        if i % 25 == 0 or i == len(candidates):
            rate = i / max(time.monotonic() - started, 1e-9)
            log.info(
                "CIK %s: %d/%d filings checked (%.1f filings/s)", cik, i, len(candidates), rate
            )
    return {"cik": cik, "documents": documents, "filings_checked": len(candidates)}


PRODUCTION_COLUMNS = [
    "cik", "accession", "form", "filed_date", "document", "source_url", "period_month",
    "document_month", "metric", "hashrate_kind", "value", "reported_value", "reported_unit",
    "evidence", "method", "raw_key",
]  # fmt: skip
DOCUMENT_COLUMNS = [
    "cik",
    "accession",
    "form",
    "filed_date",
    "document",
    "source_url",
    "period_month",
    "status",
    "reason",
    "figures",
    "raw_key",
]


def production_frames(lake: Lake, batch: dict):
    import pandas as pd

    from minerwatch.sources import production

    figures, docs = [], []
    for d in batch["documents"]:
        base = {"cik": batch["cik"], "accession": d["accession"], "form": d["form"],
                "filed_date": d["filed_date"], "document": d["document"], "source_url": d["url"],
                "raw_key": d["raw_key"]}  # fmt: skip
        if d["raw_key"] is None:
            docs.append(
                {
                    **base,
                    "period_month": None,
                    "status": "unparsed",
                    "reason": "no exhibit 99.x",
                    "figures": 0,
                }
            )
            continue
        parsed = production.parse_document(
            lake.read_bytes(d["raw_key"]), filed_date=d["filed_date"]
        )
        # the release's month, and other months' columns of its tables (Riot's May release
        # carries April's): each figure has its own month, the document's month beside it
        for f in parsed.all_figures:
            figures.append({**base, "period_month": f.period_month or parsed.period_month,
                            "document_month": parsed.period_month, "metric": f.metric,
                            "hashrate_kind": f.hashrate_kind, "value": f.value,
                            "reported_value": f.reported_value, "reported_unit": f.reported_unit,
                            "evidence": f.evidence, "method": f.method})  # fmt: skip
        status = "parsed" if parsed.figures else "unparsed"
        if status == "unparsed":
            log.info(
                "unparsed: %s %s (%s): %s",
                batch["cik"],
                d["accession"],
                d["document"],
                parsed.unparsed_reason,
            )
        docs.append({**base, "period_month": parsed.period_month, "status": status,
                     "reason": parsed.unparsed_reason,
                     "figures": len(parsed.all_figures)})  # fmt: skip
    fig_df = pd.DataFrame(figures, columns=PRODUCTION_COLUMNS)
    doc_df = pd.DataFrame(docs, columns=DOCUMENT_COLUMNS)
    for df in (fig_df, doc_df):
        for col in ("filed_date", "period_month"):
            df[col] = pd.to_datetime(df[col])
        for col in ("cik", "accession", "form", "document", "source_url", "raw_key"):
            df[col] = df[col].astype("string")
    fig_df["document_month"] = pd.to_datetime(fig_df["document_month"])
    for col in ("metric", "hashrate_kind", "reported_unit", "evidence", "method"):
        fig_df[col] = fig_df[col].astype("string")
    for col in ("value", "reported_value"):
        fig_df[col] = fig_df[col].astype("float64")
    doc_df["status"] = doc_df["status"].astype("string")
    doc_df["reason"] = doc_df["reason"].astype("string")
    doc_df["figures"] = doc_df["figures"].astype("int64")
    return fig_df, doc_df


def production_check_frame(figures, day: dt.date):
    """Figures plus the columns the GX suite checks."""
    import pandas as pd

    out = figures.copy()
    out["hashrate_ehs_value"] = out["value"].where(out["metric"] == "hashrate_ehs")

    def month_number(series):
        return (series.dt.year * 12 + series.dt.month).astype("float64")

    period = month_number(pd.to_datetime(out["period_month"]))
    out["months_before_filing"] = month_number(pd.to_datetime(out["filed_date"])) - period
    out["months_after_run"] = period - float(day.year * 12 + day.month)
    return out


def stage_production_updates(
    logical_date, batches: list[dict], settings: Settings | None = None
) -> list[str]:
    from minerwatch.sources import sec

    settings, lake = _context(settings)
    day = as_day(logical_date)
    items = []
    for b in batches:
        figures, docs = production_frames(lake, b)
        lake.write_staged(sec.SOURCE, "production_documents", day, docs, {"cik": b["cik"]})
        keys = [d["raw_key"] for d in b["documents"] if d["raw_key"]]
        items.append((b["cik"], production_check_frame(figures, day), keys))
    return _stage_each(
        lake, day, sec.SOURCE, "production_updates", "sec_production_updates", items,
        lambda cik: {"cik": cik},
    )  # fmt: skip
