"""SEC: user agent, rate limit, real formats, multi-class sums, CIK check."""

import datetime as dt
import json
import logging
import multiprocessing
import time

import pytest

from minerwatch.errors import ConfigurationError, SourceError
from minerwatch.lake import Lake
from minerwatch.pipeline import sec as sec_tasks
from minerwatch.settings import load
from minerwatch.sources import sec

DAY = dt.date(2024, 6, 30)


@pytest.fixture
def ua(monkeypatch):
    monkeypatch.setenv("MINERWATCH_SEC_USER_AGENT", "minerwatch tests tests@example.invalid")


def test_no_user_agent_no_request(env, replay):
    with pytest.raises(ConfigurationError, match="MINERWATCH_SEC_USER_AGENT"):
        sec_tasks.extract_sec_company_tickers(DAY)
    assert not replay.requests


def test_user_agent_without_contact_is_refused_by_the_server(env, replay, monkeypatch):
    monkeypatch.setenv("MINERWATCH_SEC_USER_AGENT", "python-requests")
    with pytest.raises(SourceError, match="HTTP 403"):
        sec_tasks.extract_sec_company_tickers(DAY)


@pytest.mark.parametrize("scope, per_process_rps", [("machine", 10), ("slot", 10 / 2)])
def test_requests_stay_under_the_rate_limit(env, replay, ua, monkeypatch, scope, per_process_rps):
    monkeypatch.setenv("MINERWATCH_SEC_MAX_RPS", "10")
    monkeypatch.setenv("MINERWATCH_SEC_RATE_SCOPE", scope)
    for cik in ["0001507605", "0001167419", "0000827876", "0001839341", "0001819989"]:
        sec_tasks.extract_sec_company(DAY, cik)
    times = replay.sec_request_times
    assert len(times) == 10
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # machine: this process alone may use the whole budget; slot: 10 / SEC_POOL_SLOTS per
    # process, the pool bounding the processes
    assert min(gaps) >= 1 / per_process_rps * 0.9
    assert sec.SEC_POOL_SLOTS == 2


def _hammer(path: str, n: int, out) -> None:
    from minerwatch.http import SharedRateLimiter

    limiter = SharedRateLimiter(path, 0.1)
    for _ in range(n):
        # the grant, taken under the lock: a timestamp taken here after it would add this
        # process's scheduling delay (two workers on two cores: gaps of 0.099 s were seen)
        granted = limiter.wait()
        assert granted <= time.monotonic()
        out.put(granted)


def test_the_machine_limiter_is_shared_by_concurrent_processes(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_hammer, args=(str(tmp_path / "rate"), 6, out)) for _ in range(3)]
    for p in procs:
        p.start()
    times = sorted(out.get(timeout=30) for _ in range(18))
    for p in procs:
        p.join(timeout=30)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # three processes together still at most 10 requests per second
    assert min(gaps) >= 0.1 * 0.9, gaps
    assert (times[-1] - times[0]) >= 17 * 0.1 * 0.95


def test_real_companyfacts_share_counts(refdata):
    body = (
        refdata / "formats" / "sec_companyfacts_MARA_CIK0001507605_dei_excerpt.json"
    ).read_bytes()
    df = sec.share_counts_frame(body, "raw/k.json")
    row = df[df["accession"] == "0001493152-21-006139"].iloc[0]
    assert row["cik"] == "0001507605"
    assert row["as_of_date"] == dt.date(2021, 3, 16) and row["filed_date"] == dt.date(2021, 3, 16)
    assert row["shares_outstanding"] == 98804636 and row["form"] == "10-K"
    # the original and the 10-Q/A of 2012 Q1 are two filings with the same as-of date
    assert len(df[df["as_of_date"] == dt.date(2012, 5, 10)]) == 2
    assert (df["class_count"] == 1).all()


def test_multi_class_counts_are_summed_per_filing():
    doc = {"cik": 1899123, "facts": {"dei": {"EntityCommonStockSharesOutstanding": {"units": {"shares": [
        {"end": "2024-03-31", "val": 100, "accn": "0001213900-24-000001", "form": "20-F", "filed": "2024-04-10", "fy": 2023, "fp": "FY"},
        {"end": "2024-03-31", "val": 50, "accn": "0001213900-24-000001", "form": "20-F", "filed": "2024-04-10", "fy": 2023, "fp": "FY"},
    ]}}}}}  # fmt: skip
    df = sec.share_counts_frame(json.dumps(doc).encode(), "k")
    assert df["shares_outstanding"].tolist() == [150] and df["class_count"].tolist() == [2]


def test_real_submissions_filings(refdata):
    body = (refdata / "formats" / "sec_submissions_CIK0001050446_MSTR_excerpt.json").read_bytes()
    df = sec.filings_frame(body, "k")
    assert df["accession"].iloc[0] == "0001193125-26-016002"
    assert df["form"].tolist() == ["8-K", "144", "4", "8-K", "4"]
    assert df["items"].iloc[0] == "7.01,8.01"
    assert df["report_date"].iloc[1] is None or str(df["report_date"].iloc[1]) in ("NaT", "None")


def test_real_submissions_acceptance_times(refdata):
    """EDGAR's acceptance time is read (as written: "Z", though 08:00:28 is 03:00 in New York,
    before EDGAR opens — hence the decision's clock slack) to decide what to fetch; not staged."""
    import pandas as pd

    body = (refdata / "formats" / "sec_submissions_CIK0001050446_MSTR_excerpt.json").read_bytes()
    df = sec.filings_frame(body, "k", accepted=True)
    assert df["accepted_at"].iloc[0] == pd.Timestamp("2026-01-20T08:00:28Z")
    assert df["accepted_at"].notna().all()
    assert list(sec.filings_frame(body, "k").columns) == sec.FILING_COLUMNS


def test_cik_mismatch_is_loud_and_the_seed_value_stays(env, replay, ua, caplog):
    body = json.dumps({"0": {"cik_str": 999, "ticker": "MARA", "title": "x"},
                       "1": {"cik_str": 1167419, "ticker": "RIOT", "title": "Riot"}}).encode()  # fmt: skip
    lake = Lake(load())
    key = lake.put_raw("sec", "company_tickers", DAY, body, {}).key
    with caplog.at_level(logging.WARNING):
        checks = {c["ticker"]: c for c in sec_tasks.check_sec_ciks(DAY, key)}
    assert checks["MARA"]["status"] == "mismatch" and checks["MARA"]["seed_cik"] == "0001507605"
    assert checks["RIOT"]["status"] == "ok" and checks["CLSK"]["status"] == "not_listed"
    assert "0001507605" in caplog.text and "0000000999" in caplog.text


def test_sec_batch_with_an_implausible_count_is_quarantined(env, replay, ua):
    from minerwatch.errors import ValidationFailed

    good = sec_tasks.extract_sec_company(DAY, "0001507605")
    lake = Lake(load())
    doc = {"cik": 1167419, "facts": {"dei": {"EntityCommonStockSharesOutstanding": {"units": {"shares": [
        {"end": "2024-04-20", "val": 12, "accn": "0001167419-24-000001", "form": "10-Q", "filed": "2024-04-25"}]}}}}}  # fmt: skip
    bad = {"cik": "0001167419", "submissions": good["submissions"],
           "companyfacts": lake.put_raw("sec", "companyfacts", DAY, json.dumps(doc).encode(), {}).key}  # fmt: skip
    with pytest.raises(ValidationFailed, match="0001167419"):
        sec_tasks.stage_sec(DAY, [good, bad])
    assert any("cik=0001507605" in k for k in lake.list("staged/sec/share_counts"))
    assert lake.list("quarantine/sec/share_counts")


def test_real_submissions_list_their_older_pages(refdata):
    body = (refdata / "formats" / "sec_submissions_CIK0001050446_MSTR_excerpt.json").read_bytes()
    assert sec.older_pages(body, "k") == [
        {
            "name": "CIK0001050446-submissions-001.json",
            "filingFrom": "1998-04-10",
            "filingTo": "2015-05-11",
            "filingCount": 769,
        }
    ]


def test_older_filing_pages_are_fetched_when_they_reach_the_window(
    env, sample_recording, tmp_path, monkeypatch
):
    """A company with more filings than ``filings.recent`` holds: its older page (the same
    columns at the top level) is landed and its 8-K is a production-update candidate."""
    import shutil

    from minerwatch.demo.replay import ReplayServer

    rec = tmp_path / "rec"
    shutil.copytree(sample_recording, rec)
    cik = "0001507605"
    path = rec / "sec" / "submissions" / f"CIK{cik}.json"
    doc = json.loads(path.read_text())
    page = f"CIK{cik}-submissions-001.json"
    doc["filings"]["files"] = [
        {"name": page, "filingCount": 1, "filingFrom": "2020-02-01", "filingTo": "2020-03-31"},
        {"name": f"CIK{cik}-submissions-002.json", "filingCount": 9, "filingFrom": "2010-01-01",
         "filingTo": "2019-12-31"},  # before the history window: not fetched
    ]  # fmt: skip
    path.write_text(json.dumps(doc))
    older = {"accessionNumber": ["0001493152-20-004325"], "filingDate": ["2020-03-16"],
             "reportDate": ["2020-03-16"], "form": ["8-K"], "items": ["7.01"],
             "primaryDocument": ["form8-k.htm"]}  # fmt: skip
    (rec / "sec" / "submissions" / page).write_text(json.dumps(older))
    monkeypatch.setenv("MINERWATCH_SEC_USER_AGENT", "minerwatch tests tests@example.invalid")
    with ReplayServer(rec) as server:
        for k, v in server.env().items():
            monkeypatch.setenv(k, v)
        batch = sec_tasks.extract_sec_company(DAY, cik)
        assert len(batch["submission_pages"]) == 1
        assert not any("submissions-002" in r for r in server.requests)
        sec_tasks.stage_sec(DAY, [batch])
    lake = Lake(load())
    filings = lake.read_parquet(lake.staged_key(sec.SOURCE, "filings", DAY))
    assert "0001493152-20-004325" in set(filings["accession"])
    candidates = sec_tasks.production_candidates(lake, DAY, cik, dt.date(2020, 1, 1))
    assert "0001493152-20-004325" in {c["accession"] for c in candidates}
