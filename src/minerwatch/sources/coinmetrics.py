"""Coin Metrics community API v4, ``timeseries/asset-metrics`` for btc, daily — and its
fallback, Coin Metrics' published daily CSV (GitHub coinmetrics/data ``csv/btc.csv``).

The extract lands every page's exact bytes in the lake (write-once), following
``next_page_url``; the parse turns landed pages into one typed frame. Both reject a
malformed or unexpected body with an error naming the URL and the problem.

When the API refuses access (HTTP 401/403: users report 401 without a key), it raises
:class:`AccessRefused`; the pipeline then takes the CSV (``extract_csv``), lands it write-once
under its own dataset (``raw/coinmetrics/btc_csv/``) and parses the same six metrics for the
same window. Transient errors (429, 5xx, timeouts) are retried as before, never a reason to
fall back. Which one a staged row came from is ``provider_of(raw_key)``: ``coinmetrics:api``
or ``coinmetrics:csv``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import math
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from minerwatch.errors import SourceError
from minerwatch.http import HttpClient, redact_params, redact_url
from minerwatch.lake import Lake, RawObject
from minerwatch.sources.base import client_for, decode_json, land

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from minerwatch.settings import Settings

log = logging.getLogger(__name__)

SOURCE = "coinmetrics"
DATASET = "btc_asset_metrics"
CSV_DATASET = "btc_csv"  # the published CSV, landed when the API refuses access
REFUSED_STATUS = frozenset({401, 403})
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
    doc = decode_json(body, url, "Coin Metrics")
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


class AccessRefused(SourceError):
    """The community API refused access (HTTP 401/403): definitive for this run, not retried;
    the pipeline falls back to the published CSV."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def provider_of(raw_key: str) -> str:
    """``coinmetrics:csv`` for a row parsed from the published CSV, else ``coinmetrics:api``."""
    return "coinmetrics:csv" if f"/{CSV_DATASET}/" in raw_key else "coinmetrics:api"


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
    client = client or client_for(settings)
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
        resp = client.get(url, params=params, accept={200, *REFUSED_STATUS})
        if resp.status in REFUSED_STATUS:
            raise AccessRefused(
                f"GET {resp.url} returned HTTP {resp.status}: the Coin Metrics community API "
                "refused access; check the API key setting (MINERWATCH_COINMETRICS_API_KEY: "
                "wrong, or wanted) — the daily run falls back to the published CSV "
                f"(MINERWATCH_COINMETRICS_CSV_URL). Body starts: {resp.body[:200]!r}",
                resp.status,
            )
        doc = parse_page(resp.body, resp.url)
        # Coin Metrics echoes the API key inside next_page_url: the landed bytes are the
        # response with the key's value replaced, so no secret ever reaches the lake.
        body, redacted = _redact_secret(resp.body, settings.coinmetrics_api_key)
        obj = land(
            lake, SOURCE, DATASET, ingest_date, resp,
            params=redact_params(params) if params else None, body=body, page=page,
            window_start=start.isoformat(), window_end=end.isoformat(),
            rows=len(doc["data"]), redacted=redacted,
        )  # fmt: skip
        landed.append(obj)
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
    """Typed rows of landed API pages ``[(raw_key, body), ...]``.

    Columns: date_day (date), the metrics as numbers (nulls kept), raw_key. A value that is
    not a number raises SourceError naming the raw object, the day and the metric.
    """
    return items_frame([(key, parse_page(body, key)["data"]) for key, body in pages])


def items_frame(batches: list[tuple[str, list[dict[str, Any]]]]) -> pd.DataFrame:
    """Typed rows of API-shaped items (``time`` + metric strings), grouped by raw key."""
    import pandas as pd

    rows = []
    for key, items in batches:
        for item in items:
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


# -- fallback: the published CSV -----------------------------------------------------------------
def csv_items(body: bytes, url: str, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """The rows of Coin Metrics' data CSV (``time`` as YYYY-MM-DD, one column per metric, empty
    where the source has no value) for ``start..end``, in the API's item shape. Raises
    SourceError naming ``url`` if the body is not that CSV or lacks one of the six metrics."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(f"Coin Metrics CSV from {url} is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = reader.fieldnames or []
    if "time" not in columns:
        raise SourceError(
            f"Coin Metrics CSV from {url} has no 'time' column (first columns: {columns[:5]}); "
            f"body starts {body[:80].decode('utf-8', 'replace')!r}"
        )
    missing = [m for m in METRICS if m not in columns]
    if missing:
        raise SourceError(
            f"Coin Metrics CSV from {url} lacks the metric column(s) {', '.join(missing)}; "
            "check MINERWATCH_COINMETRICS_CSV_URL points at Coin Metrics' btc.csv"
        )
    items = []
    for line, row in enumerate(reader, start=2):
        stamp = (row.get("time") or "").strip()
        try:
            day = dt.date.fromisoformat(stamp[:10])
        except ValueError:
            raise SourceError(
                f"Coin Metrics CSV from {url}, line {line}: time {stamp!r} is not YYYY-MM-DD"
            ) from None
        if start <= day <= end:
            item: dict[str, Any] = {"asset": ASSET, "time": f"{day.isoformat()}T00:00:00Z"}
            item.update({m: row[m] for m in METRICS if (row.get(m) or "") != ""})
            items.append(item)
    return items


def csv_frame(body: bytes, raw_key: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Typed rows of a landed CSV for the window it was fetched for (same columns as
    ``to_frame``), so the same gate and the same staging apply."""
    return items_frame([(raw_key, csv_items(body, raw_key, start, end))])


def extract_csv(
    settings: Settings,
    lake: Lake,
    *,
    start: dt.date,
    end: dt.date,
    ingest_date: dt.date,
    refused_status: int | None = None,
    client: HttpClient | None = None,
) -> RawObject:
    """Fetch the published CSV (``settings.coinmetrics_csv_url``), land it write-once with its
    window in the sidecar, and check it has rows for the window."""
    if end < start:
        raise ValueError(f"window end {end} is before its start {start}")
    client = client or client_for(settings)
    resp = client.get(settings.coinmetrics_csv_url)
    items = csv_items(resp.body, resp.url, start, end)
    obj = land(
        lake, SOURCE, CSV_DATASET, ingest_date, resp,
        content_type=resp.headers.get("content-type"),
        window_start=start.isoformat(), window_end=end.isoformat(), rows=len(items),
        fallback_for=f"{settings.coinmetrics_url}/timeseries/asset-metrics",
        api_status=refused_status,
    )  # fmt: skip
    if not items:
        raise SourceError(
            f"Coin Metrics CSV from {resp.url} has no rows for {start}..{end} (landed as "
            f"{obj.key}); the published file may lag the API: run again later"
        )
    last = max(dt.date.fromisoformat(i["time"][:10]) for i in items)
    if last < end:
        log.warning(
            "Coin Metrics CSV from %s ends on %s, before the window end %s: the missing days "
            "come with a later run (its window overlaps the last staged days)",
            resp.url,
            last,
            end,
        )
    log.info("Coin Metrics CSV %s..%s: %d rows, landed as %s", start, end, len(items), obj.key)
    return obj
