"""SEC task bodies: the company ticker map and the CIK check, each company's submissions
(with the older pages that reach into the history window) and XBRL company facts, and the
monthly production updates (exhibit 99.x of 8-K / 6-K filings): discovered through each filing's
index, landed write-once, parsed into cited figures, gated and staged per company.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING

from minerwatch import universe
from minerwatch.dates import as_day
from minerwatch.errors import MinerwatchError, NoDataError
from minerwatch.lake import Lake
from minerwatch.pipeline import staging
from minerwatch.settings import Settings
from minerwatch.sources import production, sec
from minerwatch.sources.sec import SecClient, cik10, older_pages

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

log = logging.getLogger(__name__)


# -- company tickers, submissions, company facts --------------------------------------------
def extract_sec_company_tickers(logical_date, settings: Settings | None = None) -> str:
    settings, lake = staging.context(settings)
    return SecClient(settings).company_tickers(lake, as_day(logical_date)).key


def check_sec_ciks(logical_date, raw_key: str, settings: Settings | None = None) -> list[dict]:
    """Compare the CIKs of the day's members with SEC's ticker map (loud warnings) and stage
    the result. SEC's map is today's: a period that has ended (an old issuer's CIK) is not
    compared with it."""
    import pandas as pd

    settings, lake = staging.context(settings)
    day = as_day(logical_date)
    listed = sec.company_tickers_frame(lake.read_bytes(raw_key), raw_key)
    checks = sec.check_ciks(universe.periods_overlapping(day, day), listed)
    df = pd.DataFrame(checks)
    df["raw_key"] = raw_key
    lake.write_staged(sec.SOURCE, "cik_check", as_day(logical_date), df)
    return checks


def extract_sec_company(logical_date, cik: str, settings: Settings | None = None) -> dict:
    settings, lake = staging.context(settings)
    day = as_day(logical_date)
    client = SecClient(settings)
    out = {"cik": cik, "status": "landed", "submissions": None, "companyfacts": None}
    try:
        out["submissions"] = client.submissions(lake, day, cik).key
        # filings.recent holds the latest ~1,000 filings; older ones are on further pages, which
        # are fetched when they reach into the history window (their bytes rarely change, and
        # an unchanged page lands as no new object)
        pages = older_pages(lake.read_bytes(out["submissions"]), out["submissions"])
        wanted = [
            p for p in pages if (p["filingTo"] or "9999") >= settings.history_start.isoformat()
        ]
        out["submission_pages"] = [
            client.submissions_page(lake, day, cik, p["name"]).key for p in wanted
        ]
        out["companyfacts"] = client.companyfacts(lake, day, cik).key
    except NoDataError as exc:
        # definitive (HTTP 404 from data.sec.gov): named in the coverage, not fatal
        log.warning("%s; CIK %s is reported missing, the run goes on", exc, cik)
        out.update(status="no_data", reason=str(exc), no_data_key=exc.raw_key)
    return out


def stage_sec(logical_date, batches: list[dict], settings: Settings | None = None) -> list[str]:
    """Share counts (GX-gated per company) and filing lists of every company's documents."""
    import pandas as pd

    settings, lake = staging.context(settings)
    day = as_day(logical_date)
    items, filings = [], []
    coverage = [
        {"member": sec.cik10(b["cik"]), "provider": "sec", "status": b.get("status", "landed"),
         "reason": b.get("reason"), "raw_key": b.get("no_data_key") or b.get("companyfacts")}
        for b in batches
    ]  # fmt: skip
    staging.write_coverage(lake, sec.SOURCE, day, coverage)
    for b in batches:
        if b.get("submissions") is None:
            continue
        filings.append(sec.filings_frame(lake.read_bytes(b["submissions"]), b["submissions"]))
        for key in b.get("submission_pages") or []:
            filings.append(sec.filings_frame(lake.read_bytes(key), key, sec.cik10(b["cik"])))
        if b.get("companyfacts") is None:  # filings known, no XBRL facts
            continue
        counts = sec.share_counts_frame(lake.read_bytes(b["companyfacts"]), b["companyfacts"])
        items.append((sec.cik10(b["cik"]), share_check_frame(counts), [b["companyfacts"]]))
    if filings:
        # an accession listed on two pages (a page boundary moving between fetches) once
        frame = pd.concat(filings, ignore_index=True).drop_duplicates(["cik", "accession"])
        lake.write_staged(sec.SOURCE, "filings", day, frame.reset_index(drop=True))
    return staging.stage_each(
        lake, day, sec.SOURCE, "share_counts", "sec_share_counts", items,
        lambda cik: {"cik": cik},
    )  # fmt: skip


def share_check_frame(counts: pd.DataFrame) -> pd.DataFrame:
    """Share counts plus the lag the suite checks (filed − as-of, in days)."""
    import pandas as pd

    out = counts.copy()
    lag = pd.to_datetime(out["filed_date"]) - pd.to_datetime(out["as_of_date"])
    out["filing_lag_days"] = lag.dt.days.astype("float64")
    return out


# -- production updates (exhibit 99.x of 8-K / 6-K) -----------------------------------------
PRODUCTION_FORMS = {"8-K", "8-K/A", "6-K", "6-K/A"}


def production_candidates(lake: Lake, day: dt.date, cik: str, start: dt.date) -> list[dict]:
    """8-K (items 7.01/8.01) and 6-K filings of ``cik`` filed start..day, minus the accessions
    processed by runs before ``day`` (so a rerun of a date repeats exactly its own work)."""
    key = lake.staged_key(sec.SOURCE, "filings", day)
    if not lake.exists(key):
        raise MinerwatchError(f"no staged SEC filings for {day}: stage_sec must run first")
    filings = lake.read_parquet(key)
    filings = filings[filings["cik"] == cik]
    done = staging.staged_frames(lake, sec.SOURCE, "production_documents", day, cik)
    seen = set(done["accession"]) if not done.empty else set()
    out = []
    for row in filings.itertuples(index=False):
        filed = as_day(row.filing_date)
        items = row.items or ""
        if row.form not in PRODUCTION_FORMS or not start <= filed <= day or row.accession in seen:
            continue
        if row.form.startswith("8-K") and not ({"7.01", "8.01"} & set(items.split(","))):
            continue
        out.append({"accession": row.accession, "form": row.form, "filed_date": filed.isoformat()})
    return out


def extract_production_updates(logical_date, cik: str, settings: Settings | None = None) -> dict:
    """Discover the exhibit 99.x documents of new 8-K/6-K filings and land them write-once."""
    settings, lake = staging.context(settings)
    day = as_day(logical_date)
    cik = cik10(cik)
    client = SecClient(settings)
    candidates = production_candidates(lake, day, cik, settings.history_start)
    documents, started = [], time.monotonic()
    for i, filing in enumerate(candidates, 1):
        acc = filing["accession"]
        folder = f"/Archives/edgar/data/{int(cik)}/{acc.replace('-', '')}"
        index = client.archive(
            lake, day, "filing_index", f"{folder}/{acc}-index.htm", cik=cik, accession=acc
        )
        entries = production.exhibits_99(production.parse_filing_index(lake.read_bytes(index.key)))
        if not entries:
            documents.append({**filing, "document": None, "url": None, "raw_key": None})
        for entry in entries:
            path = (
                entry.href if entry.href.startswith("/Archives/") else f"{folder}/{entry.document}"
            )
            obj = client.archive(
                lake, day, "exhibits", path, cik=cik, accession=acc, exhibit=entry.type
            )
            documents.append(
                {
                    **filing,
                    "document": entry.document,
                    "url": f"https://www.sec.gov{path}",
                    "raw_key": obj.key,
                }
            )
        if i % 25 == 0 or i == len(candidates):
            rate = i / max(time.monotonic() - started, 1e-9)
            log.info(
                "CIK %s: %d/%d filings checked (%.1f filings/s)", cik, i, len(candidates), rate
            )
    return {"cik": cik, "documents": documents, "filings_checked": len(candidates)}


PRODUCTION_COLUMNS = [
    "cik", "accession", "form", "filed_date", "document", "source_url", "period_month",
    "document_month", "metric", "hashrate_kind", "value", "reported_value", "reported_unit",
    "evidence", "method", "raw_key",
]  # fmt: skip


DOCUMENT_COLUMNS = [
    "cik",
    "accession",
    "form",
    "filed_date",
    "document",
    "source_url",
    "period_month",
    "status",
    "reason",
    "figures",
    "raw_key",
]


def production_frames(lake: Lake, batch: dict):
    import pandas as pd

    figures, docs = [], []
    for d in batch["documents"]:
        base = {"cik": batch["cik"], "accession": d["accession"], "form": d["form"],
                "filed_date": d["filed_date"], "document": d["document"], "source_url": d["url"],
                "raw_key": d["raw_key"]}  # fmt: skip
        if d["raw_key"] is None:
            docs.append(
                {
                    **base,
                    "period_month": None,
                    "status": "unparsed",
                    "reason": "no exhibit 99.x",
                    "figures": 0,
                }
            )
            continue
        parsed = production.parse_document(
            lake.read_bytes(d["raw_key"]), filed_date=d["filed_date"]
        )
        # the release's month, and other months' columns of its tables (Riot's May release
        # carries April's): each figure has its own month, the document's month beside it
        for f in parsed.all_figures:
            figures.append({**base, "period_month": f.period_month or parsed.period_month,
                            "document_month": parsed.period_month, "metric": f.metric,
                            "hashrate_kind": f.hashrate_kind, "value": f.value,
                            "reported_value": f.reported_value, "reported_unit": f.reported_unit,
                            "evidence": f.evidence, "method": f.method})  # fmt: skip
        status = "parsed" if parsed.figures else "unparsed"
        if status == "unparsed":
            log.info(
                "unparsed: %s %s (%s): %s",
                batch["cik"],
                d["accession"],
                d["document"],
                parsed.unparsed_reason,
            )
        docs.append({**base, "period_month": parsed.period_month, "status": status,
                     "reason": parsed.unparsed_reason,
                     "figures": len(parsed.all_figures)})  # fmt: skip
    fig_df = pd.DataFrame(figures, columns=PRODUCTION_COLUMNS)
    doc_df = pd.DataFrame(docs, columns=DOCUMENT_COLUMNS)
    for df in (fig_df, doc_df):
        for col in ("filed_date", "period_month"):
            df[col] = pd.to_datetime(df[col])
        for col in ("cik", "accession", "form", "document", "source_url", "raw_key"):
            df[col] = df[col].astype("string")
    fig_df["document_month"] = pd.to_datetime(fig_df["document_month"])
    for col in ("metric", "hashrate_kind", "reported_unit", "evidence", "method"):
        fig_df[col] = fig_df[col].astype("string")
    for col in ("value", "reported_value"):
        fig_df[col] = fig_df[col].astype("float64")
    doc_df["status"] = doc_df["status"].astype("string")
    doc_df["reason"] = doc_df["reason"].astype("string")
    doc_df["figures"] = doc_df["figures"].astype("int64")
    return fig_df, doc_df


def production_check_frame(figures, day: dt.date):
    """Figures plus the columns the GX suite checks."""
    import pandas as pd

    out = figures.copy()
    out["hashrate_ehs_value"] = out["value"].where(out["metric"] == "hashrate_ehs")

    def month_number(series):
        return (series.dt.year * 12 + series.dt.month).astype("float64")

    period = month_number(pd.to_datetime(out["period_month"]))
    out["months_before_filing"] = month_number(pd.to_datetime(out["filed_date"])) - period
    out["months_after_run"] = period - float(day.year * 12 + day.month)
    return out


def stage_production_updates(
    logical_date, batches: list[dict], settings: Settings | None = None
) -> list[str]:
    settings, lake = staging.context(settings)
    day = as_day(logical_date)
    items = []
    for b in batches:
        figures, docs = production_frames(lake, b)
        lake.write_staged(sec.SOURCE, "production_documents", day, docs, {"cik": b["cik"]})
        keys = [d["raw_key"] for d in b["documents"] if d["raw_key"]]
        items.append((b["cik"], production_check_frame(figures, day), keys))
    return staging.stage_each(
        lake, day, sec.SOURCE, "production_updates", "sec_production_updates", items,
        lambda cik: {"cik": cik},
    )  # fmt: skip
