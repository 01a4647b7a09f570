"""mempool.space mining API: ``/v1/mining/difficulty-adjustments`` (every retarget since genesis)
and ``/v1/mining/hashrate/{period}`` (the daily network hash rate, the second source of it).

Difficulty: each element is ``[timestamp, height, difficulty, change]``; difficulty applies to
blocks from ``height`` on. Newest first.

Hash rate: ``{"hashrates": [{"timestamp", "avgHashrate"}], "difficulty": [...], ...}``, one
bucket per day, ``avgHashrate`` in H/s. A bucket is stamped with the END of its 24 h window
(mempool's indexer steps back from the last midnight UTC by 86,400 s and stamps each window
with its end; backend/src/api/mining/mining.ts), so the bucket stamped 2024-05-02T00:00Z
covers 2024-05-01. Checked on the real ``all`` response against Coin Metrics' HashRate: the
end alignment gives a median daily difference of 0.46 % (start alignment: 7.8 %), the same
six zero days as Coin Metrics' six days without blocks (2009-01-03..08), and the same record
day (2024-04-23). The first entry is the genesis block's own timestamp (2009-01-03T18:15:05Z,
added by the indexer "manually"), not a daily window: it is left out.

Both are landed write-once like every raw response.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from typing import TYPE_CHECKING

from minerwatch.errors import NoDataError, SourceError
from minerwatch.http import HttpClient
from minerwatch.lake import Lake, RawObject
from minerwatch.settings import GENESIS_DATE
from minerwatch.sources.base import client_for, decode_json, land

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from minerwatch.settings import Settings

log = logging.getLogger(__name__)

SOURCE = "mempool"
DATASET = "difficulty_adjustments"
PATH = "/v1/mining/difficulty-adjustments"
HASHRATE_DATASET = "hashrate_daily"
HASHRATE_PATH = "/v1/mining/hashrate/{period}"
GENESIS_TIMESTAMP = 1231006505  # the genesis block's time: the indexer's extra first entry
DAY_S = 86_400
# The source's periods (backend Common.getSqlInterval: "BETWEEN DATE_SUB(NOW(), INTERVAL …) AND
# NOW()"), with the days each surely reaches back (a calendar month is at least 28 days).
# Anything longer, or an empty lake, takes "all".
PERIODS = (("1m", 28), ("3m", 89), ("6m", 181), ("1y", 365), ("2y", 730), ("3y", 1095))


def parse_difficulty(body: bytes, url: str) -> list[list[float]]:
    """The retargets of a ``/v1/mining/difficulty-adjustments`` body, shape-checked."""
    doc = decode_json(body, url, "mempool")
    if not isinstance(doc, list):
        raise SourceError(f"mempool response from {url} is a {type(doc).__name__}, expected a list")
    for i, item in enumerate(doc):
        if (
            not isinstance(item, list)
            or len(item) < 3
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in item[:4])
        ):
            raise SourceError(
                f"mempool response from {url}: element {i} is {item!r}, expected "
                "[timestamp, height, difficulty, change]"
            )
        if not all(math.isfinite(v) for v in item[:4]):
            raise SourceError(f"mempool response from {url}: element {i} has a non-finite number")
    return doc


def extract_difficulty(
    settings: Settings, lake: Lake, *, ingest_date: dt.date, client: HttpClient | None = None
) -> list[RawObject]:
    client = client or client_for(settings)
    resp = client.get(f"{settings.mempool_url}{PATH}")
    rows = parse_difficulty(resp.body, resp.url)
    return [land(lake, SOURCE, DATASET, ingest_date, resp, rows=len(rows))]


def difficulty_frame(pages: list[tuple[str, bytes]]) -> pd.DataFrame:
    """Typed retargets: height, adjusted_at (UTC), difficulty, change_ratio, raw_key."""
    import pandas as pd

    rows = []
    for key, body in pages:
        for item in parse_difficulty(body, key):
            rows.append(
                {
                    "height": int(item[1]),
                    "adjusted_at": dt.datetime.fromtimestamp(int(item[0]), tz=dt.UTC),
                    "difficulty": float(item[2]),
                    "change_ratio": float(item[3]) if len(item) > 3 else None,
                    "raw_key": key,
                }
            )
    df = pd.DataFrame(
        rows, columns=["height", "adjusted_at", "difficulty", "change_ratio", "raw_key"]
    )
    df = df.drop_duplicates(subset=["height"], keep="last").sort_values("height")
    df["height"] = df["height"].astype("int64")
    df["change_ratio"] = df["change_ratio"].astype("float64")
    return df.reset_index(drop=True)


# -- /v1/mining/hashrate/{period} --------------------------------------------------------------
def period_for(start: dt.date | None, today: dt.date) -> str:
    """The smallest period whose window reaches the bucket of day ``start`` (stamped
    ``start`` + 1 day, 00:00Z) from ``today``; ``all`` when ``start`` is None (an empty lake:
    the history starts at genesis). The period only sizes the request: what is staged is
    filtered to the run's window, so the staged partition does not depend on it."""
    if start is None:
        return "all"
    need = (today - start).days + 1  # the source's NOW is at most the end of today
    for name, days in PERIODS:
        if need <= days:
            return name
    return "all"


def parse_hashrate(body: bytes, url: str) -> list[dict[str, float]]:
    """The ``hashrates`` list of a ``/v1/mining/hashrate/{period}`` body, shape-checked."""
    doc = decode_json(body, url, "mempool")
    if not isinstance(doc, dict) or not isinstance(doc.get("hashrates"), list):
        shape = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise SourceError(
            f"mempool response from {url} has no 'hashrates' list ({shape}); expected "
            '{"hashrates": [{"timestamp", "avgHashrate"}], ...}'
        )
    out = []
    for i, item in enumerate(doc["hashrates"]):
        ts = item.get("timestamp") if isinstance(item, dict) else None
        value = item.get("avgHashrate") if isinstance(item, dict) else None
        if (
            not isinstance(ts, int)
            or isinstance(ts, bool)
            or not isinstance(value, int | float)
            or isinstance(value, bool)
        ):
            raise SourceError(
                f"mempool response from {url}: hashrates[{i}] is {item!r}, expected "
                "{timestamp: integer seconds, avgHashrate: number (H/s)}"
            )
        if not math.isfinite(float(value)):
            raise SourceError(
                f"mempool response from {url}: hashrates[{i}].avgHashrate is not finite"
            )
        out.append({"timestamp": ts, "avgHashrate": float(value)})
    return out


def bucket_day(timestamp: int) -> dt.date:
    """The UTC day a daily bucket covers: the day before its (end-of-window) stamp."""
    return dt.datetime.fromtimestamp(timestamp - DAY_S, tz=dt.UTC).date()


def extract_hashrate(
    settings: Settings,
    lake: Lake,
    *,
    start: dt.date | None,
    end: dt.date,
    ingest_date: dt.date,
    today: dt.date,
    client: HttpClient | None = None,
) -> RawObject:
    """Fetch the daily hash rate (period from ``start``, see ``period_for``) and land it
    write-once. A 404 (a mirror or proxy that does not serve the mining API) is landed too and
    raised as NoDataError: the second source is missing for this run, the run goes on."""
    client = client or client_for(settings)
    period = period_for(start, today)
    resp = client.get(
        f"{settings.mempool_url}{HASHRATE_PATH.format(period=period)}", accept={200, 404}
    )
    rows = parse_hashrate(resp.body, resp.url) if resp.status == 200 else []
    obj = land(
        lake, SOURCE, HASHRATE_DATASET, ingest_date, resp,
        params={"period": period}, date=resp.headers.get("date"),
        window_start=(start or GENESIS_DATE).isoformat(), window_end=end.isoformat(),
        rows=len(rows),
    )  # fmt: skip
    if resp.status == 404:
        raise NoDataError(
            f"mempool.space answered HTTP 404 for {resp.url}: this base URL "
            f"(MINERWATCH_MEMPOOL_URL) does not serve the mining hash rate; landed as {obj.key}",
            raw_key=obj.key,
            status=404,
        )
    log.info(
        "mempool.space hash rate (%s): %d daily buckets, landed as %s", period, len(rows), obj.key
    )
    return obj


HASHRATE_COLUMNS = ["date_day", "bucket_end_at", "avg_hashrate_hs", "raw_key"]


def hashrate_frame(pages: list[tuple[str, bytes]], start: dt.date, end: dt.date) -> pd.DataFrame:
    """Typed daily buckets for ``start..end``: date_day (the UTC day the bucket covers),
    bucket_end_at (the source's stamp, UTC), avg_hashrate_hs, raw_key. The genesis entry is
    left out (see the module doc); a later page wins for a day two pages hold."""
    import pandas as pd

    rows = []
    for key, body in pages:
        for item in parse_hashrate(body, key):
            ts = item["timestamp"]
            if ts == GENESIS_TIMESTAMP:
                continue
            day = bucket_day(ts)
            if start <= day <= end:
                rows.append(
                    {
                        "date_day": day,
                        "bucket_end_at": dt.datetime.fromtimestamp(ts, tz=dt.UTC),
                        "avg_hashrate_hs": item["avgHashrate"],
                        "raw_key": key,
                    }
                )
    df = pd.DataFrame(rows, columns=HASHRATE_COLUMNS)
    df = df.drop_duplicates(subset=["bucket_end_at"], keep="last").sort_values("bucket_end_at")
    df["bucket_end_at"] = pd.to_datetime(df["bucket_end_at"], utc=True)
    df["avg_hashrate_hs"] = df["avg_hashrate_hs"].astype("float64")
    df["raw_key"] = df["raw_key"].astype("string")
    return df.reset_index(drop=True)
