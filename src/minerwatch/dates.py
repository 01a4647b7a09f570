"""Date helpers shared by every stage: the data day of a logical date, and the NYSE trading
calendar from ``exchange-calendars`` (XNYS: the regular holidays, and the ad-hoc closures a rule
cannot know, e.g. 2025-01-09, the national day of mourning for President Carter; an early close is
a trading day). The calendar (pandas) is loaded on first use, so importing this module stays cheap.
"""

from __future__ import annotations

import datetime as dt
import functools


def as_day(value: dt.date | dt.datetime | str) -> dt.date:
    """The UTC day of a logical date (a datetime, a date or an ISO string)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


# -- the NYSE calendar ----------------------------------------------------------------------
# the calendar's span: before 2000 no miner traded; past its last known year, exchange-calendars
# projects the regular holidays (ad-hoc closures are added by its releases: keep it updated)
CALENDAR_START = dt.date(2000, 1, 3)
CALENDAR_END = dt.date(2035, 12, 31)


@functools.cache
def nyse_calendar():
    """The XNYS exchange calendar (exchange_calendars.ExchangeCalendar), loaded once."""
    import warnings

    import exchange_calendars as xcals

    with warnings.catch_warnings():  # "end beyond the last known holiday": the rules project it
        warnings.simplefilter("ignore")
        return xcals.get_calendar(
            "XNYS", start=CALENDAR_START.isoformat(), end=CALENDAR_END.isoformat()
        )


@functools.cache
def _sessions() -> frozenset[dt.date]:
    return frozenset(ts.date() for ts in nyse_calendar().sessions)


@functools.cache
def _sorted_sessions() -> tuple[dt.date, ...]:
    return tuple(sorted(_sessions()))


def _check_span(day: dt.date) -> None:
    if not CALENDAR_START <= day <= CALENDAR_END:
        raise ValueError(
            f"{day} is outside the NYSE calendar's span {CALENDAR_START}..{CALENDAR_END} "
            "(minerwatch.dates.CALENDAR_START/END)"
        )


def is_trading_day(day: dt.date) -> bool:
    """A NYSE session (XNYS): not a weekend, a holiday or an ad-hoc closure."""
    _check_span(day)
    return day in _sessions()


def nyse_holidays(year: int) -> set[dt.date]:
    """The weekdays of ``year`` NYSE was (or will be) closed: holidays and ad-hoc closures."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    days = (first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    return {d for d in days if d.weekday() < 5 and not is_trading_day(d)}


def trading_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """NYSE sessions from ``start`` to ``end``, both included."""
    import bisect

    _check_span(start)
    _check_span(end)
    days = _sorted_sessions()  # bisected: sorting the sessions per price batch took ~14 ms
    return list(days[bisect.bisect_left(days, start) : bisect.bisect_right(days, end)])


def previous_trading_day(day: dt.date) -> dt.date:
    """The newest NYSE session on or before ``day``."""
    while not is_trading_day(day):
        day -= dt.timedelta(days=1)
    return day


def month_end_trading_day(year: int, month: int) -> dt.date:
    """The month's last NYSE session (its month-end close)."""
    last = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return previous_trading_day(last)
