"""SEC EDGAR: ``company_tickers.json``, ``submissions`` and ``companyfacts`` through one client.

Fair access: every request carries the configured User-Agent (MINERWATCH_SEC_USER_AGENT; without
it nothing is sent) and the whole pipeline stays under MINERWATCH_SEC_MAX_RPS (≤ 10/s). Two ways,
by MINERWATCH_SEC_RATE_SCOPE:

- ``machine`` (default; one machine: LocalExecutor, ``dag.test``): every process on the machine
  shares one budget of max_rps through a locked state file, so a task alone uses all of it;
- ``slot`` (workers on several machines, e.g. Celery): SEC tasks run in the Airflow pool
  ``sec_api`` with SEC_POOL_SLOTS slots and each process spaces its own requests by
  SEC_POOL_SLOTS / max_rps seconds — all tasks together never exceed the limit.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import TYPE_CHECKING

from minerwatch.airflow_names import SEC_POOL_SLOTS
from minerwatch.errors import ConfigurationError, NoDataError, SourceError
from minerwatch.http import HttpClient, RateLimiter, SharedRateLimiter
from minerwatch.lake import Lake, RawObject
from minerwatch.sources.base import client_for, decode_json, land

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from minerwatch.settings import Settings

log = logging.getLogger(__name__)

SOURCE = "sec"
# EDGAR's daily indexes (https://www.sec.gov/os/accessing-edgar-data, "Using the EDGAR Index
# Files"): one master.YYYYMMDD.idx per business day, "updated nightly starting about 10:00 p.m.
# ET; the process is usually completed within a few hours"; each quarter's directory has an
# index.json listing its files
DAILY_INDEX = "daily_index"
DAILY_INDEX_PATH = "/Archives/edgar/daily-index"
SHARES_TAG = "EntityCommonStockSharesOutstanding"
ACCESSION = re.compile(r"^\d{10}-\d{2}-\d{6}$")
_LIMITERS: dict[float, RateLimiter] = {}  # one per process: every SecClient here shares it


def process_limiter(max_rps: float) -> RateLimiter:
    interval = SEC_POOL_SLOTS / max_rps
    if interval not in _LIMITERS:
        _LIMITERS[interval] = RateLimiter(interval)
    return _LIMITERS[interval]


def limiter_for(settings: Settings) -> RateLimiter | SharedRateLimiter:
    if settings.sec_rate_scope == "machine":
        return SharedRateLimiter(str(settings.sec_rate_state_file), 1 / settings.sec_max_rps)
    return process_limiter(settings.sec_max_rps)


def cik10(cik: int | str) -> str:
    text = str(cik).strip().lstrip("0") or "0"
    if not text.isdigit() or len(text) > 10:
        raise ValueError(f"CIK {cik!r} is not a number of at most 10 digits")
    return text.zfill(10)


class SecClient:
    def __init__(self, settings: Settings, client: HttpClient | None = None):
        if not settings.sec_user_agent:
            raise ConfigurationError(
                "SEC requests need a declared User-Agent with contact details: set "
                "MINERWATCH_SEC_USER_AGENT, e.g. 'Jane Doe jane@example.com' "
                "(https://www.sec.gov/os/accessing-edgar-data). No request was sent."
            )
        self.settings = settings
        self.http = client or client_for(
            settings,
            headers={"User-Agent": settings.sec_user_agent, "Accept-Encoding": "gzip, deflate"},
            limiter=limiter_for(settings),
        )

    def _get_and_land(
        self,
        lake: Lake,
        dataset: str,
        url: str,
        day: dt.date,
        *,
        is_json: bool = True,
        no_data_on_404: bool = False,
        **meta,
    ) -> RawObject:
        resp = self.http.get(url, accept={200, 404} if no_data_on_404 else {200})
        if resp.status == 404:
            # data.sec.gov answers 404 (NoSuchKey) for a CIK it has no document for: definitive
            obj = land(lake, SOURCE, dataset, day, resp, **meta)
            raise NoDataError(
                f"SEC has no {dataset} document at {resp.url} (HTTP 404)",
                raw_key=obj.key,
                status=404,
            )
        if is_json:
            decode_json(resp.body, resp.url, "SEC")
        elif not resp.body.strip():
            raise SourceError(f"SEC returned an empty document for {resp.url}")
        return land(lake, SOURCE, dataset, day, resp, **meta)

    def company_tickers(self, lake: Lake, day: dt.date) -> RawObject:
        return self._get_and_land(
            lake, "company_tickers", f"{self.settings.sec_www_url}/files/company_tickers.json", day
        )

    def submissions(self, lake: Lake, day: dt.date, cik: int | str) -> RawObject:
        c = cik10(cik)
        url = f"{self.settings.sec_data_url}/submissions/CIK{c}.json"
        return self._get_and_land(lake, "submissions", url, day, no_data_on_404=True, cik=c)

    def submissions_page(self, lake: Lake, day: dt.date, cik: int | str, name: str) -> RawObject:
        """An older page of a company's filings (``filings.files``), write-once like the rest."""
        c = cik10(cik)
        if not re.fullmatch(rf"CIK{c}-submissions-\d{{3}}\.json", name):
            raise SourceError(f"refusing to fetch {name!r}: not a submissions page of CIK {c}")
        url = f"{self.settings.sec_data_url}/submissions/{name}"
        return self._get_and_land(lake, "submissions", url, day, cik=c, page=name)

    def archive(self, lake: Lake, day: dt.date, dataset: str, path: str, **meta) -> RawObject:
        """A document under www.sec.gov/Archives/edgar/data/ (filing index, exhibit)."""
        if ".." in path or not path.startswith("/Archives/edgar/data/"):
            raise SourceError(f"refusing to fetch {path!r}: not an EDGAR archive path")
        url = f"{self.settings.sec_www_url}{path}"
        return self._get_and_land(lake, dataset, url, day, is_json=False, **meta)

    def daily_index_listing(self, lake: Lake, day: dt.date, year: int, quarter: int) -> RawObject:
        """The directory listing (``index.json``) of one quarter's EDGAR daily indexes: which
        ``master.YYYYMMDD.idx`` files SEC has published. HTTP 404 raises NoDataError (a quarter
        with no daily index published yet)."""
        if not (1993 <= year <= 9999 and 1 <= quarter <= 4):
            raise SourceError(f"no EDGAR daily-index quarter {year} Q{quarter}")
        url = f"{self.settings.sec_www_url}{DAILY_INDEX_PATH}/{year}/QTR{quarter}/index.json"
        return self._get_and_land(
            lake, DAILY_INDEX, url, day, no_data_on_404=True, year=year, quarter=quarter
        )

    def daily_index(self, lake: Lake, day: dt.date, index_date: dt.date) -> RawObject:
        """One day's master index (``master.YYYYMMDD.idx``: every filing with that filing date),
        landed write-once like every other answer."""
        q = (index_date.month - 1) // 3 + 1
        name = f"master.{index_date:%Y%m%d}.idx"
        url = f"{self.settings.sec_www_url}{DAILY_INDEX_PATH}/{index_date.year}/QTR{q}/{name}"
        return self._get_and_land(
            lake, DAILY_INDEX, url, day, is_json=False, index_date=index_date.isoformat()
        )

    def companyfacts(self, lake: Lake, day: dt.date, cik: int | str) -> RawObject:
        c = cik10(cik)
        url = f"{self.settings.sec_data_url}/api/xbrl/companyfacts/CIK{c}.json"
        return self._get_and_land(lake, "companyfacts", url, day, no_data_on_404=True, cik=c)


def company_tickers_frame(body: bytes, raw_key: str) -> pd.DataFrame:
    import pandas as pd

    doc = decode_json(body, raw_key, "SEC")
    if not isinstance(doc, dict):
        raise SourceError(f"{raw_key}: company_tickers.json is not an object")
    rows = []
    for item in doc.values():
        try:
            rows.append(
                {"ticker": str(item["ticker"]).upper(), "cik": cik10(item["cik_str"]),
                 "title": str(item.get("title", "")), "raw_key": raw_key}
            )  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            raise SourceError(
                f"{raw_key}: unexpected company_tickers entry {item!r} ({exc})"
            ) from None
    return pd.DataFrame(rows, columns=["ticker", "cik", "title", "raw_key"])


def check_ciks(universe: list[dict[str, str]], listed: pd.DataFrame) -> list[dict[str, str]]:
    """Compare the seed's CIKs with SEC's ticker map. Mismatches are logged loudly with both
    values; the reviewed seed value stays in use (an SEC-side value is never used silently)."""
    by_ticker = dict(zip(listed["ticker"], listed["cik"], strict=True))
    out = []
    for m in universe:
        seed = cik10(m["cik"])
        sec = by_ticker.get(m["ticker"].upper())
        if sec is None:
            status = "not_listed"
            log.warning(
                "CIK CHECK: %s (seed CIK %s) is not in SEC company_tickers.json (delisted or "
                "renamed?); keeping the seed value",
                m["ticker"],
                seed,
            )
        elif sec != seed:
            status = "mismatch"
            log.warning(
                "CIK CHECK MISMATCH: %s has CIK %s in the seed but %s in SEC company_tickers.json; "
                "keeping the reviewed seed value %s — review dbt_project/seeds/miners.csv",
                m["ticker"],
                seed,
                sec,
                seed,
            )
        else:
            status = "ok"
        out.append({"ticker": m["ticker"], "seed_cik": seed, "sec_cik": sec, "status": status})
    return out


FILING_COLUMNS = [
    "cik",
    "accession",
    "form",
    "filing_date",
    "report_date",
    "primary_document",
    "items",
    "raw_key",
]


def older_pages(body: bytes, raw_key: str) -> list[dict[str, str]]:
    """``filings.files`` of a submissions document: the pages with filings older than
    ``filings.recent`` (which holds the latest ~1,000), each ``{name, filingFrom, filingTo,
    filingCount}`` (what SEC lists of the page: a page listed differently was rewritten)."""
    doc = decode_json(body, raw_key, "SEC")
    files = ((doc or {}).get("filings") or {}).get("files") or []
    if not isinstance(files, list):
        raise SourceError(f"{raw_key}: filings.files is not a list")
    out = []
    for f in files:
        name = f.get("name") if isinstance(f, dict) else None
        if not isinstance(name, str) or not re.fullmatch(
            r"CIK\d{10}-submissions-\d{3}\.json", name
        ):
            raise SourceError(f"{raw_key}: filings.files entry {f!r} is not a submissions page")
        out.append(
            {
                "name": name,
                "filingFrom": f.get("filingFrom"),
                "filingTo": f.get("filingTo"),
                "filingCount": f.get("filingCount"),
            }
        )
    return out


def filings_frame(
    body: bytes, raw_key: str, cik: str | None = None, *, accepted: bool = False
) -> pd.DataFrame:
    """The filings table of a submissions document (``filings.recent``) or of one of its older
    pages (``filings.files``: the same columns at the top level; pass the company's ``cik``).
    ``accepted`` adds ``accepted_at``: EDGAR's acceptance time (``acceptanceDateTime``, as
    written: marked UTC, though often New York time; NaT where the document has none) — used to decide what to fetch, never staged."""
    import pandas as pd

    doc = decode_json(body, raw_key, "SEC")
    if isinstance(doc, dict) and "accessionNumber" in doc and "filings" not in doc:
        recent = doc  # an older page
        if cik is None:
            raise SourceError(f"{raw_key}: an older submissions page needs the company's CIK")
        doc = {"cik": cik}
    else:
        recent = ((doc or {}).get("filings") or {}).get("recent")
    if not isinstance(recent, dict) or "accessionNumber" not in recent:
        raise SourceError(f"{raw_key}: submissions document has no filings.recent table")
    n = len(recent["accessionNumber"])
    for col in ("form", "filingDate"):
        if len(recent.get(col, [])) != n:
            raise SourceError(f"{raw_key}: filings.recent.{col} is not {n} long")

    def col(name):
        values = recent.get(name) or [None] * n
        return [v if v not in ("",) else None for v in values]

    df = pd.DataFrame(
        {
            "cik": cik10(doc["cik"]),
            "accession": col("accessionNumber"),
            "form": col("form"),
            "filing_date": pd.to_datetime(pd.Series(col("filingDate"))).dt.date,
            "report_date": pd.to_datetime(pd.Series(col("reportDate"))).dt.date,
            "primary_document": col("primaryDocument"),
            "items": col("items"),
            "raw_key": raw_key,
        }
    )
    if not accepted:
        return df[FILING_COLUMNS]
    times = recent.get("acceptanceDateTime") or []
    times = times if len(times) == n else [None] * n
    df["accepted_at"] = pd.to_datetime(
        pd.Series(times, dtype="object"), utc=True, errors="coerce", format="ISO8601"
    )
    return df[[*FILING_COLUMNS, "accepted_at"]]


SHARE_COLUMNS = [
    "cik", "as_of_date", "shares_outstanding", "accession", "form", "filed_date", "fiscal_year",
    "fiscal_period", "class_count", "raw_key",
]  # fmt: skip


def share_counts_frame(body: bytes, raw_key: str) -> pd.DataFrame:
    """Cover-page share counts (dei:EntityCommonStockSharesOutstanding) per filing and as-of
    date; multi-class issuers report one value per class under the same accession and date:
    they are summed (class_count says how many)."""
    import pandas as pd

    doc = decode_json(body, raw_key, "SEC")
    if not isinstance(doc, dict) or "cik" not in doc:
        raise SourceError(f"{raw_key}: companyfacts document has no 'cik'")
    fact = ((doc.get("facts") or {}).get("dei") or {}).get(SHARES_TAG)
    rows = []
    if fact:
        units = fact.get("units") or {}
        if "shares" not in units:
            raise SourceError(
                f"{raw_key}: dei:{SHARES_TAG} has no 'shares' unit (units: {sorted(units)})"
            )
        for item in units["shares"]:
            try:
                rows.append(
                    {
                        "as_of_date": dt.date.fromisoformat(item["end"]),
                        "shares": float(item["val"]),
                        "accession": str(item["accn"]),
                        "form": item.get("form"),
                        "filed_date": dt.date.fromisoformat(item["filed"]),
                        "fiscal_year": item.get("fy"),
                        "fiscal_period": item.get("fp"),
                    }
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise SourceError(
                    f"{raw_key}: unexpected {SHARES_TAG} entry {item!r} ({exc})"
                ) from None
    else:
        log.info("%s: no dei:%s facts", raw_key, SHARES_TAG)
    if not rows:
        return pd.DataFrame(columns=SHARE_COLUMNS)
    df = pd.DataFrame(rows)
    keys = ["accession", "as_of_date"]
    out = (
        df.groupby(keys, as_index=False)
        .agg(
            shares_outstanding=("shares", "sum"),
            class_count=("shares", "size"),
            form=("form", "first"),
            filed_date=("filed_date", "first"),
            fiscal_year=("fiscal_year", "first"),
            fiscal_period=("fiscal_period", "first"),
        )
        .sort_values(["filed_date", "as_of_date", "accession"])
    )
    out["cik"] = cik10(doc["cik"])
    out["raw_key"] = raw_key
    out["fiscal_year"] = pd.to_numeric(out["fiscal_year"]).astype("Int64")
    out["class_count"] = out["class_count"].astype("int64")
    return out[SHARE_COLUMNS].reset_index(drop=True)


# -- EDGAR daily index ----------------------------------------------------------------------
INDEX_NAME = re.compile(r"master\.(\d{8})\.idx")
INDEX_HEADER = re.compile(r"^CIK\|Company Name\|Form Type\|Date Filed\|File ?[Nn]ame\s*$")
INDEX_FILE = re.compile(r"edgar/data/(\d+)/(\d{10}-\d{2}-\d{6})\.txt")
INDEX_COLUMNS = ["cik", "company_name", "form", "date_filed", "accession", "raw_key"]


def published_index_days(body: bytes, raw_key: str) -> list[dt.date]:
    """The dates of the ``master.YYYYMMDD.idx`` files a quarter's ``index.json`` lists."""
    doc = decode_json(body, raw_key, "SEC")
    items = ((doc or {}).get("directory") or {}).get("item") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise SourceError(f"{raw_key}: EDGAR directory listing has no directory.item list")
    out = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            raise SourceError(f"{raw_key}: EDGAR directory entry {item!r} has no name")
        if m := INDEX_NAME.fullmatch(name):
            try:
                out.append(dt.datetime.strptime(m.group(1), "%Y%m%d").date())
            except ValueError:
                raise SourceError(f"{raw_key}: {name} does not name a date") from None
    return sorted(out)


def _index_date(text: str) -> dt.date:
    text = text.strip()
    return (
        dt.date.fromisoformat(text) if "-" in text else dt.datetime.strptime(text, "%Y%m%d").date()
    )


def daily_index_frame(body: bytes, raw_key: str) -> pd.DataFrame:
    """The filings a master index lists (``CIK|Company Name|Form Type|Date Filed|File Name``
    after a short header and a dashed line; dates as YYYYMMDD in the daily files, YYYY-MM-DD in
    the quarterly ones), one row per filing with its accession (from the file name). A file
    without that header, or a row that does not read as one, is refused (schema drift)."""
    import pandas as pd

    text = body.decode("latin-1")
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if INDEX_HEADER.match(ln)), None)
    if start is None:
        raise SourceError(f"{raw_key}: not an EDGAR master index (no CIK|Company Name|... header)")
    rows = []
    for ln in lines[start + 1 :]:
        if not ln.strip() or set(ln.strip()) == {"-"}:
            continue
        parts = ln.split("|")
        m = INDEX_FILE.fullmatch(parts[4].strip()) if len(parts) == 5 else None
        if m is None or not parts[0].strip().isdigit():
            raise SourceError(f"{raw_key}: unexpected master index row {ln[:200]!r}")
        try:
            filed = _index_date(parts[3])
        except ValueError:
            raise SourceError(f"{raw_key}: unexpected filing date in row {ln[:200]!r}") from None
        rows.append(
            {"cik": cik10(parts[0]), "company_name": parts[1].strip(), "form": parts[2].strip(),
             "date_filed": filed, "accession": m.group(2), "raw_key": raw_key}
        )  # fmt: skip
    return pd.DataFrame(rows, columns=INDEX_COLUMNS)
