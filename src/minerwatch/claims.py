"""Check published claims (a YAML file: figure, day or month, value, tolerance, where it was
published) against the warehouse. Each claim comes back supported, contradicted, or "not enough
data", with the value the warehouse computes.

A claim names a mart column — ``fct_sector_monthly.sector_hashrate_share`` or just
``sector_hashrate_share`` when only one mart has it — and the day (``date:``) or month
(``month:``) it is about, plus ``ticker:`` for per-company marts. Identifiers are checked against
the warehouse's own catalog (never pasted from the file into SQL); values are bound parameters.
Units are the warehouse's: ``_pct`` columns are percentages, shares and ratios are fractions.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    table: str
    column: str
    status: str
    computed: float | None
    difference: float | None
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["claim"] = {
            k: (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in asdict(self.claim).items()
        }
        return out


def _fail(where: str, problem: str) -> ConfigurationError:
    return ConfigurationError(f"claims file {where}: {problem} (see claims/README.md)")


def _month(value, where: str) -> dt.date:
    text = str(value)
    try:
        year, month = (int(p) for p in text[:7].split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        raise _fail(where, f"month {text!r} is not YYYY-MM") from None


def _day(value, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _fail(where, f"date {value!r} is not YYYY-MM-DD") from None


def _number(value, where: str, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _fail(where, f"{name} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise _fail(where, f"{name} {value!r} is not finite")
    return number


def load(path: Path) -> list[Claim]:
    """Parse and check the claims file; raise ConfigurationError naming the claim and field."""
    import yaml

    try:
        doc = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise _fail(str(path), f"cannot be read as YAML: {exc}") from None
    items = doc.get("claims") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise _fail(str(path), "expected a top-level 'claims:' list")
    claims, seen = [], set()
    for i, item in enumerate(items):
        where = f"{path} claim #{i + 1}"
        if not isinstance(item, dict):
            raise _fail(where, "each claim is a mapping")
        where = f"{path} claim {item.get('id', '#' + str(i + 1))!r}"
        for required in ("id", "figure", "value", "published_by", "source"):
            if item.get(required) in (None, ""):
                raise _fail(where, f"'{required}' is required")
        if item["id"] in seen:
            raise _fail(where, "duplicate id")
        seen.add(item["id"])
        if ("date" in item) == ("month" in item):
            raise _fail(where, "give exactly one of 'date' (YYYY-MM-DD) or 'month' (YYYY-MM)")
        if "tolerance" not in item and "tolerance_abs" not in item:
            raise _fail(where, "give 'tolerance' (relative, 0.02 = 2 %) or 'tolerance_abs'")
        tol = _number(item["tolerance"], where, "tolerance") if "tolerance" in item else None
        tol_abs = (
            _number(item["tolerance_abs"], where, "tolerance_abs")
            if "tolerance_abs" in item
            else None
        )
        if (tol is not None and tol < 0) or (tol_abs is not None and tol_abs < 0):
            raise _fail(where, "tolerances are >= 0")
        claims.append(
            Claim(
                id=str(item["id"]),
                figure=str(item["figure"]),
                value=_number(item["value"], where, "value"),
                published_by=str(item["published_by"]),
                source=str(item["source"]),
                day=_day(item["date"], where) if "date" in item else None,
                month=_month(item["month"], where) if "month" in item else None,
                ticker=str(item["ticker"]).upper() if item.get("ticker") else None,
                tolerance=tol,
                tolerance_abs=tol_abs,
                note=str(item.get("note", "")),
            )
        )
    return claims


def _catalog(con) -> dict[str, set[str]]:
    rows = con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts'"
    ).fetchall()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        if table in CLAIM_TABLES:
            out.setdefault(table, set()).add(column)
    return out


def _resolve(claim: Claim, catalog: dict[str, set[str]]) -> tuple[str, str]:
    where = f"claim {claim.id!r}"
    if "." in claim.figure:
        table, column = claim.figure.split(".", 1)
        if column not in catalog.get(table, set()):
            raise _fail(where, f"figure {claim.figure!r} is not a column of a claimable mart")
    else:
        tables = sorted(t for t, cols in catalog.items() if claim.figure in cols)
        if claim.month:
            tables = [t for t in tables if CLAIM_TABLES[t][0] == "month_start"] or tables
        if claim.day:
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
    if (grain == "month_start") != (claim.month is not None):
        raise _fail(where, f"{table} is {'monthly' if grain == 'month_start' else 'daily'}")
    if needs_ticker != (claim.ticker is not None):
        raise _fail(where, f"{table} {'needs' if needs_ticker else 'takes no'} 'ticker'")
    return table, column


def check(claims: list[Claim], con) -> list[ClaimResult]:
    """Each claim against the warehouse behind ``con`` (a DuckDB connection)."""
    catalog = _catalog(con)
    results = []
    for claim in claims:
        table, column = _resolve(claim, catalog)
        grain, needs_ticker = CLAIM_TABLES[table]
        sql = f'select "{column}" from marts.{table} where {grain} = ?'  # whitelisted identifiers
        params: list[Any] = [claim.month or claim.day]
        if needs_ticker:
            sql += " and ticker = ?"
            params.append(claim.ticker)
        row = con.execute(sql, params).fetchone()
        computed = None
        if row and row[0] is not None:
            try:
                computed = float(row[0])
            except (TypeError, ValueError):
                computed = None
            if computed is not None and not math.isfinite(computed):
                computed = None
        if computed is None:
            what = "no row" if not row else "no value"
            results.append(
                ClaimResult(claim, table, column, NOT_ENOUGH, None, None, f"{what} in {table}")
            )
            continue
        diff = computed - claim.value
        allowed = max((claim.tolerance or 0.0) * abs(claim.value), claim.tolerance_abs or 0.0)
        status = SUPPORTED if abs(diff) <= allowed else CONTRADICTED
        rel = f" ({diff / claim.value:+.2%})" if claim.value else ""
        results.append(
            ClaimResult(
                claim,
                table,
                column,
                status,
                computed,
                diff,
                f"computed {computed:.6g} vs claimed {claim.value:.6g}: off by {diff:+.4g}{rel}, "
                f"allowed ±{allowed:.4g}",
            )
        )
    return results
