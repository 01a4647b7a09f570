"""Coin Metrics community API v4, ``timeseries/asset-metrics`` for btc, daily.

The extract lands every page's exact bytes in the lake (write-once), following
``next_page_url``; the parse turns landed pages into one typed frame. Both reject a
malformed or unexpected body with an error naming the URL and the problem.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from minerwatch.errors import SourceError
from minerwatch.http import HttpClient, redact_params, redact_url
from minerwatch.lake import Lake, RawObject

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from minerwatch.settings import Settings

log = logging.getLogger(__name__)

SOURCE = "coinmetrics"
DATASET = "btc_asset_metrics"
ASSET = "btc"
METRICS = ("PriceUSD", "HashRate", "SplyCur", "IssTotNtv", "FeeTotNtv", "BlkCnt")
PAGE_SIZE = 10_000
MAX_PAGES = 1_000


def request_params(start: dt.date, end: dt.date, api_key: str | None) -> dict[str, str]:
    params = {
        "assets": ASSET,
        "metrics": ",".join(METRICS),
        "frequency": "1d",
        "start_time": start.isoformat(),
        "end_time": end.isoformat(),
        "page_size": str(PAGE_SIZE),
        "paging_from": "start",
    }
    if api_key:
        params["api_key"] = api_key
    return params


def parse_page(body: bytes, url: str) -> dict[str, Any]:
    """Check one page's shape; return the decoded JSON. Raises SourceError naming ``url``."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        start = body[:80].decode("utf-8", "replace")
        raise SourceError(
            f"Coin Metrics response from {url} is not valid JSON ({exc}); body starts {start!r}"
        ) from None
    if not isinstance(doc, dict):
        raise SourceError(
            f"Coin Metrics response from {url} is a {type(doc).__name__}, not an object"
        )
    if "error" in doc:
        err = doc["error"]
        msg = err.get("message") if isinstance(err, dict) else err
        raise SourceError(f"Coin Metrics returned an error for {url}: {msg}")
    data = doc.get("data")
    if not isinstance(data, list):
        raise SourceError(
            f"Coin Metrics response from {url} has no 'data' list (keys: {sorted(doc)})"
        )
    for i, row in enumerate(data):
        if not isinstance(row, dict):
            raise SourceError(f"Coin Metrics response from {url}: data[{i}] is not an object")
        if row.get("asset") != ASSET:
            raise SourceError(
                f"Coin Metrics response from {url}: data[{i}] has asset {row.get('asset')!r}, "
                f"expected {ASSET!r}"
            )
        if not isinstance(row.get("time"), str):
            raise SourceError(f"Coin Metrics response from {url}: data[{i}] has no 'time' string")
        for metric in METRICS:
            value = row.get(metric)
            if value is not None and not isinstance(value, str | int | float):
                raise SourceError(
                    f"Coin Metrics response from {url}: data[{i}].{metric} is {value!r}, "
                    "expected a number in a string"
                )
    nxt = doc.get("next_page_url")
    if nxt is not None and not isinstance(nxt, str):
        raise SourceError(f"Coin Metrics response from {url}: next_page_url is not a string")
    return doc


def _redact_secret(body: bytes, secret: str | None) -> tuple[bytes, list[str]]:
    if not secret:
        return body, []
    out = body
    for form in {secret, quote(secret, safe="")}:
        out = out.replace(form.encode(), b"REDACTED")
    return out, (["api_key"] if out != body else [])


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.netloc) == (pb.scheme, pb.netloc)


def extract(
    settings: Settings,
    lake: Lake,
    *,
    start: dt.date,
    end: dt.date,
    ingest_date: dt.date,
    client: HttpClient | None = None,
) -> list[RawObject]:
    """Fetch ``start..end`` (inclusive) page by page; land each page write-once."""
    if end < start:
        raise ValueError(f"window end {end} is before its start {start}")
    client = client or HttpClient(
        timeout_s=settings.http_timeout_s,
        max_retries=settings.http_max_retries,
        backoff_s=settings.http_backoff_s,
    )
    base = settings.coinmetrics_url
    url: str | None = f"{base}/timeseries/asset-metrics"
    params: dict[str, str] | None = request_params(start, end, settings.coinmetrics_api_key)
    landed: list[RawObject] = []
    seen: set[str] = set()
    page, rows, started = 0, 0, time.monotonic()
    span = (end - start).days + 1
    while url:
        page += 1
        if page > MAX_PAGES:
            raise SourceError(f"Coin Metrics paging did not end after {MAX_PAGES} pages at {base}")
        resp = client.get(url, params=params)
        doc = parse_page(resp.body, resp.url)
        # Coin Metrics echoes the API key inside next_page_url: the landed bytes are the
        # response with the key's value replaced, so no secret ever reaches the lake.
        body, redacted = _redact_secret(resp.body, settings.coinmetrics_api_key)
        meta = {
            "source": SOURCE,
            "dataset": DATASET,
            "url": resp.url,
            "params": redact_params(params) if params else None,
            "status": resp.status,
            "fetched_at": resp.fetched_at,
            "attempts": resp.attempts,
            "page": page,
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
            "rows": len(doc["data"]),
            "redacted": redacted,
        }
        landed.append(lake.put_raw(SOURCE, DATASET, ingest_date, body, meta))
        rows += len(doc["data"])
        if span > PAGE_SIZE:  # a long window (history, backfill): say how far it got
            elapsed = max(time.monotonic() - started, 1e-9)
            log.info(
                "Coin Metrics %s..%s: page %d, %d of ~%d days (%.0f%%), %.0f rows/s",
                start,
                end,
                page,
                rows,
                span,
                100 * min(rows / span, 1),
                rows / elapsed,
            )
        nxt = doc.get("next_page_url")
        if not nxt:
            break
        if not _same_origin(nxt, base):
            raise SourceError(
                f"Coin Metrics next_page_url {redact_url(nxt)} leaves the configured base URL "
                f"{base}; refusing to follow it (it would carry the API key elsewhere)"
            )
        if nxt in seen:
            raise SourceError(f"Coin Metrics paging loops at {redact_url(nxt)}")
        seen.add(nxt)
        url, params = nxt, None
    log.info(
        "Coin Metrics %s..%s: %d page(s), %d new raw object(s)",
        start,
        end,
        len(landed),
        sum(o.created for o in landed),
    )
    return landed


COLUMNS = {
    "PriceUSD": "float64",
    "HashRate": "float64",
    "SplyCur": "float64",
    "IssTotNtv": "float64",
    "FeeTotNtv": "float64",
    "BlkCnt": "Int64",
}


def to_frame(pages: list[tuple[str, bytes]]) -> pd.DataFrame:
    """Typed rows of landed pages ``[(raw_key, body), ...]``.

    Columns: date_day (date), the metrics as numbers (nulls kept), raw_key. A value that is
    not a number raises SourceError naming the raw object, the day and the metric.
    """
    import pandas as pd

    rows = []
    for key, body in pages:
        doc = parse_page(body, key)
        for item in doc["data"]:
            try:
                day = dt.datetime.fromisoformat(item["time"].replace("Z", "+00:00")[:19]).date()
            except ValueError:
                raise SourceError(f"{key}: time {item['time']!r} is not RFC 3339") from None
            row: dict[str, Any] = {"date_day": day, "raw_key": key}
            for metric in METRICS:
                value = item.get(metric)
                if value is None or value == "":
                    row[metric] = None
                    continue
                try:
                    number = float(value)
                except (TypeError, ValueError):
                    number = math.nan
                if not math.isfinite(number):
                    raise SourceError(f"{key}: {metric} on {day} is {value!r}, not a finite number")
                row[metric] = number
            rows.append(row)
    df = pd.DataFrame(rows, columns=["date_day", *METRICS, "raw_key"])
    for col, dtype in COLUMNS.items():
        if dtype == "Int64":
            vals = pd.to_numeric(df[col])
            bad = vals.notna() & (vals != vals.round())
            if bad.any():
                day = df.loc[bad, "date_day"].iloc[0]
                raise SourceError(f"BlkCnt on {day} is not a whole number: {vals[bad].iloc[0]}")
            df[col] = vals.round().astype("Int64")
        else:
            df[col] = pd.to_numeric(df[col]).astype("float64")
    return df
