"""The monthly report: one self-contained HTML file per month (inline SVG charts and CSS, nothing
fetched when it is opened), written after publish from the published warehouse.

It carries the headline figures of ``marts.fct_sector_monthly`` for the month of the run's
logical date (month to date while the month is running), five charts — the group's market cap
against bitcoin's price, network hash rate and hashprice, hash-rate share by company, the two
valuation ratios, the month's returns by company against bitcoin — each footnoted with its
source, the claims check, and the data-quality audit of the run (the Great Expectations
results the audit kept in the lake). Written to ``published/reports/minerwatch-YYYY-MM.html``
beside the published warehouse and to the lake under ``reports/month=YYYY-MM/``; the dbt docs
site is generated beside it (``published/docs/index.html``, see ``docs_site``) and linked with
the one relative link the report has.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import math
import os
import tempfile
from html import escape
from pathlib import Path
from typing import Any

from minerwatch import charts, claims
from minerwatch.dates import as_day
from minerwatch.docs_site import REPORT_LINK, DocsSite
from minerwatch.errors import MinerwatchError
from minerwatch.lake import Lake, date_part
from minerwatch.settings import Settings
from minerwatch.settings import load as load_settings

log = logging.getLogger(__name__)

CLAIM_STATUSES = ("supported", "contradicted", "not enough data")
HISTORY_MONTHS = 36  # the charts' window, ending with the report's month
SHARE_MONTHS = 12

SOURCES = {
    "network": "Coin Metrics community API (HashRate, BlkCnt, IssTotNtv, FeeTotNtv, SplyCur, "
    "PriceUSD) via marts.fct_network_daily; difficulty from mempool.space.",
    "market": "Daily closes from the market-data provider (Yahoo Finance chart API by default) "
    "× shares outstanding from SEC XBRL dei:EntityCommonStockSharesOutstanding (latest filing "
    "filed on or before each day) via marts.fct_miner_market_daily and marts.fct_sector_daily.",
    "hashrate": "Each company's self-reported hash rate from its monthly production update "
    "(8-K / 6-K exhibit 99.1 on SEC EDGAR; the cited document is in "
    "marts.fct_miner_hashrate_monthly.source_url) ÷ the network's monthly mean hash rate "
    "(Coin Metrics).",
    "realized": "Bitcoin mined per each company's monthly production update (SEC EDGAR exhibit "
    "99.1, cited in marts.fct_miner_hashrate_monthly.source_url) ÷ the network's block rewards "
    "that month (subsidy + fees, Coin Metrics IssTotNtv + FeeTotNtv) — the share of rewards is "
    "the share of hash power over time; reported share: the company's own hash-rate figure ÷ "
    "the network's monthly mean hash rate (Coin Metrics HashRate).",
    "price_to_hash": "Month-end market cap (marts.fct_miner_market_daily: close × SEC share "
    "count) ÷ the company's reported hash rate (its monthly production update).",
    "pools": "mempool.space mining-pool statistics (/api/v1/mining/hashrate/pools and "
    "/api/v1/mining/pools), via marts.fct_pool_share_monthly. Pools are not companies: a pool "
    "aggregates many miners' hash rate, the listed miners' included.",
    "returns": "Adjusted closes, last trading day of the month vs the previous month's "
    "(marts.fct_miner_performance_monthly); bitcoin from Coin Metrics PriceUSD on the same days.",
}


def claims_key(month: dt.date) -> str:
    """Where the month's claims results are kept in the lake."""
    return f"reports/month={month:%Y-%m}/claims.json"


def report_path(settings: Settings, month: dt.date) -> Path:
    return settings.warehouse.parent / "published" / "reports" / f"minerwatch-{month:%Y-%m}.html"


def _usd_bn(v: float | None) -> str:
    return "n/a" if _missing(v) else f"${v / 1e9:,.1f} bn"


def _pct(v: float | None, signed: bool = True) -> str:
    return "n/a" if _missing(v) else (f"{v:+.1f} %" if signed else f"{v:.1f} %")


def _frac(v: float | None) -> str:
    return "n/a" if _missing(v) else f"{v * 100:.1f} %"


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and not math.isfinite(v))


def _clean(v):
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, decimal.Decimal):
        v = float(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _rows(con, sql: str, params: list) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [{n: _clean(v) for n, v in zip(names, row, strict=True)} for row in cur.fetchall()]


def gather(con, month: dt.date) -> dict[str, Any]:
    """Everything the report shows, read from the warehouse behind ``con``."""
    start = dt.date(month.year - HISTORY_MONTHS // 12, month.month, 1)
    nxt = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    share_start = dt.date(month.year - SHARE_MONTHS // 12, month.month, 1)
    headline = _rows(
        con,
        "select * from marts.fct_sector_monthly where month_start <= ? "
        "order by month_start desc limit 2",
        [month],
    )
    return {
        "month": month,
        "headline": headline[0] if headline and headline[0]["month_start"] == month else None,
        "previous": next((r for r in headline if r["month_start"] < month), None),
        "sector_daily": _rows(
            con,
            "select date_day, sector_market_cap_usd, btc_price_usd, mcap_to_remaining_btc_value, "
            "mcap_to_four_year_reward, mcap_to_four_year_reward_flat from marts.fct_sector_daily "
            "where date_day >= ? and date_day < ? order by date_day",
            [start, nxt],
        ),
        "network_daily": _rows(
            con,
            "select date_day, hashrate_ehs_7d, avg(hashprice_usd_per_ehs_day) over ("
            "order by date_day rows between 6 preceding and current row) as hashprice_7d "
            "from marts.fct_network_daily where date_day < ? "
            "qualify date_day >= ? order by date_day",
            [nxt, start],
        ),
        "shares": _rows(
            con,
            "select month_start, ticker, hashrate_share, reported_hashrate_ehs, hashrate_kind, "
            "source_url from marts.fct_miner_hashrate_monthly "
            "where month_start > ? and month_start <= ? order by month_start, ticker",
            [share_start, month],
        ),
        "returns": _rows(
            con,
            "select ticker, return_pct, btc_return_pct, excess_return_pct, rank "
            "from marts.fct_miner_performance_monthly where month_start = ? "
            "order by return_pct desc nulls last, ticker",
            [month],
        ),
        "production": _rows(
            con,
            # the latest month with a realized figure: releases come out after the month ends
            "select ticker, month_start, hashrate_share, realized_hashrate_share, "
            "realization_rate, mcap_per_ehs_usd, reported_hashrate_ehs, hashrate_kind "
            "from marts.fct_miner_hashrate_monthly where month_start = ("
            "select max(month_start) from marts.fct_miner_hashrate_monthly "
            "where month_start <= ? and (realized_hashrate_share is not null "
            "or mcap_per_ehs_usd is not null)) order by ticker",
            [month],
        ),
        "pools": _pool_rows(con, share_start, month),
        "sources_agree": _source_agreement(con, nxt),
        "latest_share": next(
            iter(
                _rows(
                    con,
                    "select month_start, sector_hashrate_share, hashrate_reporting_miners, "
                    "hashrate_reporting_tickers, hashrate_kinds, miners_tracked "
                    "from marts.fct_sector_monthly where month_start <= ? "
                    "and sector_hashrate_share is not null order by month_start desc limit 1",
                    [month],
                )
            ),
            None,
        ),
        "network_sources": [
            r["source"]
            for r in _rows(
                con,
                "select distinct source from marts.fct_network_daily "
                "where date_day >= ? and date_day < ? order by source",
                [start, nxt],
            )
        ],
    }


def _source_agreement(con, end: dt.date) -> dict[str, Any] | None:
    """The two hash-rate sources held together over 30-day means (quality.reconcile): the
    stretches beyond the tolerance that end within the report's window, or None when the
    warehouse has no second source."""
    from minerwatch.quality import reconcile

    cols = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'fct_network_daily'"
        ).fetchall()
    }
    if not {reconcile.PRIMARY, reconcile.SECOND} <= cols:
        return None
    frame = con.execute(
        f"select date_day, {reconcile.PRIMARY}, {reconcile.SECOND} from marts.fct_network_daily "
        "where date_day < ? order by date_day",
        [end],
    ).df()
    if frame[reconcile.SECOND].notna().sum() == 0:
        return None
    stretches = reconcile.hashrate_divergences(frame)
    return {
        "tolerance": reconcile.TOLERANCE,
        "through": frame.loc[frame[reconcile.SECOND].notna(), "date_day"].max(),
        "stretches": stretches[-5:],
    }


def _pool_rows(con, start: dt.date, month: dt.date) -> list[dict[str, Any]]:
    """Pool shares by month (the mart exists once the pool-statistics source has run)."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'marts' and table_name = 'fct_pool_share_monthly'"
    ).fetchone()[0]
    if not exists:
        return []
    return _rows(
        con,
        "select month_start, pool_slug, pool_name, block_share from marts.fct_pool_share_monthly "
        "where month_start > ? and month_start <= ? order by month_start, block_share desc",
        [start, month],
    )


def audit_key(table: str, day: dt.date) -> str:
    """Where ``publish.audit`` keeps a mart's GX result for the run of ``day``."""
    return f"audit/{table}/{date_part('logical_date', day)}/validation_result.json"


def quality_summary(lake: Lake, day: dt.date) -> dict[str, Any]:
    """The audit's Great Expectations results for the run of ``day``, per mart (expectations
    evaluated and passed, the failing ones named), and the batches quarantined for that date."""
    from minerwatch.publish import MARTS

    marts = []
    for table in MARTS:
        key = audit_key(table, day)
        try:
            result = json.loads(lake.read_bytes(key))
        except FileNotFoundError:
            marts.append({"table": table, "key": key, "found": False})
            continue
        stats = result.get("statistics") or {}
        marts.append(
            {
                "table": table,
                "key": key,
                "found": True,
                "suite": result.get("suite_name") or "",
                "evaluated": int(stats.get("evaluated_expectations") or 0),
                "passed": int(stats.get("successful_expectations") or 0),
                "success": bool(result.get("success")),
                "failed": [
                    _expectation_label(r)
                    for r in result.get("results") or []
                    if not r.get("success")
                ],
            }
        )
    marker = f"/{date_part('logical_date', day)}/"
    quarantined = sorted(
        k.rsplit("/", 1)[0]
        for k in lake.list("quarantine")
        if marker in k and k.endswith("/validation_result.json")
    )
    return {"day": day, "marts": marts, "quarantined": quarantined}


def _expectation_label(result: dict[str, Any]) -> str:
    config = result.get("expectation_config") or {}
    column = (config.get("kwargs") or {}).get("column")
    name = str(config.get("type") or "expectation")
    return f"{name} on {column}" if column else name


# -- rendering ------------------------------------------------------------------------------
CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0 auto;
max-width:960px;padding:24px;color:#222;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #ddd}
.sub{color:#666;margin:0 0 16px}.banner{background:#fff3cd;border:1px solid #e0c36c;padding:8px 12px;
margin:12px 0;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eee}td.n{text-align:right;
font-variant-numeric:tabular-nums}
.kpis{display:grid;grid-template-columns:repeat(3,1fr);gap:12px}
.kpi{border:1px solid #ddd;border-radius:6px;padding:10px}.kpi .v{font-size:22px;font-weight:600}
.kpi .l{color:#555;font-size:13px}.kpi .c{color:#666;font-size:12px}
figure{margin:8px 0 0}figcaption,.src{color:#555;font-size:12px;margin-top:4px}
.supported{color:#1a7f37;font-weight:600}.contradicted{color:#c62828;font-weight:600}
.nodata{color:#8a6d00;font-weight:600}td.s{font-size:11px;color:#555;max-width:220px}
"""


def _kpi(label: str, value: str, change: str, note: int) -> str:
    return (
        f'<div class="kpi"><div class="l">{escape(label)}<sup>{note}</sup></div>'
        f'<div class="v">{escape(value)}</div><div class="c">{escape(change)}</div></div>'
    )


def _headline_html(data: dict[str, Any]) -> str:
    h = data["headline"]
    if not h:
        return (
            '<p class="nodata">Not enough data for this month in marts.fct_sector_monthly '
            "(no market data landed for it yet).</p>"
        )
    latest = data.get("latest_share")
    share_label = "Share of network hash rate"
    if latest and latest["month_start"] != data["month"]:
        # the month's production updates are filed in the next month
        share_label += f" ({latest['month_start']:%B %Y}, latest reported)"
    share = latest["sector_hashrate_share"] if latest else None
    kinds = (latest or {}).get("hashrate_kinds") or "none reported"
    reporting = (latest or {}).get("hashrate_reporting_miners") or 0
    share_tracked = (latest or {}).get("miners_tracked")
    if share_tracked and reporting < share_tracked:
        share_label += " — partial"
        share_note = (
            f"from {reporting} of {share_tracked} members "
            f"({(latest or {}).get('hashrate_reporting_tickers')}), not the whole group's; "
            f"kinds: {kinds}"
        )
    else:
        share_note = f"{reporting} reporting; kinds: {kinds}"
    count, tracked = h.get("miners_count"), h.get("miners_tracked")
    cap_label = (
        f"Combined market cap ({count} of {tracked} members)"
        if tracked is not None and count != tracked
        else f"Combined market cap (all {count} members)"
    )
    kpis = [
        _kpi(
            cap_label,
            _usd_bn(h["sector_market_cap_usd"]),
            f"{_pct(h['sector_market_cap_change_pct'])} on the month",
            2,
        ),
        _kpi(share_label, _frac(share), share_note, 3),
        _kpi(
            "Network hash rate (monthly mean)",
            "n/a" if _missing(h["avg_hashrate_ehs"]) else f"{h['avg_hashrate_ehs']:,.1f} EH/s",
            f"{_pct(h['hashrate_change_pct'])}; difficulty {_pct(h['difficulty_change_pct'])}",
            1,
        ),
        _kpi(
            "Hashprice (monthly mean)",
            "n/a"
            if _missing(h["avg_hashprice_usd_per_ehs_day"])
            else f"${h['avg_hashprice_usd_per_ehs_day']:,.0f} /EH/s/day",
            f"{_pct(h['hashprice_change_pct'])} on the month",
            1,
        ),
        _kpi(
            "Market cap / value of bitcoin left to mine",
            _frac(h["mcap_to_remaining_btc_value"]),
            "at month end",
            2,
        ),
        _kpi(
            "Market cap / four years of block rewards",
            _frac(h.get("mcap_to_four_year_reward_flat")),
            f"flat: 210,000 blocks at the current subsidy (the note's reading); "
            f"halving-aware {_frac(h['mcap_to_four_year_reward'])}; at month end",
            2,
        ),
        _kpi(
            f"Best: {h.get('best_ticker') or 'n/a'}",
            _pct(h.get("best_return_pct")),
            f"worst: {h.get('worst_ticker') or 'n/a'} {_pct(h.get('worst_return_pct'))}",
            4,
        ),
        _kpi("Bitcoin", _pct(h.get("btc_return_pct")), "on the month", 4),
    ]
    banner = ""
    if tracked is not None and count != tracked:
        banner = (
            f'<p class="banner">Coverage: {count} of {tracked} members have a market cap at '
            f"month end; missing: {escape(h.get('missing_reasons') or h.get('missing_tickers') or '?')}. "
            "Group figures cover only the members priced.</p>"
        )
    return f'{banner}<div class="kpis">{"".join(kpis)}</div>'


def _figure(title: str, svg: str, note: int, source: str) -> str:
    return (
        f"<h2>{escape(title)}</h2><figure>{svg}<figcaption><sup>{note}</sup> Source: "
        f"{escape(source)}</figcaption></figure>"
    )


def _charts_html(data: dict[str, Any]) -> str:
    sd, nd = data["sector_daily"], data["network_daily"]
    out = []
    out.append(
        _figure(
            "Group market cap against bitcoin's price",
            charts.line_chart(
                "Group market cap against bitcoin's price",
                [r["date_day"] for r in sd],
                [
                    charts.Series(
                        "Group market cap ($ bn)",
                        [_scaled(r["sector_market_cap_usd"], 1e-9) for r in sd],
                        charts.PALETTE[0],
                    ),
                    charts.Series(
                        "Bitcoin ($)",
                        [r["btc_price_usd"] for r in sd],
                        charts.BTC_COLOR,
                        right_axis=True,
                    ),
                ],
                lambda v: f"${v:,.0f}bn",
                lambda v: f"${v:,.0f}",
            ),
            2,
            SOURCES["market"],
        )
    )
    out.append(
        _figure(
            "Network hash rate and hashprice",
            charts.line_chart(
                "Network hash rate and hashprice",
                [r["date_day"] for r in nd],
                [
                    charts.Series(
                        "Hash rate, 7-day mean (EH/s)",
                        [r["hashrate_ehs_7d"] for r in nd],
                        charts.PALETTE[2],
                    ),
                    charts.Series(
                        "Hashprice, 7-day mean ($/EH/s/day)",
                        [r["hashprice_7d"] for r in nd],
                        charts.PALETTE[3],
                        right_axis=True,
                    ),
                ],
                lambda v: f"{v:,.0f}",
                lambda v: f"${v:,.0f}",
            ),
            1,
            SOURCES["network"],
        )
    )
    months = sorted({r["month_start"] for r in data["shares"]})
    tickers = sorted({r["ticker"] for r in data["shares"]})
    by = {(r["month_start"], r["ticker"]): r["hashrate_share"] for r in data["shares"]}
    out.append(
        _figure(
            "Share of network hash rate by company",
            charts.stacked_bar_chart(
                "Share of network hash rate by company",
                [f"{m:%b %y}" for m in months],
                {t: [_scaled(by.get((m, t)), 100) for m in months] for t in tickers},
                lambda v: f"{v:g} %",
            ),
            3,
            SOURCES["hashrate"],
        )
    )
    out.append(
        _figure(
            "Valuation: market cap against bitcoin left to mine and four years of rewards",
            charts.line_chart(
                "Valuation ratios",
                [r["date_day"] for r in sd],
                [
                    charts.Series(
                        "Market cap / value of bitcoin left to mine",
                        [_scaled(r["mcap_to_remaining_btc_value"], 100) for r in sd],
                        charts.PALETTE[4],
                    ),
                    charts.Series(
                        "Market cap / four years of rewards, flat (210,000 × current subsidy)",
                        [_scaled(r.get("mcap_to_four_year_reward_flat"), 100) for r in sd],
                        charts.PALETTE[1],
                    ),
                    charts.Series(
                        "Market cap / four years of rewards, halving-aware",
                        [_scaled(r["mcap_to_four_year_reward"], 100) for r in sd],
                        charts.PALETTE[5 % len(charts.PALETTE)],
                    ),
                ],
                lambda v: f"{v:.0f} %",
            ),
            2,
            SOURCES["market"]
            + " Remaining bitcoin and block rewards: "
            + SOURCES["network"]
            + " Flat: the note's reading (656,250 BTC after the 2024 halving); halving-aware: "
            "the subsidy of the next 210,000 blocks, halvings inside included.",
        )
    )
    out.extend(_production_figures(data))
    rets = data["returns"]
    btc = next((r["btc_return_pct"] for r in rets if r["btc_return_pct"] is not None), None)
    out.append(
        _figure(
            f"Returns in {data['month']:%B %Y} by company against bitcoin",
            charts.bar_chart(
                "Monthly returns by company",
                [r["ticker"] for r in rets],
                [r["return_pct"] for r in rets],
                lambda v: f"{v:+.0f} %",
                reference=("Bitcoin", btc) if btc is not None else None,
            ),
            4,
            SOURCES["returns"],
        )
    )
    return "".join(out)


def _production_figures(data: dict[str, Any]) -> list[str]:
    prod, out = data.get("production") or [], []
    if prod:
        month = prod[0]["month_start"]
        tickers = [r["ticker"] for r in prod]
        out.append(
            _figure(
                f"Reported against realized share of network hash rate, {month:%B %Y}",
                charts.grouped_bar_chart(
                    "Reported against realized hash-rate share by company",
                    tickers,
                    {
                        "Reported (own hash-rate figure)": [
                            _scaled(r["hashrate_share"], 100) for r in prod
                        ],
                        "Realized (bitcoin mined / network rewards)": [
                            _scaled(r["realized_hashrate_share"], 100) for r in prod
                        ],
                    },
                    lambda v: f"{v:.2f} %",
                ),
                3,
                SOURCES["realized"],
            )
        )
        out.append(
            _figure(
                f"Price to hash: market cap per reported EH/s, {month:%B %Y}",
                charts.bar_chart(
                    "Market cap per reported EH/s by company",
                    tickers,
                    [_scaled(r["mcap_per_ehs_usd"], 1e-6) for r in prod],
                    lambda v: f"${v:,.0f}M",
                ),
                2,
                SOURCES["price_to_hash"],
            )
        )
    pools = data.get("pools") or []
    if pools:
        months = sorted({r["month_start"] for r in pools})
        # the largest pools of the period by their mean share; the rest as one stack
        totals: dict[str, float] = {}
        for r in pools:
            totals[r["pool_name"]] = totals.get(r["pool_name"], 0.0) + (r["block_share"] or 0.0)
        top = sorted(totals, key=lambda k: -totals[k])[:8]
        share = {(r["month_start"], r["pool_name"]): r["block_share"] for r in pools}
        stacks = {p: [_scaled(share.get((m, p)), 100) for m in months] for p in top}
        stacks["other pools"] = [
            _scaled(sum(v or 0.0 for (mm, p), v in share.items() if mm == m and p not in top), 100)
            for m in months
        ]
        out.append(
            _figure(
                "Mining pools' share of blocks (pools are not companies)",
                charts.stacked_bar_chart(
                    "Mining pool shares by month",
                    [f"{m:%b %y}" for m in months],
                    stacks,
                    lambda v: f"{v:g} %",
                ),
                1,
                SOURCES["pools"],
            )
        )
    return out


def _scaled(v, factor: float):
    return None if _missing(v) else v * factor


def _claims_html(results, claims_file: Path | None, error: str | None) -> str:
    if error:
        return f'<p class="contradicted">The claims file could not be checked: {escape(error)}</p>'
    if claims_file is None:
        return "<p>No claims file configured (MINERWATCH_CLAIMS_FILE).</p>"
    css = {"supported": "supported", "contradicted": "contradicted", "not enough data": "nodata"}
    rows = []
    for r in results:
        c = r.claim
        when = c.when
        computed = "—" if r.computed is None else f"{r.computed:,.6g}"
        tol = f"±{c.tolerance:.1%}" if c.tolerance is not None else f"±{c.tolerance_abs:g}"
        rows.append(
            f'<tr><td class="s">{escape(c.id)}</td>'
            f'<td title="marts.{escape(r.table)}">{escape(r.figure)}</td><td>{escape(when)}</td>'
            f'<td class="n">{c.value:,.6g}</td><td class="n">{computed}</td><td>{tol}</td>'
            f'<td class="{css[r.status]}">{r.status}</td>'
            f'<td class="s">{escape(r.explanation)}</td>'
            f'<td class="s">{escape(c.published_by)}: {escape(c.source)}</td></tr>'
        )
    unchecked = ""
    try:
        skipped = claims.load_not_checked(claims_file)
    except Exception:  # the checked claims above already loaded: keep the report whole
        skipped = []
    if skipped:
        unchecked = (
            "<p>Published but not checkable from public data here:</p><ul>"
            + "".join(
                f"<li>{escape(s['claim'])} — {escape(s['reason'])} "
                f"({escape(s['published_by'])}: {escape(s['source'])})</li>"
                for s in skipped
            )
            + "</ul>"
        )
    counts = {s: sum(r.status == s for r in results) for s in css}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    return (
        f"<p>{len(results)} claims from {escape(claims_file.name)}: {summary}.</p>"
        "<table><tr><th>Claim</th><th>Figure</th><th>Day/month</th><th>Claimed</th>"
        "<th>Computed</th><th>Tolerance</th><th>Status</th><th>Why</th>"
        "<th>Published by, where</th></tr>" + "".join(rows) + "</table>" + unchecked
    )


GX_DATA_DOCS_NOTE = (
    "Great Expectations' own Data Docs are not published: their pages load Bootstrap, jQuery, "
    "Font Awesome and Vega from CDNs (code.jquery.com, cdnjs.cloudflare.com, cdn.jsdelivr.net, "
    "unpkg.com, bootstrapcdn.com) and are unusable offline; this table summarises the same "
    "results, which are kept whole in the lake."
)


def _quality_html(quality: dict[str, Any] | None) -> str:
    if quality is None:
        return ""
    day = quality["day"]
    rows, evaluated, passed, found = [], 0, 0, 0
    for m in quality["marts"]:
        name = f"<td>marts.{escape(m['table'])}</td>"
        if not m["found"]:
            rows.append(
                f'<tr>{name}<td>—</td><td class="n">—</td><td class="n">—</td>'
                '<td class="nodata">no audit result for this date</td></tr>'
            )
            continue
        found += 1
        evaluated += m["evaluated"]
        passed += m["passed"]
        outcome = (
            '<td class="supported">passed</td>'
            if m["success"]
            else f'<td class="contradicted">failed: {escape("; ".join(m["failed"]))}</td>'
        )
        rows.append(
            f'<tr>{name}<td>{escape(m["suite"])}</td><td class="n">{m["evaluated"]}</td>'
            f'<td class="n">{m["passed"]}</td>{outcome}</tr>'
        )
    summary = (
        f"The audit of the run of {day}: {passed} of {evaluated} expectations passed on "
        f"{found} of {len(quality['marts'])} marts."
        if found
        else f"No audit result was found for the run of {day}."
    )
    q = quality["quarantined"]
    quarantined = (
        f"Batches quarantined for {day}: {len(q)} — " + ", ".join(f"{escape(k)}/" for k in q) + "."
        if q
        else f"Batches quarantined for {day}: none."
    )
    return (
        f"<p>{escape(summary)}</p>"
        + _agreement_html(quality.get("sources_agree"))
        + "<table><tr><th>Mart</th><th>Suite</th><th>Expectations</th><th>Passed</th>"
        "<th>Result</th></tr>" + "".join(rows) + "</table>"
        f"<p>{quarantined}</p>"
        '<p class="src">Great Expectations suites (expectations/mart_*.json, each bound with '
        "its reason in meta.reason) run by the audit step on the built marts before publish: a "
        "failed expectation stops the publication. Every landed batch passed its own suite "
        "before it was staged. Full results: audit/&lt;mart&gt;/"
        f"{escape(date_part('logical_date', day))}/validation_result.json in the lake. "
        f"{escape(GX_DATA_DOCS_NOTE)}</p>"
    )


def _agreement_html(agree: dict[str, Any] | None) -> str:
    """Coin Metrics against mempool.space: a divergence is said loudly, never silently resolved."""
    if not agree:
        return ""
    tol = f"{agree['tolerance']:.0%}"
    if not agree["stretches"]:
        return (
            f'<p class="supported">The two network hash-rate sources (Coin Metrics, mempool.space) '
            f"agree within {tol} over 30-day means since 2011, through {agree['through']:%Y-%m-%d}."
            "</p>"
        )
    items = "".join(
        f"<li>{s['first_day']}..{s['last_day']} ({s['days']} days): worst {s['worst']['date_day']}"
        f", Coin Metrics {s['worst']['coinmetrics_ehs_30d']:,.1f} EH/s against mempool.space "
        f"{s['worst']['mempool_ehs_30d']:,.1f} EH/s ({s['worst']['divergence']:+.2%})</li>"
        for s in agree["stretches"]
    )
    return (
        f'<p class="contradicted">WARNING: the two network hash-rate sources diverge beyond {tol} '
        "over 30-day means (the marts use Coin Metrics; mempool.space is shown beside it, "
        f"never silently preferred):</p><ul>{items}</ul>"
    )


def _docs_html(docs: DocsSite | None) -> str:
    """The one link of the report: relative, to the dbt docs site published beside it."""
    if docs is None:
        return ""
    if docs.ok:
        return (
            '<p class="sub">Every table and column, its tests and its lineage: '
            f'<a href="{REPORT_LINK}">the dbt docs site</a> of this build (one self-contained '
            "page beside this report; it fetches nothing when opened).</p>"
        )
    return (
        '<p class="nodata">The dbt docs site could not be generated for this build: '
        f"{escape(docs.error or 'unknown error')}</p>"
    )


def render(
    data: dict[str, Any],
    claim_results=(),
    claims_file: Path | None = None,
    claims_error: str | None = None,
    sample: bool = False,
    generated_for: dt.date | None = None,
    docs: DocsSite | None = None,
) -> str:
    month = data["month"]
    h = data["headline"]
    through = h["month_end_date"] if h else None
    complete = bool(h and h.get("is_month_complete"))
    period = f"{month:%B %Y}" + ("" if complete else " (month to date)")
    banner = (
        '<div class="banner">SAMPLE DATA — generated by the minerwatch demo, not real network '
        "or market data. The figures show how the report works, nothing about the miners.</div>"
        if sample
        else ""
    )
    notes = [
        ("1", SOURCES["network"] + f" Network rows from: {', '.join(data['network_sources'])}."),
        ("2", SOURCES["market"]),
        ("3", SOURCES["hashrate"]),
        ("4", SOURCES["returns"]),
    ]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>minerwatch — US-listed bitcoin miners, {period}</title>
<style>{CSS}</style></head>
<body>
<h1>US-listed bitcoin miners — {period}</h1>
<p class="sub">Data through {through or "n/a"}; generated by minerwatch for the run of
{generated_for or month} from the published warehouse (marts.fct_sector_monthly and the marts
named under each figure).</p>
{_docs_html(docs)}
{banner}
<h2>Headline figures</h2>
{_headline_html(data)}
{_charts_html(data)}
<h2>Claims check</h2>
{_claims_html(claim_results, claims_file, claims_error)}
{"<h2>Data quality</h2>" if data.get("quality") is not None else ""}
{_quality_html(data.get("quality"))}
<h2>Sources</h2>
<ol class="src">{"".join(f"<li>{escape(text)}</li>" for _, text in notes)}</ol>
</body></html>
"""


def build(logical_date, settings: Settings | None = None) -> dict[str, Any]:
    """Write the month's report from the published warehouse, with the run's audit results
    and the dbt docs site beside it; returns paths, claim counts and the docs site's outcome."""
    import duckdb

    from minerwatch import claims as claims_mod
    from minerwatch import docs_site
    from minerwatch.errors import ConfigurationError
    from minerwatch.publish import published_path

    settings = settings or load_settings()
    day = as_day(logical_date)
    month = day.replace(day=1)
    source = published_path(settings)
    if not source.exists():
        raise MinerwatchError(f"no published warehouse at {source}: publish must run first")
    con = duckdb.connect(str(source), read_only=True)
    results, error = [], None
    try:
        data = gather(con, month)
        if settings.claims_file:
            try:
                results = claims_mod.check(claims_mod.load(settings.claims_file), con)
            except ConfigurationError as exc:
                error = str(exc)  # the report still comes out, saying why claims were not checked
                log.error("claims check: %s", exc)
    finally:
        con.close()  # closed before dbt runs: one process on a DuckDB file at a time
    lake = Lake(settings)
    data["quality"] = quality_summary(lake, day)
    data["quality"]["sources_agree"] = data.get("sources_agree")
    docs = docs_site.generate(settings)  # never raises: the report says why it failed
    html = render(data, results, settings.claims_file, error, settings.sample_data, day, docs)
    target = report_path(settings, month)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(html)
    os.chmod(tmp, 0o644)  # mkstemp makes it 0600; the report is for everyone who reads it
    os.replace(tmp, target)
    key = f"reports/month={month:%Y-%m}/report.html"
    lake.replace(key, html.encode("utf-8"))
    claims_json = [r.as_dict() for r in results]
    lake.replace(claims_key(month), json.dumps(claims_json, indent=2, default=str).encode())
    for r in results:
        (log.info if r.status != claims_mod.CONTRADICTED else log.warning)(
            "claim %s: %s — %s", r.claim.id, r.status.upper(), r.explanation
        )
    summary = {
        s: sum(r.status == s for r in results)
        for s in ("supported", "contradicted", "not enough data")
    }
    log.info("report for %s written to %s and %s", f"{month:%Y-%m}", target, lake.url(key))
    return {
        "report": str(target),
        "lake_report": lake.url(key),
        "claims": summary,
        "docs": docs.as_dict(),
    }
