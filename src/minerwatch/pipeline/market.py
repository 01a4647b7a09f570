"""Market task bodies: each ticker's daily prices and splits from the configured provider
(Yahoo, or FMP with a key), landed write-once, then gated and staged per ticker with the
coverage row of every ticker asked for (a ticker the source has no data for is named, not fatal).

Each ticker's batch is checked against the NYSE calendar (exchange-calendars, XNYS): a trading day
missing between its first and last day is a named warning (``PRICE_GAP``), not a quarantine. A gap
moves that ticker's month-end close to an earlier day, so it must be seen; but a halted or
suspended stock has no bar for a session it did not trade, and quarantining the batch would drop
its whole history (and the day's coverage) for one legitimate hole. An IPO mid-window is no gap
(only days between a batch's own first and last day count).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from minerwatch.dates import as_day, trading_days
from minerwatch.errors import NoDataError
from minerwatch.lake import Lake
from minerwatch.pipeline import staging
from minerwatch.settings import Settings
from minerwatch.sources import fmp, yahoo

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

log = logging.getLogger(__name__)

MARKET_SOURCE = "market"
MARKET_DATASET = "prices_daily"


def extract_prices(logical_date, ticker: str, settings: Settings | None = None) -> dict:
    """Land the whole price history window of one ticker from the configured provider."""
    settings, lake = staging.context(settings)
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
    bodies = [(k, lake.read_bytes(k)) for k in batch["keys"]]
    if batch["provider"] == "fmp":
        df = fmp.to_frame(bodies[0], bodies[1], batch["ticker"])
    else:
        df = yahoo.to_frame(bodies[0][1], bodies[0][0], batch["ticker"])
    df["provider"] = batch["provider"]
    return df


PRICE_GAP = "PRICE_GAP"  # the warning's tag, for log searches and alert rules


def missing_trading_days(frame: pd.DataFrame) -> list:
    """NYSE sessions between the batch's first and last ``date_day`` that it has no row for."""
    import pandas as pd

    if frame.empty or "date_day" not in frame.columns:
        return []
    days = {d.date() for d in pd.to_datetime(frame["date_day"]).dropna()}
    if not days:
        return []
    return [d for d in trading_days(min(days), max(days)) if d not in days]


def warn_price_gaps(ticker: str, frame: pd.DataFrame) -> list:
    """Log a named warning for a batch with missing trading days; returns those days."""
    missing = missing_trading_days(frame)
    if missing:
        shown = ", ".join(d.isoformat() for d in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        log.warning(
            "%s: %s has no price on %d NYSE trading day(s) between its first and last day: %s%s "
            "(a halt or suspension, or the source's hole; its month-end close may fall earlier)",
            PRICE_GAP, ticker, len(missing), shown, more,
        )  # fmt: skip
    return missing


def stage_prices(logical_date, batches: list[dict], settings: Settings | None = None) -> list[str]:
    settings, lake = staging.context(settings)
    day = as_day(logical_date)
    coverage = [
        {"member": b["ticker"], "provider": b["provider"], "status": b.get("status", "landed"),
         "reason": b.get("reason"), "raw_key": (b["keys"] or [None])[0]}
        for b in batches
    ]  # fmt: skip
    staging.write_coverage(lake, MARKET_SOURCE, day, coverage)
    missing = [c["member"] for c in coverage if c["status"] == "no_data"]
    if missing:
        log.warning("no prices from the source for %s (coverage staged)", ", ".join(missing))
    priced = [b for b in batches if b.get("status", "landed") == "landed"]
    items = [(b["ticker"], price_frame(lake, b), b["keys"]) for b in priced]
    for ticker, frame, _ in items:
        warn_price_gaps(ticker, frame)
    return staging.stage_each(
        lake, day, MARKET_SOURCE, MARKET_DATASET, "market_prices_daily", items,
        lambda ticker: {"ticker": ticker},
    )  # fmt: skip
