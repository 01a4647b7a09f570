"""What the two price providers (Yahoo, FMP) share: the columns of a staged price row, split
ratios, and the as-traded close rebuilt from a split-adjusted one.

Both providers give ``close`` split-adjusted as of the fetch; the as-traded close of a day is that
close times the ratios of every split after the day (in the fetched window: each run fetches the
whole history window, so the splits that adjusted a batch are the splits the batch lists).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from minerwatch.errors import SourceError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

COLUMNS = [
    "ticker", "date_day", "open", "high", "low", "close", "adj_close", "volume",
    "split_ratio", "close_as_traded", "raw_key",
]  # fmt: skip


def add_split(splits: dict[dt.date, float], day: dt.date, num: Any, den: Any, where: str) -> None:
    """Record a split of ``num`` new shares per ``den`` old on ``day`` (two on one day multiply);
    a ratio that is not positive raises SourceError naming ``where`` (the raw object)."""
    num, den = float(num), float(den)
    if num <= 0 or den <= 0:
        raise SourceError(f"{where}: split on {day} has ratio {num}:{den}")
    splits[day] = splits.get(day, 1.0) * num / den


def later_split_factor(days, splits: dict[dt.date, float]):
    """For each day, the product of split ratios (new shares per old) of splits after it:
    multiplying a split-adjusted price by it gives the price as traded that day."""
    import pandas as pd

    factors = []
    for day in days:
        f = 1.0
        for split_day, ratio in splits.items():
            if split_day > day:
                f *= ratio
        factors.append(f)
    return pd.Series(factors, index=getattr(days, "index", None), dtype="float64")


def as_traded_frame(rows: list[dict[str, Any]], splits: dict[dt.date, float]) -> pd.DataFrame:
    """Typed daily rows (``COLUMNS`` but ``close_as_traded``; one per day, the last wins),
    sorted by day, with ``close_as_traded`` rebuilt from ``splits``."""
    import pandas as pd

    df = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "close_as_traded"])
    df = df.sort_values("date_day").drop_duplicates("date_day", keep="last").reset_index(drop=True)
    df["close_as_traded"] = df["close"] * later_split_factor(df["date_day"], splits)
    # None on most days and a ratio on split days: pandas makes that an object column, so a
    # ticker with a split had another dtype than one without (and was validated apart)
    df["split_ratio"] = df["split_ratio"].astype("float64")
    return df[COLUMNS]
