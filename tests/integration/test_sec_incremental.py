"""SEC incremental fetching (issue #15): submissions every run, companyfacts only when SEC lists
a filing the staged share counts may not include, older pages only when not staged before —
and nothing missed when a run fails. Real HTTP against the replay server; the documents are
SEC's recorded bytes (../shared/refdata/formats): Strategy's submissions (CIK 0001050446) with
Marathon's recorded dei facts served as its companyfacts (the format is what matters here), a
filing added to a copy for the next day."""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from minerwatch.demo.replay import Fault, ReplayServer
from minerwatch.errors import SourceError, ValidationFailed
from minerwatch.lake import Lake
from minerwatch.pipeline import sec as sec_tasks
from minerwatch.settings import load
from minerwatch.sources import sec

CIK = "0001050446"
PAGE = f"CIK{CIK}-submissions-001.json"
SUBMISSIONS = f"/submissions/CIK{CIK}.json"
PAGE_PATH = f"/submissions/{PAGE}"
COMPANYFACTS = f"/api/xbrl/companyfacts/CIK{CIK}.json"
DAY1, DAY2, DAY3 = dt.date(2026, 1, 21), dt.date(2026, 1, 22), dt.date(2026, 1, 23)
NEW = "0001050446-26-000011"  # the 10-K SEC lists from day 2 on
NEW_SHARES = 287_000_000
OLD_8K = "0001050446-15-000010"  # on the older page, in the history window


def _older_page() -> dict:
    """The older page the recorded ``filings.files`` names (1998-04-10..2015-05-11): its columns
    at the top level, as SEC serves them; one filing in the window (from 2015), one before."""
    return {
        "accessionNumber": [OLD_8K, "0001050446-14-000020"],
        "filingDate": ["2015-04-28", "2014-02-20"],
        "reportDate": ["2015-04-28", "2013-12-31"],
        "acceptanceDateTime": ["2015-04-28T16:05:00.000Z", "2014-02-20T17:10:00.000Z"],
        "form": ["8-K", "10-K"],
        "items": ["7.01,9.01", ""],
        "primaryDocument": ["d915240d8k.htm", "d640377d10k.htm"],
    }


def _with_new_filing(submissions: dict, accepted: str = "2026-01-21T21:05:11.000Z") -> dict:
    doc = copy.deepcopy(submissions)
    recent = doc["filings"]["recent"]
    values = {"accessionNumber": NEW, "filingDate": "2026-01-21", "reportDate": "2025-12-31",
              "acceptanceDateTime": accepted, "act": "34", "form": "10-K",
              "core_type": "XBRL", "size": 1_000_000, "isXBRL": 1, "isInlineXBRL": 1,
              "primaryDocument": "mstr-20251231.htm", "primaryDocDescription": "10-K"}  # fmt: skip
    for column, items in recent.items():
        items.insert(0, values.get(column, ""))
    return doc


def _with_new_fact(facts: dict, shares: int = NEW_SHARES) -> dict:
    doc = copy.deepcopy(facts)
    doc["facts"]["dei"]["EntityCommonStockSharesOutstanding"]["units"]["shares"].append(
        {
            "end": "2026-01-16",
            "val": shares,
            "accn": NEW,
            "fy": 2025,
            "fp": "FY",
            "form": "10-K",
            "filed": "2026-01-21",
        }  # fmt: skip
    )
    return doc


@dataclass
class Lab:
    server: ReplayServer
    folder: Path
    submissions: dict
    facts: dict

    def serve(self, submissions: dict, facts: dict) -> None:
        """What SEC answers from now on."""
        (self.folder / "submissions" / f"CIK{CIK}.json").write_text(json.dumps(submissions))
        (self.folder / "companyfacts" / f"CIK{CIK}.json").write_text(json.dumps(facts))

    def extract(self, day: dt.date) -> tuple[dict, list[str]]:
        """The day's extract and the SEC paths it requested."""
        seen = len(self.server.requests)
        batch = sec_tasks.extract_sec_company(day, CIK)
        return batch, self.server.requests[seen:]

    def run(self, day: dt.date) -> tuple[dict, list[str]]:
        batch, asked = self.extract(day)
        sec_tasks.stage_sec(day, [batch])
        return batch, asked


@pytest.fixture
def lab(env, refdata, tmp_path, monkeypatch) -> Lab:
    formats = refdata / "formats"
    submissions = json.loads(
        (formats / "sec_submissions_CIK0001050446_MSTR_excerpt.json").read_text()
    )
    facts = json.loads(
        (formats / "sec_companyfacts_MARA_CIK0001507605_dei_excerpt.json").read_text()
    )
    facts["cik"] = int(CIK)
    folder = tmp_path / "recording" / "sec"
    (folder / "submissions").mkdir(parents=True)
    (folder / "companyfacts").mkdir()
    (folder / "submissions" / PAGE).write_text(json.dumps(_older_page()))
    monkeypatch.setenv("MINERWATCH_SEC_USER_AGENT", "minerwatch tests tests@example.invalid")
    # the recorded older page ends 2015-05-11: a window from 2015 makes it one to fetch
    monkeypatch.setenv("MINERWATCH_HISTORY_START", "2015-01-01")
    monkeypatch.setenv("MINERWATCH_HTTP_MAX_RETRIES", "0")  # a 500 fails the fetch at once
    with ReplayServer(folder.parent) as server:
        for k, v in server.env().items():
            monkeypatch.setenv(k, v)
        lab = Lab(server, folder, submissions, facts)
        lab.serve(submissions, facts)
        yield lab


def _share_counts(lake: Lake, day: dt.date) -> pd.DataFrame | None:
    key = lake.staged_key(sec.SOURCE, "share_counts", day, {"cik": CIK})
    return lake.read_parquet(key) if lake.exists(key) else None


def _as_dbt_reads_them(lake: Lake) -> pd.DataFrame:
    """int_share_counts_unioned's view of the staged partitions: all of them, the latest staged
    revision of each filing and as-of date."""
    frames = []
    for day, key in lake.staged_partitions(sec.SOURCE, "share_counts"):
        frames.append(lake.read_parquet(key).assign(staged_for_date=day))
    df = pd.concat(frames, ignore_index=True).sort_values("staged_for_date")
    df = df.drop_duplicates(["cik", "accession", "as_of_date"], keep="last")
    return _figures(df)


def _figures(df: pd.DataFrame) -> pd.DataFrame:
    """What reaches the marts (the raw key and the staging date do not)."""
    cols = ["cik", "accession", "as_of_date", "filed_date", "shares_outstanding", "form"]
    return df[cols].sort_values(["accession", "as_of_date"]).reset_index(drop=True)


def test_a_day_without_a_new_filing_fetches_only_the_submissions(lab):
    lake = Lake(load())
    first, asked = lab.run(DAY1)  # first run: everything
    assert asked == [SUBMISSIONS, PAGE_PATH, COMPANYFACTS]
    assert first["companyfacts"] and _share_counts(lake, DAY1) is not None

    # day 2: SEC lists a new 10-K, and its cover-page count is in companyfacts
    lab.serve(_with_new_filing(lab.submissions), _with_new_fact(lab.facts))
    second, asked = lab.run(DAY2)
    assert asked == [SUBMISSIONS, COMPANYFACTS]  # the older page was staged on day 1
    staged = _share_counts(lake, DAY2)
    assert staged.loc[staged["accession"] == NEW, "shares_outstanding"].tolist() == [NEW_SHARES]

    # day 3: nothing new: one request
    third, asked = lab.run(DAY3)
    assert asked == [SUBMISSIONS]
    assert third["companyfacts"] is None
    assert third["companyfacts_skipped"] == f"no filing new since {DAY2}"
    assert third["submission_pages"] == [] and third["pages"][0]["staged_on"] == str(DAY1)
    assert _share_counts(lake, DAY3) is None  # no batch: the day-2 counts stay the latest
    coverage = lake.read_parquet(lake.staged_key(sec.SOURCE, "coverage", DAY3))
    assert coverage[["status", "raw_key"]].values.tolist() == [["landed", second["companyfacts"]]]
    filings = lake.read_parquet(lake.staged_key(sec.SOURCE, "filings", DAY3))
    assert set(filings["raw_key"]) == {third["submissions"]}  # only what was fetched today
    # production discovery still sees the older page's filings (from the page staged on day 1)
    candidates = sec_tasks.production_candidates(lake, DAY3, CIK, dt.date(2015, 1, 1))
    assert OLD_8K in {c["accession"] for c in candidates}

    # what dbt reads equals what daily fetches of the same documents gave: day 2's counts
    expected = sec.share_counts_frame(lake.read_bytes(second["companyfacts"]), "k")
    pd.testing.assert_frame_equal(_as_dbt_reads_them(lake), _figures(expected))

    # a rerun of day 3 decides the same, from the partitions of earlier days
    again, asked = lab.run(DAY3)
    assert asked == [SUBMISSIONS] and again == third


def test_a_failed_companyfacts_fetch_is_made_again_the_next_day(lab):
    lab.run(DAY1)
    lab.serve(_with_new_filing(lab.submissions), _with_new_fact(lab.facts))
    lab.server.set_fault(COMPANYFACTS, Fault(status=500))
    with pytest.raises(SourceError, match="HTTP 500"):
        lab.extract(DAY2)  # the task fails: Airflow does not run stage_sec that day
    assert lab.server.requests[-1] == COMPANYFACTS

    third, asked = lab.run(DAY3)
    assert asked == [SUBMISSIONS, COMPANYFACTS]
    staged = _share_counts(Lake(load()), DAY3)
    assert NEW in set(staged["accession"])


def test_a_quarantined_batch_is_fetched_again_the_next_day(lab):
    lake = Lake(load())
    lab.run(DAY1)
    lab.serve(_with_new_filing(lab.submissions), _with_new_fact(lab.facts, shares=12))
    with pytest.raises(ValidationFailed, match=CIK):
        lab.run(DAY2)
    assert lake.list("quarantine/sec/share_counts") and _share_counts(lake, DAY2) is None
    # day 2's filings were staged (the new 10-K among them): known, but never in staged counts
    filings = lake.read_parquet(lake.staged_key(sec.SOURCE, "filings", DAY2))
    assert NEW in set(filings["accession"])

    lab.serve(_with_new_filing(lab.submissions), _with_new_fact(lab.facts))  # SEC corrects it
    third, asked = lab.run(DAY3)
    assert asked == [SUBMISSIONS, COMPANYFACTS]
    staged = _share_counts(lake, DAY3)
    assert staged.loc[staged["accession"] == NEW, "shares_outstanding"].tolist() == [NEW_SHARES]


def test_a_first_run_and_a_backfill_of_an_earlier_date_fetch_everything(lab):
    lake = Lake(load())
    first, asked = lab.run(DAY3)
    assert asked == [SUBMISSIONS, PAGE_PATH, COMPANYFACTS]
    raw = lake.list("raw")
    again, asked = lab.run(DAY3)  # a rerun: the same decisions, the same objects
    assert asked == [SUBMISSIONS, PAGE_PATH, COMPANYFACTS] and again == first
    assert lake.list("raw") == raw
    backfill, asked = lab.run(DAY1)  # nothing staged before day 1
    assert asked == [SUBMISSIONS, PAGE_PATH, COMPANYFACTS]
    assert _share_counts(lake, DAY1) is not None


def test_a_filing_accepted_just_before_the_fetch_is_checked_again(lab):
    """companyfacts fetched within XBRL_SETTLE of a filing's acceptance may not hold its facts
    yet (a separate document): the next run fetches them again."""
    lab.run(DAY1)
    just_now = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    lab.serve(_with_new_filing(lab.submissions, accepted=just_now), lab.facts)
    _, asked = lab.run(DAY2)
    assert asked == [SUBMISSIONS, COMPANYFACTS]
    lab.serve(_with_new_filing(lab.submissions, accepted=just_now), _with_new_fact(lab.facts))
    _, asked = lab.run(DAY3)
    assert asked == [SUBMISSIONS, COMPANYFACTS]
    assert NEW in set(_share_counts(Lake(load()), DAY3)["accession"])


def test_an_older_page_listed_differently_is_fetched_again(lab):
    lab.run(DAY1)
    doc = copy.deepcopy(lab.submissions)
    doc["filings"]["files"][0]["filingCount"] += 1  # SEC rewrote the page
    lab.serve(doc, lab.facts)
    second, asked = lab.run(DAY2)
    assert asked == [SUBMISSIONS, PAGE_PATH]  # no new accession listed: companyfacts skipped
    assert second["pages"][0]["staged_on"] == str(DAY2)
    _, asked = lab.run(DAY3)
    assert asked == [SUBMISSIONS]
