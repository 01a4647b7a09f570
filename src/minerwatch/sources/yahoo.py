"""Yahoo Finance v8 chart: daily OHLCV with split and dividend events, no key (rate-limited).

Yahoo's ``close`` is split-adjusted and ``adjclose`` is split- and dividend-adjusted, both as of
the moment of the fetch. We keep ``adjclose`` for returns and reconstruct the as-traded close by
undoing every split inside the fetched window that happened after the day (``sources.prices``).
Each run fetches the whole history window (MINERWATCH_HISTORY_START..date), so the splits that
adjusted a batch are the splits the batch lists.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from minerwatch.errors import NoDataError, SourceError
from minerwatch.http import HttpClient
from minerwatch.lake import Lake, RawObject, key_part
from minerwatch.sources.base import client_for, decode_json, land
from minerwatch.sources.prices import add_split, as_traded_frame

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from minerwatch.settings import Settings

log = logging.getLogger(__name__)

SOURCE = "yahoo"
DATASET = "chart_daily"
# Yahoo answers 401 (invalid crumb) and 429 under load: both are retried with backoff + jitter.
RETRY_STATUS = frozenset({401, 429, 500, 502, 503, 504})


def _epoch(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def request(ticker: str, start: dt.date, end: dt.date) -> tuple[str, dict[str, str]]:
    path = f"/v8/finance/chart/{quote(ticker, safe='')}"
    params = {
        "period1": str(_epoch(start)),
        "period2": str(_epoch(end + dt.timedelta(days=1))),  # exclusive: include `end`
        "interval": "1d",
        "events": "split,div",
        "includeAdjustedClose": "true",
    }
    return path, params


def extract(
    settings: Settings,
    lake: Lake,
    *,
    ticker: str,
    start: dt.date,
    end: dt.date,
    ingest_date: dt.date,
    client: HttpClient | None = None,
) -> RawObject:
    key_part(ticker, "ticker")
    client = client or client_for(settings, retry_status=RETRY_STATUS)
    path, params = request(ticker, start, end)
    resp = client.get(settings.yahoo_url + path, params=params, accept={200, 404})
    no_data = no_data_reason(resp.status, resp.body)
    if resp.status == 404 and no_data is None:
        raise SourceError(
            f"GET {resp.url} returned HTTP 404 for {ticker} without Yahoo's no-data answer; "
            f"check MINERWATCH_YAHOO_URL. Body starts: {resp.body[:200]!r}"
        )
    if no_data is None:
        parse(resp.body, resp.url, ticker)  # reject before landing anything unusable
    obj = land(
        lake, SOURCE, DATASET, ingest_date, resp, params=params, ticker=ticker,
        window_start=start.isoformat(), window_end=end.isoformat(),
    )  # fmt: skip
    if no_data is not None:
        log.warning("Yahoo has no prices for %s (%s): landed as %s", ticker, no_data, obj.key)
        raise NoDataError(
            f"Yahoo has no prices for {ticker}: {no_data}", raw_key=obj.key, status=resp.status
        )
    return obj


def no_data_reason(status: int, body: bytes) -> str | None:
    """Yahoo's definitive "nothing for this symbol" answers, or None: HTTP 404 with
    ``chart.error`` (seen for delisted and unknown symbols: code "Not Found", "No data found,
    symbol may be delisted"), or HTTP 200 whose result has no trading day in the window."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    chart = doc.get("chart") if isinstance(doc, dict) else None
    if not isinstance(chart, dict):
        return None
    err = chart.get("error")
    if status == 404:
        if isinstance(err, dict) and err.get("code") == "Not Found":
            return str(err.get("description") or "Not Found")
        return None
    results = chart.get("result")
    if status == 200 and not err and isinstance(results, list) and results:
        first = results[0] if isinstance(results[0], dict) else {}
        if "timestamp" not in first and isinstance(first.get("meta"), dict):
            return "no trading day in the requested window"
    return None


def parse(body: bytes, url: str, ticker: str) -> dict[str, Any]:
    """Check the chart document's shape; return ``chart.result[0]``."""
    doc = decode_json(body, url, "Yahoo")
    chart = doc.get("chart") if isinstance(doc, dict) else None
    if not isinstance(chart, dict):
        raise SourceError(f"Yahoo response from {url} has no 'chart' object")
    if chart.get("error"):
        err = chart["error"]
        desc = err.get("description") if isinstance(err, dict) else err
        raise SourceError(f"Yahoo returned an error for {ticker} ({url}): {desc}")
    results = chart.get("result")
    if not isinstance(results, list) or not results or not isinstance(results[0], dict):
        raise SourceError(f"Yahoo response for {ticker} ({url}) has no chart.result")
    result = results[0]
    symbol = (result.get("meta") or {}).get("symbol")
    if symbol and symbol.upper() != ticker.upper():
        raise SourceError(f"Yahoo response from {url} is for {symbol!r}, expected {ticker!r}")
    stamps = result.get("timestamp") or []
    quote_ = ((result.get("indicators") or {}).get("quote") or [{}])[0]
    if not isinstance(stamps, list) or not isinstance(quote_, dict):
        raise SourceError(f"Yahoo response for {ticker} ({url}): timestamp/indicators malformed")
    for field in ("open", "high", "low", "close", "volume"):
        values = quote_.get(field, [] if not stamps else None)
        if not isinstance(values, list) or len(values) != len(stamps):
            raise SourceError(
                f"Yahoo response for {ticker} ({url}): indicators.quote.{field} missing or "
                f"not {len(stamps)} long"
            )
    return result


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SourceError(f"non-numeric price value {value!r}")
    return float(value) if math.isfinite(value) else None


def _numbers(values: list, field: str, ticker: str) -> list[float | None]:
    """``_number`` over a column: the same refusals (a bool or a non-number), None for null and
    non-finite values — one pass, without a call per value."""
    bad = next((v for v in values if v is not None and (type(v) not in (int, float))), _MISSING)
    if bad is not _MISSING:
        raise SourceError(f"non-numeric price value {bad!r} ({ticker} {field})")
    return [v if v is None or math.isfinite(v) else None for v in values]


_MISSING = object()


def to_frame(body: bytes, raw_key: str, ticker: str) -> pd.DataFrame:
    """Typed daily rows (all-null rows dropped) with the as-traded close reconstructed."""
    import pandas as pd

    result = parse(body, raw_key, ticker)
    meta = result.get("meta") or {}
    tz = ZoneInfo(meta.get("exchangeTimezoneName") or "UTC")
    stamps = result.get("timestamp") or []
    q = ((result.get("indicators") or {}).get("quote") or [{}])[0]
    adj = ((result.get("indicators") or {}).get("adjclose") or [{}])[0].get("adjclose")
    splits: dict[dt.date, float] = {}
    for item in ((result.get("events") or {}).get("splits") or {}).values():
        day = dt.datetime.fromtimestamp(int(item["date"]), tz=tz).date()
        add_split(splits, day, item["numerator"], item["denominator"], raw_key)
    if any(type(ts) is not int for ts in stamps):
        raise SourceError(f"{raw_key}: a timestamp of {ticker} is not an integer")
    cols = {f: _numbers(q[f], f, ticker) for f in ("open", "high", "low", "close", "volume")}
    n = len(stamps)
    if isinstance(adj, list):
        cols["adj_close"] = _numbers(adj[:n], "adjclose", ticker) + [None] * max(0, n - len(adj))
    else:
        cols["adj_close"] = [None] * n
    # each timestamp's date in the exchange's time zone (a session's stamp is its open)
    days = pd.to_datetime(pd.Series(stamps, dtype="int64"), unit="s", utc=True).dt.tz_convert(tz)
    frame = pd.DataFrame({"date_day": days.dt.date, **cols}).astype({c: "float64" for c in cols})
    keep = frame["close"].notna()
    dropped = int((~keep).sum())
    if dropped:
        log.info("%s: dropped %d day(s) with no close (Yahoo null rows)", ticker, dropped)
    frame = frame[keep]
    frame.insert(0, "ticker", ticker)
    frame["split_ratio"] = frame["date_day"].map(splits)
    frame["raw_key"] = raw_key
    df = as_traded_frame(frame, splits)
    if df["adj_close"].isna().all():
        # no dividends reported: the split-adjusted close is the total return
        df["adj_close"] = df["close"]
    return df
