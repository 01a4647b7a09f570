"""SEC: user agent, rate limit, real formats, multi-class sums, CIK check."""

import datetime as dt
import json
import logging

import pytest

from minerwatch import pipeline
from minerwatch.errors import ConfigurationError, SourceError
from minerwatch.lake import Lake
from minerwatch.settings import load
from minerwatch.sources import sec

DAY = dt.date(2024, 6, 30)


@pytest.fixture
def ua(monkeypatch):
    monkeypatch.setenv("MINERWATCH_SEC_USER_AGENT", "minerwatch tests tests@example.invalid")


def test_no_user_agent_no_request(env, replay):
    with pytest.raises(ConfigurationError, match="MINERWATCH_SEC_USER_AGENT"):
        pipeline.extract_sec_company_tickers(DAY)
    assert not replay.requests


def test_user_agent_without_contact_is_refused_by_the_server(env, replay, monkeypatch):
    monkeypatch.setenv("MINERWATCH_SEC_USER_AGENT", "python-requests")
    with pytest.raises(SourceError, match="HTTP 403"):
        pipeline.extract_sec_company_tickers(DAY)


def test_requests_stay_under_the_rate_limit(env, replay, ua, monkeypatch):
    monkeypatch.setenv("MINERWATCH_SEC_MAX_RPS", "10")
    for cik in ["0001507605", "0001167419", "0000827876", "0001839341", "0001819989"]:
        pipeline.extract_sec_company(DAY, cik)
    times = replay.sec_request_times
    assert len(times) == 10
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # one process may use 10 / SEC_POOL_SLOTS requests/s; the pool bounds the processes
    assert min(gaps) >= sec.SEC_POOL_SLOTS / 10 * 0.9


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


def test_cik_mismatch_is_loud_and_the_seed_value_stays(env, replay, ua, caplog):
    body = json.dumps({"0": {"cik_str": 999, "ticker": "MARA", "title": "x"},
                       "1": {"cik_str": 1167419, "ticker": "RIOT", "title": "Riot"}}).encode()  # fmt: skip
    lake = Lake(load())
    key = lake.put_raw("sec", "company_tickers", DAY, body, {}).key
    with caplog.at_level(logging.WARNING):
        checks = {c["ticker"]: c for c in pipeline.check_sec_ciks(DAY, key)}
    assert checks["MARA"]["status"] == "mismatch" and checks["MARA"]["seed_cik"] == "0001507605"
    assert checks["RIOT"]["status"] == "ok" and checks["CLSK"]["status"] == "not_listed"
    assert "0001507605" in caplog.text and "0000000999" in caplog.text


def test_sec_batch_with_an_implausible_count_is_quarantined(env, replay, ua):
    from minerwatch.errors import ValidationFailed

    good = pipeline.extract_sec_company(DAY, "0001507605")
    lake = Lake(load())
    doc = {"cik": 1167419, "facts": {"dei": {"EntityCommonStockSharesOutstanding": {"units": {"shares": [
        {"end": "2024-04-20", "val": 12, "accn": "0001167419-24-000001", "form": "10-Q", "filed": "2024-04-25"}]}}}}}  # fmt: skip
    bad = {"cik": "0001167419", "submissions": good["submissions"],
           "companyfacts": lake.put_raw("sec", "companyfacts", DAY, json.dumps(doc).encode(), {}).key}  # fmt: skip
    with pytest.raises(ValidationFailed, match="0001167419"):
        pipeline.stage_sec(DAY, [good, bad])
    assert any("cik=0001507605" in k for k in lake.list("staged/sec/share_counts"))
    assert lake.list("quarantine/sec/share_counts")
