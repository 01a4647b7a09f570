"""mempool.space mining pools: who found the blocks. Pools are not companies — a pool is a
coordinator that many miners (public companies among them, and anyone else) point their
machines at; a company's hash rate is spread over pools and a pool's over many companies.

Two endpoints (mempool/mempool backend, ``mining-routes.ts``, ``mining.ts``,
``PoolsRepository.ts``, ``HashratesRepository.ts``):

- ``/v1/mining/hashrate/pools/{period}`` — the history of pool shares, one bucket per pool per
  WEEK: ``[{timestamp, avgHashrate, share, poolName}]``. Each week is stamped with the END of its
  7-day window (the indexer steps back from the last Monday 00:00 UTC by 604,800 s and stamps
  each window with its end), ``share`` = the pool's blocks / all identified blocks that week,
  ``avgHashrate`` = share × the network estimate (H/s). Only the pools that found a block in the
  source's LAST week are listed (``$getPoolsWeeklyHashrate`` filters on the current top pools),
  so an old week's shares can sum to less than 1. No slug: it is derived from the name with
  the source's own rule (``pools-parser.ts``: alphanumerics only, lower case), or taken from a
  block-count snapshot that names the pool.
- ``/v1/mining/pools/{period}`` — block counts per pool over a trailing window: ``{"pools":
  [{poolId, name, link, blockCount, rank, emptyBlocks, slug, ...}], "blockCount", ...}`` for
  blocks whose timestamp is ``BETWEEN DATE_SUB(NOW(), INTERVAL period) AND NOW()``. The window
  is relative to the source's clock, so it is a calendar month only when fetched right after the
  month ended: the run for a month's last day takes ``1m``, and its window end is the response's
  HTTP ``Date`` (the time the source produced it, RFC 9110 §6.6.1; the fetch time if absent).
  A snapshot ending within ``MAX_MONTH_SKEW`` after the month's end is that month's block
  counts; a later one (a late run, a backfill) is landed and staged, but is no month's.

Both are landed write-once like every raw response; a 404 (a mirror without the mining API)
is landed and raised as NoDataError (the run goes on without pool data).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import math
import re
from typing import TYPE_CHECKING, Any

from minerwatch.errors import NoDataError, SourceError
from minerwatch.http import HttpClient
from minerwatch.lake import Lake, RawObject
from minerwatch.sources.base import client_for, decode_json, land

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from minerwatch.settings import Settings

log = logging.getLogger(__name__)

SOURCE = "mempool"
SHARES_DATASET = "pool_shares_weekly"
BLOCKS_DATASET = "pool_blocks"
SHARES_PATH = "/v1/mining/hashrate/pools/{period}"
BLOCKS_PATH = "/v1/mining/pools/{period}"
BLOCKS_PERIOD = "1m"
WEEK_S = 7 * 86_400
# A 1m window ending this long after a month's end is taken as that month (the same skew at its
# start: MySQL's DATE_SUB keeps the time of day). 3 h is ~18 of a month's ~4,400 blocks (0.4 %).
MAX_MONTH_SKEW = dt.timedelta(hours=3)


def slug_of(name: str) -> str:
    """The source's slug for a pool without a configured one: alphanumerics, lower case."""
    return re.sub(r"[^a-z0-9]", "", name, flags=re.IGNORECASE).lower()


def _number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def parse_shares(body: bytes, url: str) -> list[dict[str, Any]]:
    """The weekly pool-share buckets of a ``/v1/mining/hashrate/pools/{period}`` body."""
    doc = decode_json(body, url, "mempool")
    if not isinstance(doc, list):
        raise SourceError(
            f"mempool response from {url} is a {type(doc).__name__}, expected a list of "
            "{timestamp, avgHashrate, share, poolName}"
        )
    for i, item in enumerate(doc):
        ok = (
            isinstance(item, dict)
            and isinstance(item.get("timestamp"), int)
            and not isinstance(item.get("timestamp"), bool)
            and _number(item.get("share"))
            and _number(item.get("avgHashrate"))
            and isinstance(item.get("poolName"), str)
            and item["poolName"].strip() != ""
        )
        if not ok:
            raise SourceError(
                f"mempool response from {url}: element {i} is {item!r}, expected "
                "{timestamp: integer seconds, avgHashrate: number, share: number, poolName: text}"
            )
    return doc


def parse_blocks(body: bytes, url: str) -> dict[str, Any]:
    """A ``/v1/mining/pools/{period}`` body: ``pools`` with block counts and the total."""
    doc = decode_json(body, url, "mempool")
    if not isinstance(doc, dict) or not isinstance(doc.get("pools"), list):
        shape = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise SourceError(
            f"mempool response from {url} has no 'pools' list ({shape}); expected "
            '{"pools": [{name, slug, blockCount, ...}], "blockCount": total}'
        )
    if not isinstance(doc.get("blockCount"), int) or isinstance(doc.get("blockCount"), bool):
        raise SourceError(f"mempool response from {url} has no integer 'blockCount' total")
    for i, item in enumerate(doc["pools"]):
        ok = (
            isinstance(item, dict)
            and isinstance(item.get("name"), str)
            and item["name"].strip() != ""
            and isinstance(item.get("blockCount"), int)
            and not isinstance(item.get("blockCount"), bool)
            and (item.get("slug") is None or isinstance(item.get("slug"), str))
        )
        if not ok:
            raise SourceError(
                f"mempool response from {url}: pools[{i}] is {item!r}, expected "
                "{name: text, slug: text, blockCount: integer, ...}"
            )
    return doc


def _land(lake, dataset, ingest_date, resp, period, extra) -> RawObject:
    obj = land(
        lake, SOURCE, dataset, ingest_date, resp,
        params={"period": period}, date=resp.headers.get("date"), **extra,
    )  # fmt: skip
    if resp.status == 404:
        raise NoDataError(
            f"mempool.space answered HTTP 404 for {resp.url}: this base URL "
            f"(MINERWATCH_MEMPOOL_URL) does not serve the mining pools API; landed as {obj.key}",
            raw_key=obj.key,
            status=404,
        )
    return obj


def extract_shares(
    settings: Settings,
    lake: Lake,
    *,
    period: str,
    ingest_date: dt.date,
    client: HttpClient | None = None,
) -> RawObject:
    resp = (client or client_for(settings)).get(
        f"{settings.mempool_url}{SHARES_PATH.format(period=period)}", accept={200, 404}
    )
    rows = parse_shares(resp.body, resp.url) if resp.status == 200 else []
    return _land(lake, SHARES_DATASET, ingest_date, resp, period, {"rows": len(rows)})


def extract_blocks(
    settings: Settings,
    lake: Lake,
    *,
    ingest_date: dt.date,
    client: HttpClient | None = None,
) -> RawObject:
    period = BLOCKS_PERIOD
    resp = (client or client_for(settings)).get(
        f"{settings.mempool_url}{BLOCKS_PATH.format(period=period)}", accept={200, 404}
    )
    doc = parse_blocks(resp.body, resp.url) if resp.status == 200 else {"pools": []}
    return _land(lake, BLOCKS_DATASET, ingest_date, resp, period, {"rows": len(doc["pools"])})


# -- typed frames ------------------------------------------------------------------------------
SHARES_COLUMNS = ["week_end_at", "pool_name", "pool_slug", "share", "avg_hashrate_hs", "raw_key"]


def shares_frame(
    pages: list[tuple[str, bytes]], first_week_end: dt.datetime | None, last_week_end: dt.datetime
) -> pd.DataFrame:
    """Typed weekly buckets whose window ends in ``first_week_end..last_week_end`` (UTC)."""
    import pandas as pd

    rows = []
    for key, body in pages:
        for item in parse_shares(body, key):
            end = dt.datetime.fromtimestamp(item["timestamp"], tz=dt.UTC)
            if (first_week_end is None or end >= first_week_end) and end <= last_week_end:
                rows.append(
                    {
                        "week_end_at": end,
                        "pool_name": item["poolName"].strip(),
                        "pool_slug": slug_of(item["poolName"]),
                        "share": float(item["share"]),
                        "avg_hashrate_hs": float(item["avgHashrate"]),
                        "raw_key": key,
                    }
                )
    df = pd.DataFrame(rows, columns=SHARES_COLUMNS)
    df["week_end_at"] = pd.to_datetime(df["week_end_at"], utc=True)
    for col in ("pool_name", "pool_slug", "raw_key"):
        df[col] = df[col].astype("string")
    for col in ("share", "avg_hashrate_hs"):
        df[col] = df[col].astype("float64")
    return df.sort_values(["week_end_at", "pool_slug"]).reset_index(drop=True)


def response_time(sidecar: dict[str, Any]) -> dt.datetime:
    """When the source produced a response: its HTTP Date header, else our fetch time."""
    value = sidecar.get("date")
    if value:
        try:
            when = email.utils.parsedate_to_datetime(value)
            if when.tzinfo is not None:
                return when.astimezone(dt.UTC)
        except (TypeError, ValueError):
            pass
    return dt.datetime.fromisoformat(sidecar["fetched_at"].replace("Z", "+00:00"))


def minus_one_month(when: dt.datetime) -> dt.datetime:
    """MySQL's ``DATE_SUB(when, INTERVAL 1 MONTH)``: the same day and time a month earlier,
    clamped to the month's last day."""
    import calendar

    year, month = (when.year, when.month - 1) if when.month > 1 else (when.year - 1, 12)
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def calendar_month(window_end: dt.datetime) -> dt.date | None:
    """The month a 1m window ending at ``window_end`` stands for, or None when it ended more
    than MAX_MONTH_SKEW after a month's end (it then straddles two months)."""
    boundary = dt.datetime(window_end.year, window_end.month, 1, tzinfo=dt.UTC)
    if not dt.timedelta(0) <= window_end - boundary <= MAX_MONTH_SKEW:
        return None
    return minus_one_month(boundary).date()


BLOCKS_COLUMNS = [
    "month_start", "window_start_at", "window_end_at", "pool_slug", "pool_name", "pool_id",
    "rank", "block_count", "empty_blocks", "total_block_count", "raw_key",
]  # fmt: skip


def blocks_frame(body: bytes, raw_key: str, window_end: dt.datetime) -> pd.DataFrame:
    """Typed block counts of one 1m snapshot, with its window and the month it stands for
    (``month_start`` null when the window is no calendar month)."""
    import pandas as pd

    doc = parse_blocks(body, raw_key)
    month = calendar_month(window_end)
    start = minus_one_month(window_end)
    rows = [
        {
            "month_start": month,
            "window_start_at": start,
            "window_end_at": window_end,
            "pool_slug": (p.get("slug") or slug_of(p["name"])),
            "pool_name": p["name"].strip(),
            "pool_id": p.get("poolId"),
            "rank": p.get("rank"),
            "block_count": p["blockCount"],
            "empty_blocks": p.get("emptyBlocks"),
            "total_block_count": doc["blockCount"],
            "raw_key": raw_key,
        }
        for p in doc["pools"]
    ]
    df = pd.DataFrame(rows, columns=BLOCKS_COLUMNS)
    df["month_start"] = pd.to_datetime(df["month_start"])
    for col in ("window_start_at", "window_end_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    for col in ("pool_slug", "pool_name", "raw_key"):
        df[col] = df[col].astype("string")
    for col in ("pool_id", "rank", "block_count", "empty_blocks", "total_block_count"):
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    return df.sort_values(["block_count", "pool_slug"], ascending=[False, True]).reset_index(
        drop=True
    )
