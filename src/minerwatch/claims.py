"""Check published claims (a YAML file: figure, day or month, value, tolerance, where it was
published) against the warehouse. Each claim comes back supported, contradicted, or "not enough
data", with the value the warehouse computes and, in its explanation, why.

A claim names a mart column — ``fct_sector_monthly.sector_hashrate_share`` or just
``sector_hashrate_share`` when only one mart has it — and what it is about:

- ``month: YYYY-MM`` on a monthly mart (``ticker:`` for per-company marts); the month must be
  complete in the warehouse;
- ``date: YYYY-MM-DD`` on a daily mart. On the market marts (``fct_sector_daily``,
  ``fct_miner_market_daily``) a day the market did not trade (a weekend, a holiday) reads the last
  trading day on or before it, and the explanation says so;
- ``aggregate: mean`` with ``month:`` or ``from:`` + ``date:`` on ``fct_network_daily``: the mean
  of the daily figure over the month or the days (every day must be in);
- ``since:`` a day or a month: the claim is the change from then to the claim's day or month —
  ``change: pct`` (default; a percentage, e.g. a share price's return from ``adj_close_usd``) or
  ``change: points`` (the difference, in the figure's own units);
- ``rank: best|worst`` with ``ticker:``: the company's figure is also the highest/lowest of the
  group's members for the same day, month or change.

Group figures (the sector marts' market-cap and hash-rate figures, and rankings) say how many of
the tracked miners they cover. A figure over fewer members than the group is not the group's:
such a claim is "not enough data", with the partial value and the missing members in its
explanation, never compared as if it were whole. ``group_size:`` states how many companies the
claim is about ("the 14 miners"); a warehouse tracking another number cannot check it either.

Identifiers are checked against the warehouse's own catalog and the marts' contract (dbt_project/models/marts/<area>/_<area>__models.yml)
(never pasted from the file into SQL); values are bound parameters. A contract column the
warehouse does not have yet makes its claim "not enough data", not the file unreadable. Units are
the warehouse's: ``_pct`` columns are percentages, shares and ratios are fractions.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from minerwatch.dates import is_trading_day  # the NYSE calendar
from minerwatch.errors import ConfigurationError

# table -> (grain column, whether a ticker is needed)
CLAIM_TABLES: dict[str, tuple[str, bool]] = {
    "fct_sector_monthly": ("month_start", False),
    "fct_sector_daily": ("date_day", False),
    "fct_network_daily": ("date_day", False),
    "fct_miner_market_daily": ("date_day", True),
    "fct_miner_hashrate_monthly": ("month_start", True),
    "fct_miner_performance_monthly": ("month_start", True),
}
SUPPORTED, CONTRADICTED, NOT_ENOUGH = "supported", "contradicted", "not enough data"

# The columns the marts' contract promises for the claimable marts.
CONTRACT: dict[str, frozenset[str]] = {
    "fct_network_daily": frozenset(
        "date_day block_height block_count hashrate_ehs hashrate_ehs_7d difficulty subsidy_btc "
        "fees_btc price_usd supply_btc remaining_btc remaining_btc_value_usd four_year_reward_btc "
        "four_year_reward_usd hashprice_usd_per_ehs_day hashprice_subsidy_usd_per_ehs_day "
        "four_year_reward_flat_btc four_year_reward_flat_usd hashrate_ehs_mempool".split()
    ),
    "fct_miner_market_daily": frozenset(
        "ticker date_day close_usd adj_close_usd shares_outstanding shares_as_of_date "
        "shares_source market_cap_usd".split()
    ),
    "fct_miner_hashrate_monthly": frozenset(
        "ticker month_start reported_hashrate_ehs hashrate_kind btc_mined btc_held source_url "
        "network_hashrate_ehs hashrate_share realized_hashrate_ehs realized_hashrate_share "
        "realization_rate month_end_market_cap_usd mcap_per_ehs_usd".split()
    ),
    "fct_sector_daily": frozenset(
        "date_day miners_tracked miners_count missing_tickers sector_market_cap_usd "
        "remaining_btc_value_usd mcap_to_remaining_btc_value four_year_reward_usd "
        "mcap_to_four_year_reward mcap_to_four_year_reward_flat".split()
    ),
    "fct_sector_monthly": frozenset(
        "month_start sector_market_cap_usd sector_market_cap_change_pct avg_hashrate_ehs "
        "hashrate_change_pct difficulty_change_pct avg_hashprice_usd_per_ehs_day "
        "hashprice_change_pct sector_hashrate_share mcap_to_remaining_btc_value "
        "mcap_to_four_year_reward best_ticker best_return_pct worst_ticker worst_return_pct "
        "btc_return_pct miners_tracked miners_count missing_tickers mcap_to_four_year_reward_flat "
        "mcap_to_proportional_four_year_reward sector_realized_hashrate_share "
        "sector_btc_held".split()
    ),
    "fct_miner_performance_monthly": frozenset(
        "ticker month_start return_pct btc_return_pct excess_return_pct rank".split()
    ),
}
SECTOR_TABLES = ("fct_sector_daily", "fct_sector_monthly")
# columns of the sector marts that are not sums over the members (network figures, coverage)
NOT_GROUP_FIGURES = frozenset(
    "date_day month_start month_end_date miners_tracked miners_count missing_tickers "
    "remaining_btc_value_usd four_year_reward_usd four_year_reward_flat_usd btc_price_usd "
    "avg_hashrate_ehs hashrate_change_pct difficulty_change_pct avg_hashprice_usd_per_ehs_day "
    "hashprice_change_pct btc_return_pct is_month_complete hashrate_reporting_miners "
    "hashrate_kinds source".split()
)
# group figures over the members that reported hash rate (the rest: members with a market cap)
HASHRATE_GROUP_FIGURES = frozenset(
    "sector_hashrate_share sector_realized_hashrate_share sector_btc_held group_hashrate_ehs "
    "mcap_to_proportional_four_year_reward".split()
)
# a change against the previous month: the previous month's coverage counts too
CHANGE_ON_PREVIOUS_MONTH = frozenset({"sector_market_cap_change_pct"})
MARKET_DAILY = frozenset({"fct_sector_daily", "fct_miner_market_daily"})
AGGREGATE_TABLES = frozenset({"fct_network_daily"})  # every calendar day: a mean is well defined
FALLBACK_DAYS = 7  # the longest a market is closed (a long weekend with holidays is 4 days)

KEYS = frozenset(
    "id figure value tolerance tolerance_abs published_by source date month from since change "
    "aggregate rank ticker group_size note".split()
)


@dataclass(frozen=True)
class Claim:
    id: str
    figure: str
    value: float
    published_by: str
    source: str
    day: dt.date | None = None
    month: dt.date | None = None
    ticker: str | None = None
    tolerance: float | None = None  # relative (0.02 = within 2 %)
    tolerance_abs: float | None = None
    note: str = ""
    from_day: dt.date | None = None  # with day and aggregate: the first day of the window
    since_day: dt.date | None = None  # the change is from this day ...
    since_month: dt.date | None = None  # ... or this month
    change: str | None = None  # "pct" or "points" when since is given
    aggregate: str | None = None  # "mean"
    rank: str | None = None  # "best" or "worst"
    group_size: int | None = None  # how many companies the claim is about

    @property
    def since(self) -> dt.date | None:
        return self.since_day or self.since_month

    @property
    def when(self) -> str:
        """The day, days or month the claim is about, as a report shows it."""
        if self.month:
            when = f"{self.month:%Y-%m}"
        elif self.from_day:
            when = f"{self.from_day}..{self.day}"
        else:
            when = self.day.isoformat()
        if self.aggregate:
            when += f" ({self.aggregate})"
        if self.since:
            when = f"{self.since_day or f'{self.since_month:%Y-%m}'} → {when}"
        return when


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    table: str
    column: str
    status: str
    computed: float | None
    difference: float | None
    explanation: str

    @property
    def figure(self) -> str:
        """The figure checked, as a report shows it: column, company, change, ranking."""
        return _describe(self.claim, self.column) + (
            f" ({self.claim.rank})" if self.claim.rank else ""
        )

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["claim"] = {
            k: (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in asdict(self.claim).items()
        }
        return out


def _fail(where: str, problem: str) -> ConfigurationError:
    return ConfigurationError(f"claims file {where}: {problem} (see claims/README.md)")


def _month(value, where: str, name: str = "month") -> dt.date:
    text = str(value)
    try:
        year, month = (int(p) for p in text.split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        raise _fail(where, f"{name} {text!r} is not YYYY-MM") from None


def _day(value, where: str, name: str = "date") -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _fail(where, f"{name} {value!r} is not YYYY-MM-DD") from None


def _number(value, where: str, name: str) -> float:
    if isinstance(value, bool):
        raise _fail(where, f"{name} {value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _fail(where, f"{name} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise _fail(where, f"{name} {value!r} is not finite")
    return number


def _choice(item: dict, key: str, options: tuple[str, ...], where: str) -> str | None:
    if key not in item:
        return None
    value = str(item[key])
    if value not in options:
        raise _fail(where, f"{key} {value!r} is not one of {', '.join(options)}")
    return value


def _parse(item: dict, where: str) -> Claim:
    unknown = sorted(set(item) - KEYS)
    if unknown:
        raise _fail(where, f"unknown field(s) {', '.join(map(repr, unknown))}")
    for required in ("id", "figure", "value", "published_by", "source"):
        if item.get(required) in (None, ""):
            raise _fail(where, f"'{required}' is required")
    if ("date" in item) == ("month" in item):
        raise _fail(where, "give exactly one of 'date' (YYYY-MM-DD) or 'month' (YYYY-MM)")
    if "tolerance" not in item and "tolerance_abs" not in item:
        raise _fail(where, "give 'tolerance' (relative, 0.02 = 2 %) or 'tolerance_abs'")
    tol = _number(item["tolerance"], where, "tolerance") if "tolerance" in item else None
    tol_abs = (
        _number(item["tolerance_abs"], where, "tolerance_abs") if "tolerance_abs" in item else None
    )
    if (tol is not None and tol < 0) or (tol_abs is not None and tol_abs < 0):
        raise _fail(where, "tolerances are >= 0")
    day = _day(item["date"], where) if "date" in item else None
    month = _month(item["month"], where) if "month" in item else None
    from_day = _day(item["from"], where, "from") if "from" in item else None
    aggregate = _choice(item, "aggregate", ("mean",), where)
    change = _choice(item, "change", ("pct", "points"), where)
    rank = _choice(item, "rank", ("best", "worst"), where)
    if from_day is not None and (day is None or aggregate is None):
        raise _fail(where, "'from' goes with 'date' and 'aggregate' (the days of a mean)")
    if from_day is not None and from_day > day:
        raise _fail(where, f"'from' {from_day} is after 'date' {day}")
    if aggregate and day is not None and from_day is None:
        raise _fail(where, "'aggregate' needs 'month' or 'from' + 'date' (the days it is over)")
    since_day = since_month = None
    if "since" in item:
        raw = item["since"]
        if isinstance(raw, dt.date) or len(str(raw)) > 7:
            since_day = _day(raw, where, "since")
        else:
            since_month = _month(raw, where, "since")
        start = from_day or day or month
        if (since_day or since_month) >= start:
            raise _fail(where, f"'since' {raw} is not before the claim's {start}")
        if month is not None and since_day is not None:
            raise _fail(where, "a monthly claim's 'since' is a month (YYYY-MM)")
        change = change or "pct"
    elif change:
        raise _fail(where, "'change' needs 'since' (the day or month the change is from)")
    group_size = None
    if "group_size" in item:
        group_size = _number(item["group_size"], where, "group_size")
        if group_size < 1 or group_size != int(group_size):
            raise _fail(where, "group_size is a whole number of companies")
        group_size = int(group_size)
    ticker = str(item["ticker"]).upper() if item.get("ticker") else None
    if rank and not ticker:
        raise _fail(where, "'rank' needs 'ticker' (the company said to be best or worst)")
    return Claim(
        id=str(item["id"]),
        figure=str(item["figure"]),
        value=_number(item["value"], where, "value"),
        published_by=str(item["published_by"]),
        source=str(item["source"]),
        day=day,
        month=month,
        ticker=ticker,
        tolerance=tol,
        tolerance_abs=tol_abs,
        note=str(item.get("note", "")),
        from_day=from_day,
        since_day=since_day,
        since_month=since_month,
        change=change,
        aggregate=aggregate,
        rank=rank,
        group_size=group_size,
    )


def _document(path: Path) -> dict:
    import yaml

    try:
        doc = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise _fail(str(path), f"cannot be read as YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("claims"), list):
        raise _fail(str(path), "expected a top-level 'claims:' list")
    return doc


def load(path: Path) -> list[Claim]:
    """Parse and check the claims file; raise ConfigurationError naming the claim and field."""
    claims, seen = [], set()
    for i, item in enumerate(_document(path)["claims"]):
        where = f"{path} claim #{i + 1}"
        if not isinstance(item, dict):
            raise _fail(where, "each claim is a mapping")
        where = f"{path} claim {item.get('id', '#' + str(i + 1))!r}"
        claim = _parse(item, where)
        if claim.id in seen:
            raise _fail(where, "duplicate id")
        seen.add(claim.id)
        claims.append(claim)
    return claims


def load_not_checked(path: Path) -> list[dict[str, str]]:
    """The file's ``not_checked:`` list: published claims the warehouse cannot check (paid data,
    undefined terms), each with the claim, the reason, and where it was published."""
    items = _document(path).get("not_checked") or []
    if not isinstance(items, list):
        raise _fail(str(path), "'not_checked' is a list")
    for i, item in enumerate(items):
        where = f"{path} not_checked #{i + 1}"
        if not isinstance(item, dict):
            raise _fail(where, "each entry is a mapping")
        for required in ("claim", "reason", "published_by", "source"):
            if item.get(required) in (None, ""):
                raise _fail(where, f"'{required}' is required")
    return items


# -- resolution ---------------------------------------------------------------------------------
def _columns(con, tables) -> dict[str, set[str]]:
    rows = con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts'"
    ).fetchall()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        if table in tables:
            out.setdefault(table, set()).add(column)
    return out


def _catalog(con) -> dict[str, set[str]]:
    return _columns(con, CLAIM_TABLES)


def _resolve(claim: Claim, catalog: dict[str, set[str]]) -> tuple[str, str]:
    where = f"claim {claim.id!r}"
    known = {t: catalog.get(t, set()) | CONTRACT[t] for t in CLAIM_TABLES}
    if "." in claim.figure:
        table, column = claim.figure.split(".", 1)
        if column not in known.get(table, set()):
            raise _fail(where, f"figure {claim.figure!r} is not a column of a claimable mart")
    else:
        tables = sorted(t for t, cols in known.items() if claim.figure in cols)
        if claim.month and not claim.aggregate:
            tables = [t for t in tables if CLAIM_TABLES[t][0] == "month_start"] or tables
        if claim.day or claim.aggregate:
            tables = [t for t in tables if CLAIM_TABLES[t][0] == "date_day"] or tables
        per_company = claim.ticker is not None
        tables = [t for t in tables if CLAIM_TABLES[t][1] == per_company] or tables
        if len(tables) != 1:
            raise _fail(
                where,
                f"figure {claim.figure!r} is in {tables or 'no mart'}; name it as table.column",
            )
        table, column = tables[0], claim.figure
    grain, needs_ticker = CLAIM_TABLES[table]
    if grain == "month_start":
        if claim.month is None:
            raise _fail(where, f"{table} is monthly")
        if claim.aggregate:
            raise _fail(where, f"{table} is monthly: 'aggregate' is for daily marts")
    else:
        if claim.month is not None and not claim.aggregate:
            raise _fail(where, f"{table} is daily: give 'date', or 'month' with 'aggregate: mean'")
        if claim.aggregate and table not in AGGREGATE_TABLES:
            raise _fail(
                where, f"'aggregate' works on {', '.join(sorted(AGGREGATE_TABLES))} (every day)"
            )
    if needs_ticker != (claim.ticker is not None):
        raise _fail(where, f"{table} {'needs' if needs_ticker else 'takes no'} 'ticker'")
    return table, column


# -- evaluation ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Window:
    start: dt.date
    end: dt.date
    kind: str  # "day", "month" or "days"

    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        return self.end.isoformat() if self.kind == "day" else f"{self.start}..{self.end}"


def _month_window(month: dt.date) -> _Window:
    nxt = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return _Window(month, nxt - dt.timedelta(days=1), "month")


def _windows(claim: Claim) -> tuple[_Window, _Window | None]:
    if claim.month:
        current = _month_window(claim.month)
    elif claim.from_day:
        current = _Window(claim.from_day, claim.day, "days")
    else:
        current = _Window(claim.day, claim.day, "day")
    base = None
    if claim.since_month:
        base = _month_window(claim.since_month)
    elif claim.since_day:
        base = _Window(claim.since_day, claim.since_day, "day")
    return current, base


@dataclass
class _Point:
    value: float | None = None
    problem: str | None = None  # why there is no comparable value
    notes: list[str] = field(default_factory=list)
    partial: float | None = None  # a value over fewer members than the group


def _numeric(v) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        number = float(v)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _row(con, sql: str, params: list) -> dict[str, Any] | None:
    cur = con.execute(sql, params)
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row, strict=True))


class _Checker:
    """Evaluates claims against one warehouse connection (catalog and membership read once)."""

    def __init__(self, con):
        self.con = con
        self.catalog = _catalog(con)
        self.dim = _columns(con, {"dim_miners"}).get("dim_miners", set())
        self._trading: dict[tuple[str, dt.date], tuple[dt.date | None, str | None]] = {}

    # membership --------------------------------------------------------------------------------
    def members(self, day: dt.date) -> list[str] | None:
        """The tracked group on ``day`` per marts.dim_miners, or None when it does not say."""
        if not {"ticker", "member_from", "member_to"} <= self.dim:
            return None
        rows = self.con.execute(
            "select distinct ticker from marts.dim_miners where member_from <= ? "
            "and (member_to is null or member_to >= ?) order by ticker",
            [day, day],
        ).fetchall()
        return [r[0] for r in rows]

    # days --------------------------------------------------------------------------------------
    def trading_day(self, table: str, day: dt.date) -> tuple[dt.date | None, str | None]:
        """The day a market mart's figure for ``day`` is read on: ``day`` when the market traded,
        else the last trading day on or before it; (None, why) when the data does not say."""
        key = (table, day)
        if key not in self._trading:
            self._trading[key] = self._find_trading_day(table, day)
        return self._trading[key]

    def _find_trading_day(self, table: str, day: dt.date):
        last = self.con.execute(
            f"select max(date_day) from marts.{table} where date_day <= ? and date_day >= ?",
            [day, day - dt.timedelta(days=FALLBACK_DAYS)],
        ).fetchone()[0]
        if last == day:
            return day, None
        if last is None:
            return None, f"no {table} row on {day} or in the {FALLBACK_DAYS} days before it"
        between = [last + dt.timedelta(days=k) for k in range(1, (day - last).days + 1)]
        if not any(is_trading_day(d) for d in between):
            return last, f"{day} is not a trading day: read on {last}, the last one before it"
        later = self.con.execute(
            f"select count(*) from marts.{table} where date_day > ?", [day]
        ).fetchone()[0]
        if later:  # the market moved on without that day: it did not trade (a special closure)
            return last, f"no trading on {day} in {table}: read on {last}, the last day before it"
        return None, f"no {table} row on {day}: the market data ends on {last}"

    # one figure over one window ----------------------------------------------------------------
    def point(self, claim: Claim, table: str, column: str, ticker: str | None, w: _Window):
        if column not in self.catalog.get(table, set()):
            return _Point(
                problem=f"{table}.{column} is not in this warehouse yet (a contract column)"
            )
        grain, _ = CLAIM_TABLES[table]
        where_ticker = " and ticker = ?" if ticker else ""
        extra = [ticker] if ticker else []
        who = f"{ticker} " if ticker else ""
        if claim.aggregate:
            n, mean = self.con.execute(
                f'select count("{column}"), avg("{column}") from marts.{table} '
                f"where {grain} between ? and ?{where_ticker}",
                [w.start, w.end, *extra],
            ).fetchone()
            days = (w.end - w.start).days + 1
            if n < days:
                return _Point(problem=f"{column} covers {n} of the {days} days of {w.label()}")
            return _Point(_numeric(mean), notes=[f"mean of {days} days {w.label()}"])
        notes: list[str] = []
        if grain == "month_start":
            at = w.start
        else:
            at = w.end
            if table in MARKET_DAILY:
                at, why = self.trading_day(table, w.end)
                if at is None:
                    return _Point(problem=why)
                if why:
                    notes.append(why)
        row = _row(
            self.con,
            f"select * from marts.{table} where {grain} = ?{where_ticker}",
            [at, *extra],
        )
        label = f"{at:%Y-%m}" if grain == "month_start" else at.isoformat()
        if row is None:
            return _Point(problem=f"no {table} row for {who}{label}", notes=notes)
        if row.get("is_month_complete") is False:
            through = row.get("month_end_date")
            return _Point(
                problem=f"{label} is not complete in {table}"
                + (f" (data through {through})" if through else ""),
                notes=notes,
            )
        value = _numeric(row.get(column))
        if value is None:
            what = "no value" if row.get(column) is None else "no number"
            return _Point(problem=f"{what} of {column} for {who}{label} in {table}", notes=notes)
        point = _Point(value, notes=notes)
        if table in SECTOR_TABLES and column not in NOT_GROUP_FIGURES:
            self._coverage(claim, table, column, row, at, point)
            if column in CHANGE_ON_PREVIOUS_MONTH and point.problem is None:
                prev = _month_window((at - dt.timedelta(days=1)).replace(day=1)).start
                prow = _row(self.con, f"select * from marts.{table} where {grain} = ?", [prev])
                if prow is not None:
                    self._coverage(claim, table, column, prow, prev, point, f" in {prev:%Y-%m}")
        return point

    def _coverage(self, claim, table, column, row, at, point: _Point, when: str = "") -> None:
        """Whether a group figure covers the whole tracked group; if not, the point becomes
        'not enough data' with its partial value kept for the explanation."""
        day = row.get("month_end_date") or (
            _month_window(at).end if CLAIM_TABLES[table][0] == "month_start" else at
        )
        members = self.members(day)
        if column in HASHRATE_GROUP_FIGURES:
            covered, what = row.get("hashrate_reporting_miners"), "reported hash rate"
            reporting, missing = row.get("hashrate_reporting_tickers"), None
            if members is not None and reporting is not None:
                missing = ",".join(sorted(set(members) - set(reporting.split(","))))
        else:
            covered, missing, what = row.get("miners_count"), row.get("missing_tickers"), ""
        tracked = row.get("miners_tracked")
        if tracked is None and members is not None:
            tracked = len(members)
        problem = None
        if claim.group_size and tracked is not None and tracked != claim.group_size:
            problem = f"the warehouse tracks {tracked} miners{when}, the claim is about {claim.group_size}"
        expected = tracked if tracked is not None else claim.group_size
        if problem is None and (expected is None or covered is None):
            point.notes.append("coverage not recorded in the warehouse: compared as it is")
            return
        if problem is None and covered < expected:
            problem = f"covers {covered} of {expected} members{when}" + (
                f" ({what})" if what else ""
            )
            if missing:
                problem += f", missing {missing}"
        if problem:
            point.partial, point.value, point.problem = point.value, None, problem

    # the claim's figure: one point, or a change between two ----------------------------------
    def figure(self, claim: Claim, table: str, column: str, ticker: str | None) -> _Point:
        current, base = _windows(claim)
        now = self.point(claim, table, column, ticker, current)
        if base is None:
            return now
        then = self.point(claim, table, column, ticker, base)
        notes = then.notes + now.notes
        problem = now.problem or then.problem
        if problem:
            now_v = now.value if now.value is not None else now.partial
            then_v = then.value if then.value is not None else then.partial
            return _Point(
                problem=f"{problem} ({base.label()} → {current.label()})",
                notes=notes,
                partial=_change(claim, then_v, now_v),
            )
        if claim.change == "pct" and then.value == 0:
            return _Point(problem=f"{column} is 0 on {base.label()}: no percentage change")
        value = _change(claim, then.value, now.value)
        notes.insert(0, f"{base.label()} → {current.label()}: {then.value:.6g} → {now.value:.6g}")
        return _Point(value, notes=notes)

    def rank(self, claim: Claim, table: str, column: str) -> tuple[_Point, tuple | None]:
        """The figure for every member, and the member that beats the claim's company (None
        when it is the best/worst of them, as claimed)."""
        current, _ = _windows(claim)
        if column not in self.catalog.get(table, set()):
            return self.point(claim, table, column, claim.ticker, current), None
        members = self.members(current.end)
        if members is None:
            members = [
                r[0]
                for r in self.con.execute(
                    f"select distinct ticker from marts.{table} order by ticker"
                ).fetchall()
            ]
        if claim.group_size and len(members) != claim.group_size:
            problem = (
                f"the warehouse tracks {len(members)} miners, the claim is about {claim.group_size}"
            )
            return _Point(problem=problem), None
        if claim.ticker not in members:
            return _Point(problem=f"{claim.ticker} is not a tracked member on {current.end}"), None
        values = {t: self.figure(claim, table, column, t) for t in members}
        have = {t: p.value for t, p in values.items() if p.value is not None}
        missing = sorted(set(members) - set(have))
        if missing:
            problem = (
                f"ranked over {len(have)} of {len(members)} members, missing {', '.join(missing)}"
            )
            return _Point(problem=problem, notes=values[claim.ticker].notes), None
        pick = max if claim.rank == "best" else min
        leader = pick(sorted(have), key=lambda t: have[t])
        if have[leader] == have[claim.ticker]:
            return values[claim.ticker], None
        return values[claim.ticker], (leader, have[leader])


def _change(claim: Claim, then: float | None, now: float | None) -> float | None:
    if then is None or now is None:
        return None
    if claim.change == "points":
        return now - then
    return (now / then - 1) * 100 if then else None


def _describe(claim: Claim, column: str) -> str:
    what = f"{claim.ticker} {column}" if claim.ticker else column
    if claim.since:
        what += " change" if claim.change == "points" else " % change"
    return what


def check(claims: list[Claim], con) -> list[ClaimResult]:
    """Each claim against the warehouse behind ``con`` (a DuckDB connection)."""
    checker = _Checker(con)
    resolved = [(claim, *_resolve(claim, checker.catalog)) for claim in claims]  # fail early
    results = []
    for claim, table, column in resolved:
        leader = None
        if claim.rank:
            point, leader = checker.rank(claim, table, column)
        else:
            point = checker.figure(claim, table, column, claim.ticker)
        notes = "; ".join(point.notes)
        if point.value is None:
            why = point.problem or f"no value in {table}"
            if point.partial is not None:
                why += f"; over those: {point.partial:.6g} vs claimed {claim.value:.6g}"
            why += f" [{notes}]" if notes else ""
            results.append(ClaimResult(claim, table, column, NOT_ENOUGH, None, None, why))
            continue
        computed = point.value
        diff = computed - claim.value
        allowed = max((claim.tolerance or 0.0) * abs(claim.value), claim.tolerance_abs or 0.0)
        status = SUPPORTED if abs(diff) <= allowed else CONTRADICTED
        rel = f" ({diff / claim.value:+.2%})" if claim.value else ""
        explanation = (
            f"{_describe(claim, column)}: computed {computed:.6g} vs claimed {claim.value:.6g}: "
            f"off by {diff:+.4g}{rel}, allowed ±{allowed:.4g}"
        )
        if claim.rank:
            if leader:
                status = CONTRADICTED
                explanation += f"; not the {claim.rank}: {leader[0]} is, at {leader[1]:.6g}"
            else:
                explanation += f"; the {claim.rank} of the group"
        if notes:
            explanation += f" [{notes}]"
        results.append(ClaimResult(claim, table, column, status, computed, diff, explanation))
    return results
