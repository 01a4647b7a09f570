"""SEC task bodies: the company ticker map and the CIK check, each company's submissions
(every run, with the older pages that reach into the history window and were not staged
before) and XBRL company facts (only when a filing the staged share counts may not include is
listed: docs/reliability.md, "SEC: each run fetches only what is new"), and the
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
from minerwatch.errors import MinerwatchError, NoDataError, SourceError, ValidationFailed
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


def extract_sec_company(
    logical_date, cik: str, settings: Settings | None = None, plan: dict | None = None
) -> dict:
    """Fetch what is new for one company: its submissions when today's plan says it may have
    filed (``plan_sec_fetches``: EDGAR's daily index lists a filing of it not staged yet, or
    nothing is known of it), the older pages of its filings that no earlier run staged, and its
    companyfacts only when SEC lists a filing the last staged share counts may not include
    (``companyfacts_skip``) — for a company that filed nothing new, judged on the submissions
    document its staged filings came from."""
    settings, lake = staging.context(settings)
    day = as_day(logical_date)
    c = cik10(cik)
    client = SecClient(settings)
    out = {"cik": cik, "status": "landed", "submissions": None, "companyfacts": None}
    entry = (plan or {}).get(c)
    if entry is not None and not entry["fetch"]:
        return extract_unchanged(lake, client, day, c, settings.history_start, entry, out)
    try:
        out["submissions"] = client.submissions(lake, day, cik).key
        body = lake.read_bytes(out["submissions"])
        # filings.recent holds the latest ~1,000 filings; older ones are on further pages, which
        # matter when they reach into the history window. A page an earlier run staged, listed
        # as it was then, is not fetched again (its filings are in that run's partition).
        known = staged_pages(lake, day, c)
        start = settings.history_start.isoformat()
        fetched, carried = [], []
        for p in older_pages(body, out["submissions"]):
            if (p["filingTo"] or "9999") < start:
                continue
            entry = page_entry(p)
            before = known.get(p["name"])
            if before is not None and same_listing(before, entry):
                carried.append(before)
                continue
            key = client.submissions_page(lake, day, cik, p["name"]).key
            fetched.append({**entry, "raw_key": key, "staged_on": day.isoformat()})
        out["submission_pages"] = [p["raw_key"] for p in fetched]
        out["pages"] = fetched + carried
        listed = [sec.filings_frame(body, out["submissions"], accepted=True)]
        listed += [
            sec.filings_frame(lake.read_bytes(p["raw_key"]), p["raw_key"], c, accepted=True)
            for p in fetched
        ]
        accepted = listed[0]["accepted_at"].dropna()
        out["latest_accepted_at"] = accepted.max().isoformat() if len(accepted) else None
        skip = companyfacts_skip(lake, day, c, settings.history_start, listed, carried)
        if skip is None:
            out["companyfacts"] = client.companyfacts(lake, day, cik).key
        else:
            log.info("CIK %s: companyfacts not fetched: %s", c, skip["reason"])
            out.update(companyfacts_skipped=skip["reason"], companyfacts_last=skip["raw_key"])
    except NoDataError as exc:
        # definitive (HTTP 404 from data.sec.gov): named in the coverage, not fatal
        log.warning("%s; CIK %s is reported missing, the run goes on", exc, cik)
        out.update(status="no_data", reason=str(exc), no_data_key=exc.raw_key)
    return out


def extract_unchanged(lake, client, day, c, start, entry, out) -> dict:
    """A company that filed nothing new since its filings were staged: no submissions request,
    and no companyfacts request unless the plan found that the share counts staged may not
    cover its filings (a quarantined batch, or a filing accepted too shortly before they were
    fetched: ``facts_settled``). Decided from the record alone: no lake read per company."""
    out.update(unchanged=entry)
    if entry["facts_key"] and facts_settled(entry):
        log.info("CIK %s: nothing fetched: %s", c, entry["reason"])
        out.update(
            companyfacts_skipped=f"no filing new since its share counts were staged "
            f"({entry['reason']})",
            companyfacts_last=entry["facts_key"],
        )
        return out
    try:
        out["companyfacts"] = client.companyfacts(lake, day, c).key
    except NoDataError as exc:
        log.warning("%s; CIK %s is reported missing, the run goes on", exc, c)
        out.update(status="no_data", reason=str(exc), no_data_key=exc.raw_key)
    return out


def facts_settled(entry: dict) -> bool:
    """Whether the companyfacts behind a company's staged share counts were fetched at least
    XBRL_SETTLE after the latest acceptance among its filings (read with the clock slack)."""
    import pandas as pd

    if not entry.get("facts_fetched_at"):
        return False
    if not entry.get("latest_accepted_at"):
        return True
    accepted = pd.Timestamp(entry["latest_accepted_at"]) + ACCEPTANCE_CLOCK_SLACK
    return accepted <= pd.Timestamp(entry["facts_fetched_at"]) - XBRL_SETTLE


# -- which companies filed: EDGAR's daily index ---------------------------------------------
# The record, one partition per run (stage_sec writes it for every company it staged filings
# of): through which EDGAR filing date every filing of the company is in the staged filings,
# and the submissions document they come from. Not a dbt source: it steers the next run.
KNOWN = "filings_known"
KNOWN_COLUMNS = [
    "cik", "known_through", "how", "submissions_key", "reason",
    # the companyfacts behind the staged share counts (empty when none are staged: a
    # quarantined batch), when they were fetched, and the latest acceptance among the filings
    "facts_key", "facts_fetched_at", "latest_accepted_at",
]  # fmt: skip
CARRIED = ("submissions_key", "facts_key", "facts_fetched_at", "latest_accepted_at")
# EDGAR files under New York business dates (a filing accepted after 5:30 p.m. ET takes the
# next business day's date; ownership forms after 10 p.m.)
NEW_YORK = "America/New_York"
# A run for logical date D starts after D ends (UTC): its submissions document holds every
# filing dated D-1 or earlier (EDGAR closes at 10 p.m. ET = 02:00/03:00 UTC on D), so those are
# known; filings dated D may still come (ownership forms until 10 p.m. ET) and are learned from
# D's index. Daily indexes appear from about 10 p.m. ET, so a run normally sees the indexes up
# to D-1: a company's filing of day D is picked up by the run of D+1.
# More than this behind (a weekend and two holidays: 4 days) means the indexes are not being
# published or not reached: every company's submissions are fetched, as without an index.
MAX_INDEX_LAG = dt.timedelta(days=5)


def _quarter(day: dt.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def known_record(lake: Lake, day: dt.date) -> dict[str, dict]:
    """The latest record written before ``day``, by CIK (empty on a first run or a backfill
    before every record)."""
    parts = [key for d, key in lake.staged_partitions(sec.SOURCE, KNOWN) if d < day]
    if not parts:
        return {}
    df = lake.read_parquet(parts[-1])
    return {
        r["cik"]: {
            "known_through": _text(r["known_through"]),
            **{k: _text(r[k]) if k in df.columns else None for k in CARRIED},
        }
        for _, r in df.iterrows()
    }


def index_coverage(
    lake: Lake, client: SecClient, day: dt.date, start: dt.date
) -> tuple[dt.date, list[dt.date]]:
    """``(through, published)``: the EDGAR daily indexes published for dates ``start``..``day``
    and the last date ``through`` up to which every date is covered — by its index, or as a
    date EDGAR takes no filings on (a weekend; a weekday without an index before a later
    published one: a holiday). Raises SourceError when a listing cannot be read."""
    published: set[dt.date] = set()
    y, q = _quarter(start)
    while (y, q) <= _quarter(day):
        try:
            key = client.daily_index_listing(lake, day, y, q).key
            published.update(sec.published_index_days(lake.read_bytes(key), key))
        except NoDataError as exc:
            # a quarter's directory appears with its first index: only the run's own quarter,
            # in its first days, may have none yet
            first = dt.date(y, 3 * q - 2, 1)
            if (y, q) != _quarter(day) or day - first > MAX_INDEX_LAG:
                raise SourceError(f"EDGAR daily-index listing missing: {exc}") from None
        y, q = (y, q + 1) if q < 4 else (y + 1, 1)
    days = sorted(d for d in published if start <= d <= day)
    through = max(days[-1] if days else start - dt.timedelta(days=1), start - dt.timedelta(days=1))
    while through < day and (through + dt.timedelta(days=1)).weekday() >= 5:
        through += dt.timedelta(days=1)
    return through, days


def plan_sec_fetches(logical_date, ciks: list[str], settings: Settings | None = None) -> dict:
    """Which companies' submissions to fetch today, by CIK: ``{fetch, reason, known_through,
    submissions_key}``. Fetched: a company nothing is recorded of before today (a first run, a
    backfill, a new member, one whose last fetch failed before any record), and one that EDGAR's
    daily indexes list a filing of that is not in its staged filings. Not fetched: every other
    company, its filings known through the newest index read. When the indexes cannot be read
    or lag more than MAX_INDEX_LAG, every company is fetched (what runs did before the index).
    Keyed on the record before the logical date and on landed indexes: a rerun plans the same.
    """
    import pandas as pd

    settings, lake = staging.context(settings)
    day = as_day(logical_date)
    record = known_record(lake, day)
    plan: dict[str, dict] = {}
    known: dict[str, dt.date] = {}
    for cik in sorted({cik10(c) for c in ciks}):
        r = record.get(cik)
        if r is None or not r["known_through"] or not r["submissions_key"]:
            plan[cik] = {"fetch": True, "reason": "no staged filing list of it before this run",
                         "known_through": None, "submissions_key": None}  # fmt: skip
        else:
            known[cik] = dt.date.fromisoformat(r["known_through"])
    if not known:
        return plan
    start = min(known.values()) + dt.timedelta(days=1)
    client = SecClient(settings)
    try:
        through, days = index_coverage(lake, client, day, start)
        frames = []
        for d in days:
            key = client.daily_index(lake, day, d).key
            frames.append(sec.daily_index_frame(lake.read_bytes(key), key).assign(index_date=d))
    except (SourceError, NoDataError) as exc:
        log.warning("EDGAR daily index unreadable (%s): every company's submissions fetched", exc)
        for cik, k in known.items():
            plan[cik] = {"fetch": True, "reason": f"EDGAR daily index unreadable: {exc}",
                         "known_through": k.isoformat(), "submissions_key": None}  # fmt: skip
        return plan
    listed = pd.concat(frames, ignore_index=True) if frames else None
    if listed is not None:
        listed = listed[listed["cik"].isin(list(known))]
    staged = staged_accessions(lake, day, list(known)) if listed is not None and len(listed) else {}
    for cik, k in known.items():
        entry = {"known_through": k.isoformat(), **{c: record[cik][c] for c in CARRIED}}
        # by the index a filing is listed in, not its Date Filed: one disseminated late (with an
        # earlier filing date) is still new
        new = (
            listed[(listed["cik"] == cik) & (listed["index_date"] > k)]
            if listed is not None
            else None
        )
        if new is not None:
            new = new[~new["accession"].isin(staged.get(cik, set()))]
        if new is not None and len(new):
            first = new.iloc[0]
            plan[cik] = {**entry, "fetch": True,
                         "reason": f"EDGAR daily index of {first['index_date']} lists "
                                   f"{first['accession']} ({first['form']})"
                                   + (f" and {len(new) - 1} more" if len(new) > 1 else "")}  # fmt: skip
            continue
        now_known = max(k, through)
        if day - now_known > MAX_INDEX_LAG:
            plan[cik] = {**entry, "fetch": True,
                         "reason": f"EDGAR daily indexes only through {through}"}  # fmt: skip
            continue
        plan[cik] = {**entry, "fetch": False, "known_through": now_known.isoformat(),
                     "reason": f"no new filing in EDGAR's daily indexes through {now_known}"}  # fmt: skip
    fetch = sorted(c for c, p in plan.items() if p["fetch"])
    log.info(
        "EDGAR daily indexes %s read (covered through %s): submissions of %d of %d companies "
        "fetched%s",
        [d.isoformat() for d in days] or "none new",
        through,
        len(fetch),
        len(plan),
        "".join(f"\n  {c}: {plan[c]['reason']}" for c in fetch),
    )
    return plan


def staged_accessions(lake: Lake, day: dt.date, ciks: list[str]) -> dict[str, set[str]]:
    """The accessions of each company in the latest filings staged before ``day``."""
    parts = [key for d, key in lake.staged_partitions(sec.SOURCE, "filings") if d < day]
    if not parts:
        return {}
    df = lake.read_parquet(parts[-1])
    df = df[df["cik"].isin(ciks)]
    return {c: set(g["accession"]) for c, g in df.groupby("cik")}


def latest_filings(lake: Lake, day: dt.date, ciks: list[str]):
    """The rows of ``ciks`` in the latest filings partition staged before ``day`` (a company
    whose submissions were not fetched today carries them into today's partition)."""
    import pandas as pd

    parts = [key for d, key in lake.staged_partitions(sec.SOURCE, "filings") if d < day]
    if not parts or not ciks:
        return pd.DataFrame(columns=sec.FILING_COLUMNS)
    df = lake.read_parquet(parts[-1])
    return df[df["cik"].isin(ciks)]


def known_through_fetched(lake: Lake, day: dt.date, submissions_key: str) -> dt.date:
    """Through which filing date a submissions document fetched by the run of ``day`` holds
    every filing: D-1, or the day before its New York fetch date if it was fetched earlier (a
    run started before its logical date ended)."""
    from zoneinfo import ZoneInfo

    import pandas as pd

    fetched = lake.raw_sidecar(submissions_key).get("fetched_at")
    through = day - dt.timedelta(days=1)
    if fetched:
        local = pd.Timestamp(fetched).tz_convert(ZoneInfo(NEW_YORK)).date()
        through = min(through, local - dt.timedelta(days=1))
    return through


# -- what earlier runs staged: the incremental decisions ------------------------------------
# The record of the older submissions pages staged so far, one partition per run (each run's
# carries the earlier ones forward): which page, as SEC listed it, in which raw object, staged
# on which logical date. Not a dbt source: it only steers what the next run fetches.
PAGES = "submission_pages"
PAGE_COLUMNS = ["cik", "page", "filing_from", "filing_to", "filing_count", "raw_key", "staged_on"]
# companyfacts fetched less than this after a filing's acceptance are not trusted to hold its
# facts (submissions and companyfacts are separate documents, built separately by SEC): the
# filing is checked again by the next run
XBRL_SETTLE = dt.timedelta(hours=6)
# acceptanceDateTime ends in "Z" but is often New York time (the MSTR reference's 8-Ks say
# 08:00:28Z, before EDGAR opens at 06:00 ET; theOGognf/finagg#64 found it for 181 of 808 S&P 500
# filers): read as UTC it can be up to 5 h early, so that much is added before comparing
ACCEPTANCE_CLOCK_SLACK = dt.timedelta(hours=5)


def _text(value) -> str | None:
    """A record value as text (None for a missing one; a date in ISO form)."""
    import pandas as pd

    if value is None or pd.isna(value):
        return None
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def page_entry(listing: dict) -> dict:
    """A ``filings.files`` entry as the record keeps it (strings: it travels through XCom)."""
    return {
        "page": listing["name"],
        "filing_from": _text(listing.get("filingFrom")),
        "filing_to": _text(listing.get("filingTo")),
        "filing_count": _text(listing.get("filingCount")),
    }


def same_listing(a: dict, b: dict) -> bool:
    return all(a[k] == b[k] for k in ("page", "filing_from", "filing_to", "filing_count"))


def staged_pages(lake: Lake, day: dt.date, cik: str) -> dict[str, dict]:
    """The older pages of ``cik`` that runs before ``day`` staged, by name (from the latest
    record before ``day``; empty on a first run or a backfill of an earlier date)."""
    parts = [key for d, key in lake.staged_partitions(sec.SOURCE, PAGES) if d < day]
    if not parts:
        return {}
    df = lake.read_parquet(parts[-1])
    df = df[df["cik"] == cik]
    return {
        r["page"]: {k: _text(r[k]) for k in PAGE_COLUMNS if k != "cik"} for _, r in df.iterrows()
    }


def companyfacts_key(lake: Lake, day: dt.date, cik: str, share_counts_key: str) -> str | None:
    """The raw companyfacts document the share counts staged on ``day`` came from."""
    counts = lake.read_parquet(share_counts_key)
    if len(counts):
        return str(counts["raw_key"].iloc[0])
    # no dei share count in it (an empty batch was staged): the landed document of that day
    found = []
    for key in lake.raw_keys(sec.SOURCE, "companyfacts", day):
        meta = lake.raw_sidecar(key)
        if meta.get("cik") == cik and meta.get("status") == 200:
            found.append((str(meta.get("fetched_at")), key))
    return max(found)[1] if found else None


def companyfacts_skip(
    lake: Lake, day: dt.date, cik: str, start: dt.date, listed: list, carried: list[dict]
) -> dict | None:
    """``{reason, raw_key}`` when the companyfacts behind the share counts staged before
    ``day`` cover every filing SEC lists today; None when companyfacts must be fetched.

    They cover them when (1) a run before ``day`` staged share counts of ``cik`` (the latest
    such logical date is D; a run whose fetch failed or whose batch was quarantined staged none,
    so it never counts), (2) every filing of the history window listed today (``listed``:
    filings.recent and the pages fetched today; ``carried``: the pages staged earlier, known
    as a whole when staged on or before D) is in the filings staged on or before D, and (3)
    none was accepted less than XBRL_SETTLE before D's companyfacts were fetched. Keyed on
    partitions before the logical date, never on now(): a rerun decides the same.
    """
    import pandas as pd

    staged = [
        (d, key)
        for d, key in lake.staged_partitions(sec.SOURCE, "share_counts")
        if d < day and f"/cik={cik}/" in key
    ]
    if not staged:
        return None
    last, counts_key = staged[-1]
    facts_key = companyfacts_key(lake, last, cik, counts_key)
    fetched_at = lake.raw_sidecar(facts_key).get("fetched_at") if facts_key else None
    if not fetched_at:
        return None
    frames = list(listed)
    for p in carried:
        if p["staged_on"] > last.isoformat():  # staged after D: its filings are checked too
            body = lake.read_bytes(p["raw_key"])
            frames.append(sec.filings_frame(body, p["raw_key"], cik, accepted=True))
    window = pd.concat(frames, ignore_index=True)
    dates = pd.to_datetime(window["filing_date"])
    window = window[dates.notna() & (dates >= pd.Timestamp(start))]
    accepted = window["accepted_at"].dropna() + ACCEPTANCE_CLOCK_SLACK
    if (accepted > pd.Timestamp(fetched_at) - XBRL_SETTLE).any():
        return None
    if not accessions_known(lake, cik, last, window):
        return None
    return {"reason": f"no filing new since {last.isoformat()}", "raw_key": facts_key}


def accessions_known(lake: Lake, cik: str, last: dt.date, window) -> bool:
    """Whether every accession of ``window`` is in the filings of ``cik`` staged on or before
    ``last``. Read newest first, stopping as soon as all are found; a filing dated after every
    filing listed on ``last`` is new without reading further (were it in an older partition, a
    run made after ``last``'s wrote it: fetching again is the safe side)."""
    import pandas as pd

    need = set(window["accession"].dropna())
    parts = [(d, key) for d, key in lake.staged_partitions(sec.SOURCE, "filings") if d <= last]
    for d, key in reversed(parts):
        df = lake.read_parquet(key)
        df = df[df["cik"] == cik]
        need -= set(df["accession"])
        if not need:
            return True
        if d == last:
            newest = pd.to_datetime(df["filing_date"]).max()
            missing = pd.to_datetime(window.loc[window["accession"].isin(need), "filing_date"])
            if pd.isna(newest) or (missing > newest).any():
                return False
    return False


def stage_sec(logical_date, batches: list[dict], settings: Settings | None = None) -> list[str]:
    """Share counts (GX-gated per company) of the companies whose companyfacts were fetched,
    the filing lists fetched today, and the record of the older pages staged so far."""
    import pandas as pd

    settings, lake = staging.context(settings)
    day = as_day(logical_date)
    items, filings, pages = [], [], []
    # a company whose companyfacts were not fetched (nothing new) is covered: "landed", citing
    # the document its staged share counts come from
    coverage = [
        {"member": sec.cik10(b["cik"]), "provider": "sec", "status": b.get("status", "landed"),
         "reason": b.get("reason"),
         "raw_key": b.get("no_data_key") or b.get("companyfacts") or b.get("companyfacts_last")}
        for b in batches
    ]  # fmt: skip
    staging.write_coverage(lake, sec.SOURCE, day, coverage)
    known, unchanged = [], []
    for b in batches:
        cik = sec.cik10(b["cik"])
        facts = b.get("companyfacts") or b.get("companyfacts_last")
        if b.get("unchanged") is not None and b.get("status", "landed") == "landed":
            u = b["unchanged"]
            unchanged.append(cik)
            known.append({**{k: u[k] for k in CARRIED}, "cik": cik, "how": "edgar_index",
                          "known_through": u["known_through"], "reason": u["reason"],
                          "facts_key": facts})  # fmt: skip
        elif b.get("submissions") is not None:
            filings.append(sec.filings_frame(lake.read_bytes(b["submissions"]), b["submissions"]))
            for key in b.get("submission_pages") or []:
                filings.append(sec.filings_frame(lake.read_bytes(key), key, cik))
            pages += [{"cik": cik, **p} for p in b.get("pages") or []]
            through = known_through_fetched(lake, day, b["submissions"])
            known.append({"cik": cik, "known_through": through.isoformat(), "how": "submissions",
                          "submissions_key": b["submissions"], "reason": "fetched",
                          "facts_key": facts, "latest_accepted_at": b.get("latest_accepted_at")})  # fmt: skip
        if b.get("companyfacts") is None:  # not fetched (nothing new), or no XBRL facts
            continue
        counts = sec.share_counts_frame(lake.read_bytes(b["companyfacts"]), b["companyfacts"])
        items.append((cik, share_check_frame(counts), [b["companyfacts"]]))
    if unchanged:
        # the day's partition lists every company's filings, as when all were fetched: those
        # that filed nothing new carry theirs forward (raw_key still names where each came from),
        # and their older pages stay in the record
        carried = latest_filings(lake, day, unchanged)
        missing = sorted(set(unchanged) - set(carried["cik"]))
        if missing:
            raise MinerwatchError(f"no staged filings to carry forward for CIK {missing}")
        filings.append(carried[sec.FILING_COLUMNS])
        pages += latest_pages(lake, day, unchanged)
    try:
        staged, failed = (
            staging.stage_each(
                lake, day, sec.SOURCE, "share_counts", "sec_share_counts", items,
                lambda cik: {"cik": cik},
            ),
            None,
        )  # fmt: skip
    except ValidationFailed as exc:
        staged, failed = [], exc
    if filings:
        # an accession listed on two pages (a page boundary moving between fetches) once
        frame = pd.concat(filings, ignore_index=True).drop_duplicates(["cik", "accession"])
        lake.write_staged(sec.SOURCE, "filings", day, frame.reset_index(drop=True))
        record = pd.DataFrame(pages, columns=PAGE_COLUMNS)
        for col in PAGE_COLUMNS:
            record[col] = record[col].astype("string")
        record["staged_on"] = pd.to_datetime(record["staged_on"]).dt.date
        lake.write_staged(sec.SOURCE, PAGES, day, record)
        write_known(lake, day, known, {cik for cik, _, _ in items})
    if failed is not None:
        raise failed
    return staged


def write_known(lake: Lake, day: dt.date, known: list[dict], fetched_facts: set[str]) -> None:
    """The record of what is known of each company after this run (see KNOWN): companyfacts
    fetched today count only once their share counts are staged (a quarantined batch leaves
    none, so the next run fetches them again)."""
    import pandas as pd

    for row in known:
        if row["cik"] in fetched_facts:
            key = lake.staged_key(sec.SOURCE, "share_counts", day, {"cik": row["cik"]})
            if not lake.exists(key):
                row.update(facts_key=None, facts_fetched_at=None)
                continue
        if row.get("facts_key") and (
            row["cik"] in fetched_facts or not row.get("facts_fetched_at")
        ):
            row["facts_fetched_at"] = lake.raw_sidecar(row["facts_key"]).get("fetched_at")
    record = pd.DataFrame(known, columns=KNOWN_COLUMNS)
    for col in KNOWN_COLUMNS:
        record[col] = record[col].astype("string")
    record["known_through"] = pd.to_datetime(record["known_through"]).dt.date
    lake.write_staged(sec.SOURCE, KNOWN, day, record)


def latest_pages(lake: Lake, day: dt.date, ciks: list[str]) -> list[dict]:
    """The rows of ``ciks`` in the latest record of older pages staged before ``day``."""
    parts = [key for d, key in lake.staged_partitions(sec.SOURCE, PAGES) if d < day]
    if not parts:
        return []
    df = lake.read_parquet(parts[-1])
    return [{k: _text(r[k]) for k in PAGE_COLUMNS} for _, r in df[df["cik"].isin(ciks)].iterrows()]


def share_check_frame(counts: pd.DataFrame) -> pd.DataFrame:
    """Share counts plus the lag the suite checks (filed − as-of, in days)."""
    import pandas as pd

    out = counts.copy()
    lag = pd.to_datetime(out["filed_date"]) - pd.to_datetime(out["as_of_date"])
    out["filing_lag_days"] = lag.dt.days.astype("float64")
    return out


# -- production updates (exhibit 99.x of 8-K / 6-K) -----------------------------------------
PRODUCTION_FORMS = {"8-K", "8-K/A", "6-K", "6-K/A"}


def production_context(logical_date, ciks: list[str], settings: Settings) -> dict:
    """What production discovery reads for a chunk of companies, read once for all of them:
    the day's staged filings and older-pages record, and the accessions processed by runs
    before the day (``processed_before``)."""
    lake = Lake(settings)
    day = as_day(logical_date)
    ciks = [cik10(c) for c in ciks]
    key = lake.staged_key(sec.SOURCE, "filings", day)
    if not lake.exists(key):
        raise MinerwatchError(f"no staged SEC filings for {day}: stage_sec must run first")
    filings = lake.read_parquet(key)
    record_key = lake.staged_key(sec.SOURCE, PAGES, day)
    pages = lake.read_parquet(record_key) if lake.exists(record_key) else None
    return {
        "filings": filings[filings["cik"].isin(ciks)],
        "pages": pages,
        "seen": processed_before(lake, day, ciks),
    }


def listed_filings(lake: Lake, day: dt.date, cik: str, context: dict | None = None):
    """Every filing of ``cik`` SEC listed on ``day``'s run: the filings staged that day plus
    those of the older pages staged by earlier runs and not fetched again (from their raw
    objects, as they were staged)."""
    import pandas as pd

    context = context or production_context(day, [cik], lake.settings)
    filings = context["filings"]
    filings = filings[filings["cik"] == cik]
    record = context["pages"]
    if record is None:  # staged before the record existed: the day's list is all
        return filings
    seen = set(filings["raw_key"])
    older = [
        sec.filings_frame(lake.read_bytes(k), k, cik)
        for k in record.loc[record["cik"] == cik, "raw_key"]
        if k not in seen
    ]
    if not older:
        return filings
    return pd.concat([filings, *older], ignore_index=True).drop_duplicates("accession")


# The accessions production discovery has processed, cumulative: one partition per run holds
# every company's processed accessions up to that day (each run carries the last one forward),
# so a run reads one small file instead of every company's documents of every earlier day. Not a
# dbt source: it steers the next run.
PROCESSED = "production_processed"


def processed_before(lake: Lake, day: dt.date, ciks: list[str]) -> dict[str, set[str]]:
    """The accessions of ``ciks`` processed by runs before ``day``: from the latest record, or,
    before any record was written, from the documents staged by each earlier run."""
    parts = [key for d, key in lake.staged_partitions(sec.SOURCE, PROCESSED) if d < day]
    if parts:
        df = lake.read_parquet(parts[-1])
    else:
        df = staging.staged_frames(lake, sec.SOURCE, "production_documents", day)
    out: dict[str, set[str]] = {c: set() for c in ciks}
    if not df.empty:
        df = df[df["cik"].isin(ciks)]
        for cik, group in df.groupby("cik"):
            out[str(cik)] = set(group["accession"].dropna())
    return out


def production_candidates(
    lake: Lake, day: dt.date, cik: str, start: dt.date, context: dict | None = None
) -> list[dict]:
    """8-K (items 7.01/8.01) and 6-K filings of ``cik`` filed start..day, minus the accessions
    processed by runs before ``day`` (so a rerun of a date repeats exactly its own work)."""
    context = context or production_context(day, [cik], lake.settings)
    filings = listed_filings(lake, day, cik, context)
    seen = context["seen"].get(cik, set())
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


def extract_production_updates(
    logical_date, cik: str, settings: Settings | None = None, context: dict | None = None
) -> dict:
    """Discover the exhibit 99.x documents of new 8-K/6-K filings and land them write-once
    (``context``: what ``production_context`` read for the chunk)."""
    settings, lake = staging.context(settings)
    day = as_day(logical_date)
    cik = cik10(cik)
    client = SecClient(settings)
    candidates = production_candidates(lake, day, cik, settings.history_start, context)
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
    # a company with no new filing to look at stages nothing: an empty partition per company and
    # day (two, with the documents) added nothing to what dbt reads, but ~300 files a day at 10x
    # for every later listing to walk — unless the lake has no production partition yet (the
    # dbt sources read a dataset that must exist)
    if lake.staged_partitions(sec.SOURCE, "production_updates"):
        batches = [b for b in batches if b["documents"]]
    items, processed = [], []
    for b in batches:
        figures, docs = production_frames(lake, b)
        lake.write_staged(sec.SOURCE, "production_documents", day, docs, {"cik": b["cik"]})
        processed.append(docs[["cik", "accession"]])
        keys = [d["raw_key"] for d in b["documents"] if d["raw_key"]]
        items.append((b["cik"], production_check_frame(figures, day), keys))
    write_processed(lake, day, processed)
    return staging.stage_each(
        lake, day, sec.SOURCE, "production_updates", "sec_production_updates", items,
        lambda cik: {"cik": cik},
    )  # fmt: skip


def write_processed(lake: Lake, day: dt.date, today: list) -> None:
    """The PROCESSED record of ``day``: the last record before it (every company's) plus the
    documents of today's batches."""
    import pandas as pd

    parts = [key for d, key in lake.staged_partitions(sec.SOURCE, PROCESSED) if d < day]
    if parts:
        before = lake.read_parquet(parts[-1])
    else:
        before = staging.staged_frames(lake, sec.SOURCE, "production_documents", day)
    frames = [f for f in [before, *today] if not f.empty]
    df = pd.concat([f[["cik", "accession"]] for f in frames], ignore_index=True) if frames else None
    if df is None:
        df = pd.DataFrame(
            {"cik": pd.Series(dtype="string"), "accession": pd.Series(dtype="string")}
        )
    df = df.dropna().astype("string").drop_duplicates().sort_values(["cik", "accession"])
    lake.write_staged(sec.SOURCE, PROCESSED, day, df.reset_index(drop=True))
