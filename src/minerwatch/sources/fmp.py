"""Financial Modeling Prep end-of-day prices: the keyed alternative to Yahoo
(MINERWATCH_MARKET_PROVIDER=fmp, MINERWATCH_FMP_API_KEY).

``/api/v3/historical-price-full/{symbol}?from&to&apikey`` gives daily OHLCV with ``close``
split-adjusted and ``adjClose`` (dividends too); ``/api/v3/historical-price-full/stock_split/
{symbol}`` gives the splits. Both land write-once (key redacted); the frame has the same columns
as Yahoo's, with the as-traded close reconstructed the same way.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from minerwatch.errors import ConfigurationError, NoDataError, SourceError
from minerwatch.http import HttpClient
from minerwatch.lake import Lake, RawObject, key_part
from minerwatch.sources.base import client_for, decode_json, land
from minerwatch.sources.prices import add_split, as_traded_frame

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from minerwatch.settings import Settings

SOURCE = "fmp"
PRICES = "historical_price_full"
SPLITS = "stock_split"


def _require_key(settings: Settings) -> str:
    if not settings.fmp_api_key:
        raise ConfigurationError(
            "MINERWATCH_MARKET_PROVIDER=fmp needs an API key: set MINERWATCH_FMP_API_KEY "
            "(or use MINERWATCH_MARKET_PROVIDER=yahoo, which needs none)"
        )
    return settings.fmp_api_key


def _load(body: bytes, url: str, ticker: str) -> dict[str, Any]:
    doc = decode_json(body, url, "FMP")
    if isinstance(doc, dict) and "Error Message" in doc:
        raise SourceError(f"FMP returned an error for {ticker} ({url}): {doc['Error Message']}")
    if not isinstance(doc, dict) or not isinstance(doc.get("historical", []), list):
        raise SourceError(f"FMP response for {ticker} ({url}) has no 'historical' list")
    if doc and doc.get("symbol") not in (None, ticker):
        raise SourceError(
            f"FMP response from {url} is for {doc.get('symbol')!r}, expected {ticker!r}"
        )
    return doc


def extract(
    settings: Settings,
    lake: Lake,
    *,
    ticker: str,
    start: dt.date,
    end: dt.date,
    ingest_date: dt.date,
    client: HttpClient | None = None,
) -> list[RawObject]:
    key = _require_key(settings)
    key_part(ticker, "ticker")
    # the project's retryable statuses (429, 5xx): a 401 here is a wrong key, not Yahoo's
    # expired crumb, so it fails at once
    client = client or client_for(settings)
    out = []
    for dataset, path, params in (
        (PRICES, f"/api/v3/historical-price-full/{quote(ticker, safe='')}",
         {"from": start.isoformat(), "to": end.isoformat()}),
        (SPLITS, f"/api/v3/historical-price-full/stock_split/{quote(ticker, safe='')}", {}),
    ):  # fmt: skip
        resp = client.get(settings.fmp_url + path, params={**params, "apikey": key})
        _load(resp.body, resp.url, ticker)
        body = resp.body.replace(key.encode(), b"REDACTED")
        obj = land(
            lake, SOURCE, dataset, ingest_date, resp, params=params, body=body, ticker=ticker
        )
        out.append(obj)
        if dataset == PRICES and not _load(resp.body, resp.url, ticker).get("historical"):
            # FMP answers an unknown or delisted symbol with 200 and an empty object
            raise NoDataError(
                f"FMP has no prices for {ticker} in {start}..{end}", raw_key=obj.key, status=200
            )
    return out


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def to_frame(prices: tuple[str, bytes], splits: tuple[str, bytes], ticker: str) -> pd.DataFrame:
    pkey, pbody = prices
    skey, sbody = splits
    split_days: dict[dt.date, float] = {}
    for item in _load(sbody, skey, ticker).get("historical", []):
        day = dt.date.fromisoformat(item["date"])
        add_split(split_days, day, item["numerator"], item["denominator"], skey)
    rows = []
    for item in _load(pbody, pkey, ticker).get("historical", []):
        close = _num(item.get("close"))
        if close is None:
            continue
        day = dt.date.fromisoformat(item["date"])
        rows.append(
            {
                "ticker": ticker, "date_day": day, "open": _num(item.get("open")),
                "high": _num(item.get("high")), "low": _num(item.get("low")), "close": close,
                "adj_close": _num(item.get("adjClose")) or close,
                "volume": _num(item.get("volume")), "split_ratio": split_days.get(day),
                "raw_key": pkey,
            }
        )  # fmt: skip
    return as_traded_frame(rows, split_days)
