"""Source freshness, checked by the audit: each source's newest staged day against the run's date.

A run whose sources stop short of its date would publish old numbers as current. The audit
(``publish.audit``) calls :func:`check` before it publishes; a source behind by more than its
allowed lag (``MINERWATCH_MAX_LAG_DAYS``, reasons in docs/settings.md) makes the run red, with a
message naming the source and its newest day, and the last publication stays.

The newest day of each source is read from its staged partitions up to the run's date:

* coinmetrics: newest ``date_day`` of ``staged/coinmetrics/btc_asset_metrics``;
* mempool: newest ``date_day`` of ``staged/mempool/hashrate_daily`` (the daily series; difficulty
  adjustments come only every 2,016 blocks, about two weeks);
* market: newest ``date_day`` of any miner's prices (BTC-USD, which trades every day, left out),
  measured against the newest NYSE trading day on or before the run's date;
* sec: the newest day a filings list was staged for (when the list was fetched): the companies'
  own filing dates depend on their calendars, not on ours.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from minerwatch.dates import previous_trading_day
from minerwatch.lake import Lake

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Freshness:
    source: str
    dataset: str
    newest: dt.date | None  # None: nothing staged
    expected: dt.date  # the day the source should reach
    max_lag_days: int

    @property
    def lag_days(self) -> int | None:
        return None if self.newest is None else (self.expected - self.newest).days

    @property
    def stale(self) -> bool:
        # nothing staged at all is not staleness: a lake that never ran that source (a partial
        # pipeline, a backfill of a date before its first batch) is warned about, not failed;
        # in a DAG run every source stages before the audit, or the build does not run
        return self.newest is not None and self.lag_days > self.max_lag_days

    def text(self) -> str:
        where = f"staged/{self.source}/{self.dataset}"
        if self.newest is None:
            return f"{self.source}: nothing staged in {where} on or before {self.expected}"
        return (
            f"{self.source}: newest day {self.newest} in {where}, {self.lag_days} day(s) behind "
            f"{self.expected} (allowed {self.max_lag_days}, MINERWATCH_MAX_LAG_DAYS)"
        )


def _newest_date(lake: Lake, source: str, dataset: str, day: dt.date, column: str | None):
    """The newest value of ``column`` (or, without one, the newest partition date) over the
    staged partitions for runs on or before ``day`` (the newest partitions only:
    ``staging.newest_staged``)."""
    from minerwatch.pipeline import staging

    if column is None:
        return lake.newest_partition_date(source, dataset, through=day)

    def not_btc(df):
        return df[df["ticker"] != "BTC-USD"] if "ticker" in df.columns else df

    newest = staging.newest_staged(lake, source, dataset, day, column, keep=not_btc)
    return None if newest is None else newest.date()


# source -> (dataset, date column or None for the partition date)
SOURCES: dict[str, tuple[str, str | None]] = {
    "coinmetrics": ("btc_asset_metrics", "date_day"),
    "mempool": ("hashrate_daily", "date_day"),
    "market": ("prices_daily", "date_day"),
    "sec": ("filings", None),
}


def measure(lake: Lake, day: dt.date, max_lag_days: dict[str, int]) -> list[Freshness]:
    out = []
    for source, (dataset, column) in SOURCES.items():
        expected = previous_trading_day(day) if source == "market" else day
        newest = _newest_date(lake, source, dataset, day, column)
        out.append(Freshness(source, dataset, newest, expected, max_lag_days[source]))
    return out


def check(lake: Lake, day: dt.date, max_lag_days: dict[str, int]) -> list[str]:
    """Failure messages of the stale sources (empty: all fresh); every source's state is logged."""
    failures = []
    for f in measure(lake, day, max_lag_days):
        if f.stale:
            failures.append(f"stale source {f.text()}")
        elif f.newest is None:
            log.warning("freshness not checked: %s", f.text())
        else:
            log.info("fresh: %s", f.text())
    return failures
