"""SEC discovery through EDGAR's daily index (issue #15): a run fetches a company's submissions
only when a published daily index lists a filing of it not staged yet, or when nothing is known
of it; a filing is picked up by the run after its index is published, nothing is missed after a
failed run, and an unreadable or late index means every company is fetched, as before.

Real HTTP against the replay server, on Strategy's recorded submissions (CIK 0001050446, real
accessions and dates from ../shared/refdata/formats) with Marathon's recorded dei facts served as
its companyfacts. The daily indexes are built by the replay server from the submissions it serves,
in the layout SEC documents (https://www.sec.gov/os/accessing-edgar-data, "Using the EDGAR Index
Files"): no real index file is among the recorded sources, so their bytes are not SEC's."""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from minerwatch.demo.replay import Fault, ReplayServer
from minerwatch.lake import Lake
from minerwatch.pipeline import sec as sec_tasks
from minerwatch.settings import load
from minerwatch.sources import sec

CIK = "0001050446"
SUBMISSIONS = f"/submissions/CIK{CIK}.json"
COMPANYFACTS = f"/api/xbrl/companyfacts/CIK{CIK}.json"
LISTING = "/Archives/edgar/daily-index/2026/QTR1/index.json"
# Wed 2026-01-21 .. Tue 2026-01-27: days 4 and 5 are a weekend (the recorded submissions end
# with an 8-K of Tue 2026-01-20)
DAY = {n: dt.date(2026, 1, 20 + n) for n in range(1, 8)}
NEW = "0001050446-26-000011"  # a 10-K filed on day 2 (not in the recording: added by the test)


def master(day: dt.date) -> str:
    return f"/Archives/edgar/daily-index/2026/QTR1/master.{day:%Y%m%d}.idx"


def _with_new_filing(submissions: dict, filed: dt.date) -> dict:
    doc = copy.deepcopy(submissions)
    values = {"accessionNumber": NEW, "filingDate": filed.isoformat(), "reportDate": "2025-12-31",
              "acceptanceDateTime": f"{filed}T16:05:11.000Z", "act": "34", "form": "10-K",
              "core_type": "XBRL", "size": 1_000_000, "isXBRL": 1, "isInlineXBRL": 1,
              "primaryDocument": "mstr-20251231.htm", "primaryDocDescription": "10-K"}  # fmt: skip
    for column, items in doc["filings"]["recent"].items():
        items.insert(0, values.get(column, ""))
    return doc


def _with_new_fact(facts: dict, filed: dt.date) -> dict:
    doc = copy.deepcopy(facts)
    doc["facts"]["dei"]["EntityCommonStockSharesOutstanding"]["units"]["shares"].append(
        {"end": "2026-01-16", "val": 287_000_000, "accn": NEW, "fy": 2025, "fp": "FY",
         "form": "10-K", "filed": filed.isoformat()}
    )  # fmt: skip
    return doc


@dataclass
class Lab:
    server: ReplayServer
    folder: Path
    submissions: dict
    facts: dict

    def serve(self, submissions: dict, facts: dict) -> None:
        (self.folder / "submissions" / f"CIK{CIK}.json").write_text(json.dumps(submissions))
        (self.folder / "companyfacts" / f"CIK{CIK}.json").write_text(json.dumps(facts))

    def run(self, day: dt.date, published_through: dt.date | None) -> tuple[dict, dict, list]:
        """The day's plan, extract and stage_sec as the DAG chains them, with EDGAR's indexes
        published through ``published_through``; returns the plan entry, the batch and the SEC
        paths requested."""
        self.server.edgar_index_through = published_through
        seen = len(self.server.requests)
        plan = sec_tasks.plan_sec_fetches(day, [CIK])
        batch = sec_tasks.extract_sec_company(day, CIK, plan=plan)
        sec_tasks.stage_sec(day, [batch])
        return plan[CIK], batch, self.server.requests[seen:]


@pytest.fixture
def lab(env, refdata, tmp_path, monkeypatch) -> Lab:
    formats = refdata / "formats"
    submissions = json.loads(
        (formats / "sec_submissions_CIK0001050446_MSTR_excerpt.json").read_text()
    )
    submissions["filings"]["files"] = []  # the older pages are test_sec_incremental's subject
    facts = json.loads(
        (formats / "sec_companyfacts_MARA_CIK0001507605_dei_excerpt.json").read_text()
    )
    facts["cik"] = int(CIK)
    folder = tmp_path / "recording" / "sec"
    (folder / "submissions").mkdir(parents=True)
    (folder / "companyfacts").mkdir()
    monkeypatch.setenv("MINERWATCH_SEC_USER_AGENT", "minerwatch tests tests@example.invalid")
    monkeypatch.setenv("MINERWATCH_HISTORY_START", "2025-01-01")
    monkeypatch.setenv("MINERWATCH_HTTP_MAX_RETRIES", "0")
    with ReplayServer(folder.parent) as server:
        for k, v in server.env().items():
            monkeypatch.setenv(k, v)
        lab = Lab(server, folder, submissions, facts)
        lab.serve(submissions, facts)
        yield lab


def _staged(lake: Lake, dataset: str, day: dt.date) -> pd.DataFrame:
    return lake.read_parquet(lake.staged_key(sec.SOURCE, dataset, day))


def test_the_index_parser_reads_a_master_file_and_refuses_drift(lab):
    """The index the replay server serves for day 0 (2026-01-20) lists the recorded 8-K."""
    lab.server.edgar_index_through = DAY[1]
    lake = Lake(load())
    client = sec.SecClient(load())
    listing = client.daily_index_listing(lake, DAY[1], 2026, 1)
    days = sec.published_index_days(lake.read_bytes(listing.key), listing.key)
    assert days[0] == dt.date(2026, 1, 1) and days[-1] == DAY[1]
    assert dt.date(2026, 1, 17) not in days  # a Saturday: EDGAR takes no filings
    obj = client.daily_index(lake, DAY[1], dt.date(2026, 1, 20))
    frame = sec.daily_index_frame(lake.read_bytes(obj.key), obj.key)
    recorded = lab.submissions["filings"]["recent"]
    pairs = zip(recorded["accessionNumber"], recorded["filingDate"], strict=True)
    on_day = [a for a, d in pairs if d == "2026-01-20"]
    assert frame["accession"].tolist() == on_day and set(frame["cik"]) == {CIK}
    assert frame["date_filed"].tolist() == [dt.date(2026, 1, 20)] * len(on_day)
    with pytest.raises(sec.SourceError, match="not an EDGAR master index"):
        sec.daily_index_frame(b"<html>Access denied</html>", "k")
    body = lake.read_bytes(obj.key) + b"1050446|STRATEGY|8-K|20260120|edgar/data/x.txt\n"
    with pytest.raises(sec.SourceError, match="unexpected master index row"):
        sec.daily_index_frame(body, "k")
    with pytest.raises(sec.SourceError, match="directory.item"):
        sec.published_index_days(b'{"directory": {}}', "k")


def test_a_quiet_day_fetches_the_index_not_the_submissions(lab):
    lake = Lake(load())
    entry, first, asked = lab.run(DAY[1], published_through=DAY[1] - dt.timedelta(days=1))
    assert entry["fetch"] and "no staged filing list" in entry["reason"]
    assert asked == [SUBMISSIONS, COMPANYFACTS]  # nothing known: no index needed
    record = _staged(lake, sec_tasks.KNOWN, DAY[1])
    assert record["known_through"].tolist() == [DAY[1] - dt.timedelta(days=1)]

    # day 2, the evening: day 1's index is out (day 2's comes after 10 p.m. ET)
    entry, second, asked = lab.run(DAY[2], published_through=DAY[1])
    assert asked == [LISTING, master(DAY[1])]  # 2 small requests instead of the submissions
    assert not entry["fetch"] and entry["known_through"] == DAY[1].isoformat()
    assert second["submissions"] is None and second["companyfacts"] is None
    assert second["companyfacts_last"] == first["companyfacts"]
    # the day's filings partition lists the company's filings as if fetched (carried forward)
    cols = sec.FILING_COLUMNS
    pd.testing.assert_frame_equal(
        _staged(lake, "filings", DAY[2])[cols], _staged(lake, "filings", DAY[1])[cols]
    )
    coverage = _staged(lake, "coverage", DAY[2])
    assert coverage[["status", "raw_key"]].values.tolist() == [["landed", first["companyfacts"]]]
    # a rerun plans the same; the index already landed is the same object
    raw = lake.list("raw")
    again, _, asked = lab.run(DAY[2], published_through=DAY[1])
    assert again == entry and asked == [LISTING, master(DAY[1])] and lake.list("raw") == raw


def test_a_new_filing_is_picked_up_once_its_index_is_out_and_after_a_failed_run(lab):
    lake = Lake(load())
    lab.run(DAY[1], published_through=DAY[1] - dt.timedelta(days=1))
    # day 2: the company files a 10-K (its cover-page count in companyfacts)
    lab.serve(_with_new_filing(lab.submissions, DAY[2]), _with_new_fact(lab.facts, DAY[2]))
    entry, _, asked = lab.run(DAY[2], published_through=DAY[1])
    assert not entry["fetch"] and SUBMISSIONS not in asked  # its index is not out yet

    # day 3's run fails at the submissions fetch (Airflow then runs no stage_sec)
    lab.server.edgar_index_through = DAY[2]
    plan = sec_tasks.plan_sec_fetches(DAY[3], [CIK])
    assert plan[CIK]["fetch"] and NEW in plan[CIK]["reason"] and "10-K" in plan[CIK]["reason"]
    lab.server.set_fault(SUBMISSIONS, Fault(status=500))
    with pytest.raises(sec.SourceError, match="HTTP 500"):
        sec_tasks.extract_sec_company(DAY[3], CIK, plan=plan)

    # day 4: planned from day 2's record again: the 10-K is fetched, its share count staged
    entry, batch, asked = lab.run(DAY[4], published_through=DAY[3])
    assert entry["fetch"] and NEW in entry["reason"]
    assert asked == [LISTING, master(DAY[2]), master(DAY[3]), SUBMISSIONS, COMPANYFACTS]
    counts = lake.read_parquet(lake.staged_key(sec.SOURCE, "share_counts", DAY[4], {"cik": CIK}))
    assert counts.loc[counts["accession"] == NEW, "shares_outstanding"].tolist() == [287_000_000]
    assert NEW in set(_staged(lake, "filings", DAY[4])["accession"])

    # day 5, a Sunday: no index for Saturday (EDGAR takes no filings): the listing alone says so
    entry, _, asked = lab.run(DAY[5], published_through=DAY[4])
    assert not entry["fetch"] and asked == [LISTING]
    assert entry["known_through"] == DAY[5].isoformat()


def test_a_filing_disseminated_after_its_filing_date_is_still_picked_up(lab):
    """A daily index is of EDGAR's dissemination feed (its header says so): it lists a filing
    the day it is disseminated, with its Date Filed, which can be an earlier day (a filing date
    adjusted under 17 CFR 232.13(b); Forms 3/4/5 accepted 5:30-10 p.m. ET keep the day's date).
    A run comparing Date Filed with the day it has covered would miss such a filing for good."""
    lake = Lake(load())
    lab.run(DAY[1], published_through=DAY[1] - dt.timedelta(days=1))
    lab.serve(_with_new_filing(lab.submissions, DAY[2]), _with_new_fact(lab.facts, DAY[2]))
    lab.server.edgar_late = {NEW: DAY[3]}  # filed on day 2, listed in day 3's index
    entry, _, asked = lab.run(DAY[3], published_through=DAY[2])
    assert not entry["fetch"] and entry["known_through"] == DAY[2].isoformat()
    assert SUBMISSIONS not in asked  # day 2's index does not list it
    entry, batch, asked = lab.run(DAY[4], published_through=DAY[3])
    assert entry["fetch"] and f"index of {DAY[3]} lists {NEW} (10-K)" in entry["reason"]
    assert asked == [LISTING, master(DAY[3]), SUBMISSIONS, COMPANYFACTS]
    obj = sec.SecClient(load()).daily_index(lake, DAY[4], DAY[3])  # as landed by the run
    index = sec.daily_index_frame(lake.read_bytes(obj.key), obj.key)
    assert index.loc[index["accession"] == NEW, "date_filed"].tolist() == [DAY[2]]
    counts = lake.read_parquet(lake.staged_key(sec.SOURCE, "share_counts", DAY[4], {"cik": CIK}))
    assert counts.loc[counts["accession"] == NEW, "shares_outstanding"].tolist() == [287_000_000]


def test_a_weekend_and_a_holiday_are_covered_and_a_late_index_fetches_everyone(lab):
    lab.run(DAY[1], published_through=DAY[1] - dt.timedelta(days=1))  # Wed
    # Fri 01-23 is a holiday here (no index), Mon 01-26's index is out: covered through Mon
    lab.server.edgar_holidays = {DAY[3]}
    entry, _, asked = lab.run(DAY[6], published_through=DAY[6])
    assert not entry["fetch"] and entry["known_through"] == DAY[6].isoformat()
    assert asked == [LISTING, master(DAY[1]), master(DAY[2]), master(DAY[6])]

    # no index published after Mon: by the Wednesday after next, too late to trust
    late = DAY[6] + dt.timedelta(days=9)
    entry, batch, asked = lab.run(late, published_through=DAY[6])
    assert entry["fetch"] and "only through" in entry["reason"]
    assert SUBMISSIONS in asked and batch["submissions"]


def test_an_unreadable_index_means_every_company_is_fetched(lab):
    lab.run(DAY[1], published_through=DAY[1] - dt.timedelta(days=1))
    lab.server.edgar_index_through = DAY[1]
    lab.server.set_fault(LISTING, Fault(status=500))
    plan = sec_tasks.plan_sec_fetches(DAY[2], [CIK])
    assert plan[CIK]["fetch"] and "EDGAR daily index unreadable" in plan[CIK]["reason"]
    lab.server.set_fault(master(DAY[1]), Fault(status=200, body=b"<html>maintenance</html>"))
    plan = sec_tasks.plan_sec_fetches(DAY[2], [CIK])
    assert plan[CIK]["fetch"] and "not an EDGAR master index" in plan[CIK]["reason"]
    # a recording (or a mirror) without daily indexes: the quarter's listing 404s
    lab.server.edgar_index_through = None
    plan = sec_tasks.plan_sec_fetches(DAY[2], [CIK])
    assert plan[CIK]["fetch"] and "listing missing" in plan[CIK]["reason"]
