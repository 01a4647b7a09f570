"""Holding the two hash-rate sources together (docs/methodology.md): Coin Metrics' HashRate
(``hashrate_ehs``) and mempool.space's daily avgHashrate (``hashrate_ehs_mempool``) must agree
within TOLERANCE over 30-day means. A divergence beyond it is a loud warning — in the log, with
the days and both values, and in the report — never a silent choice of one source.

The rule (the same as the dbt test ``rolling_means_agree`` on ``fct_network_daily``): for each
day from SINCE on whose trailing 30 calendar days have both sources on every day, divergence =
mean(mempool) / mean(Coin Metrics) − 1. Measured on the real files (refdata, 2011-01-01 ..
2024-05-31, 4,899 full windows): |divergence| max 0.272 % (2013-07-27), p99 0.168 %, p95
0.097 %, median 0.026 %. TOLERANCE = 1 %: 3.7× the worst real day, yet a series misaligned by
one day (each bucket on the day its stamp names instead of the day before) exceeds it on 19 %
of the days. Before 2011 the two estimates rest on few blocks and differ by up to 4.8 %.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from minerwatch.dates import as_day

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

log = logging.getLogger(__name__)

WINDOW_DAYS = 30
TOLERANCE = 0.01
SINCE = dt.date(2011, 1, 1)
PRIMARY, SECOND = "hashrate_ehs", "hashrate_ehs_mempool"


def rolling_means(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per day of ``frame`` (columns date_day, hashrate_ehs, hashrate_ehs_mempool):
    the two trailing 30-day means and the signed divergence, null where the window is not full
    for both sources or the day is before SINCE."""
    import pandas as pd

    days = frame[["date_day", PRIMARY, SECOND]].copy()
    days["at"] = pd.to_datetime(days["date_day"])
    days = days.sort_values("at")
    indexed = days.set_index("at")
    window = f"{WINDOW_DAYS}D"  # (day − 30 days, day]: the 30 calendar days ending on the day
    out = pd.DataFrame(index=days.index)
    out["date_day"] = days["date_day"]
    for col, name in ((PRIMARY, "primary_30d"), (SECOND, "second_30d")):
        values = indexed[col].astype("float64")
        mean = values.rolling(window).mean().to_numpy()
        count = values.rolling(window).count().to_numpy()
        out[name] = mean
        out[f"{name}_days"] = count
    full = (
        (out["primary_30d_days"] == WINDOW_DAYS)
        & (out["second_30d_days"] == WINDOW_DAYS)
        & (days["at"] >= pd.Timestamp(SINCE))
        & (out["primary_30d"] > 0)
    )
    out["divergence"] = (out["second_30d"] / out["primary_30d"] - 1).where(full)
    out.loc[~full, ["primary_30d", "second_30d"]] = float("nan")
    return out.reindex(frame.index)


def divergence_column(frame: pd.DataFrame) -> pd.Series:
    """|divergence| per row of ``frame`` (the column the mart's GX suite checks)."""
    return rolling_means(frame)["divergence"].abs().astype("float64")


def hashrate_divergences(frame: pd.DataFrame, tolerance: float = TOLERANCE) -> list[dict[str, Any]]:
    """Stretches of consecutive days beyond ``tolerance``, each with its worst day and both
    30-day means there (EH/s). [] when the sources agree (or there is nothing to compare)."""
    means = rolling_means(frame).dropna(subset=["divergence"]).sort_values("date_day")
    beyond = means[means["divergence"].abs() > tolerance]
    stretches: list[dict[str, Any]] = []
    for row in beyond.itertuples(index=False):
        day = as_day(row.date_day)
        item = {
            "date_day": day,
            "coinmetrics_ehs_30d": float(row.primary_30d),
            "mempool_ehs_30d": float(row.second_30d),
            "divergence": float(row.divergence),
        }
        last = stretches[-1] if stretches else None
        if last and day - last["last_day"] == dt.timedelta(days=1):
            last["last_day"] = day
            last["days"] += 1
            if abs(item["divergence"]) > abs(last["worst"]["divergence"]):
                last["worst"] = item
        else:
            stretches.append({"first_day": day, "last_day": day, "days": 1, "worst": item})
    return stretches


def warn_hashrate_divergence(
    frame: pd.DataFrame, tolerance: float = TOLERANCE
) -> list[dict[str, Any]]:
    """Log one WARNING per stretch of days beyond ``tolerance`` naming the days and both
    values; return the stretches (for the report)."""
    stretches = hashrate_divergences(frame, tolerance)
    for s in stretches:
        w = s["worst"]
        log.warning(
            "hash-rate sources diverge beyond %.1f %% (30-day means) on %s..%s (%d day(s)): "
            "worst %s, Coin Metrics %.3f EH/s vs mempool.space %.3f EH/s (%+.2f %%); "
            "both are kept (fct_network_daily.hashrate_ehs / hashrate_ehs_mempool), none chosen",
            100 * tolerance,
            s["first_day"],
            s["last_day"],
            s["days"],
            w["date_day"],
            w["coinmetrics_ehs_30d"],
            w["mempool_ehs_30d"],
            100 * w["divergence"],
        )
    return stretches
