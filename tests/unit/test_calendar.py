"""The NYSE calendar (exchange-calendars, XNYS) and the price-gap check of the market staging."""

import datetime as dt
import logging

import pandas as pd

from minerwatch import dates
from minerwatch.pipeline import market


def test_national_day_of_mourning_2025_01_09_is_no_trading_day():
    # NYSE closed for the national day of mourning for President Jimmy Carter
    assert not dates.is_trading_day(dt.date(2025, 1, 9))
    assert dates.is_trading_day(dt.date(2025, 1, 8))
    assert dates.is_trading_day(dt.date(2025, 1, 10))
    assert dt.date(2025, 1, 9) in dates.nyse_holidays(2025)
    assert dates.previous_trading_day(dt.date(2025, 1, 9)) == dt.date(2025, 1, 8)


def test_regular_holidays_and_month_ends():
    assert not dates.is_trading_day(dt.date(2024, 3, 29))  # Good Friday
    assert dates.month_end_trading_day(2024, 3) == dt.date(2024, 3, 28)
    assert dates.month_end_trading_day(2024, 12) == dt.date(2024, 12, 31)
    assert not dates.is_trading_day(dt.date(2024, 6, 19))  # Juneteenth
    assert dates.is_trading_day(dt.date(2024, 11, 29))  # early close: still a session


def test_a_batch_missing_a_trading_day_is_a_named_warning_not_a_quarantine(caplog):
    days = [d for d in dates.trading_days(dt.date(2025, 1, 2), dt.date(2025, 1, 31))]
    gap = dt.date(2025, 1, 15)
    frame = pd.DataFrame({"date_day": [d for d in days if d != gap], "close": 1.0})
    with caplog.at_level(logging.WARNING, logger="minerwatch.pipeline.market"):
        missing = market.warn_price_gaps("CLSK", frame)
    assert missing == [gap]
    assert "PRICE_GAP: CLSK" in caplog.text and "2025-01-15" in caplog.text
    # 2025-01-09 (closed) is not counted missing; an IPO mid-window is no gap
    full = pd.DataFrame({"date_day": days[5:]})
    assert market.missing_trading_days(full) == []
