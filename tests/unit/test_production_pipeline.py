"""Discovery of production updates through filing indexes on the replay server, staging with the
GX gate, unparsed records, and reruns that skip what earlier runs processed."""

import datetime as dt
from pathlib import Path

import pytest

from minerwatch.errors import ValidationFailed
from minerwatch.lake import Lake
from minerwatch.pipeline import sec
from minerwatch.settings import load

DAY = dt.date(2024, 6, 30)
RIOT = "0001167419"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "production"


@pytest.fixture
def staged_filings(env, replay, monkeypatch):
    monkeypatch.setenv("MINERWATCH_SEC_USER_AGENT", "minerwatch tests tests@example.invalid")
    sec.stage_sec(DAY, [sec.extract_sec_company(DAY, RIOT)])
    return Lake(load())


def test_discovery_lands_indexes_and_exhibits_and_stages_cited_figures(staged_filings, replay):
    lake = staged_filings
    batch = sec.extract_production_updates(DAY, RIOT)
    docs = batch["documents"]
    assert batch["filings_checked"] == len(docs) >= 3
    assert all(
        d["url"].startswith("https://www.sec.gov/Archives/edgar/data/1167419/") for d in docs
    )
    assert sum("/Archives/" in r for r in replay.requests) == 2 * len(docs)  # index + exhibit
    staged = sec.stage_production_updates(DAY, [batch])
    figures = lake.read_parquet(staged[0])
    assert set(figures["metric"]) == {"hashrate_ehs", "btc_mined", "btc_held"}
    assert set(figures["hashrate_kind"].dropna()) == {"deployed", "average_operating"}
    assert figures["evidence"].str.contains("Hash Rate - Total").any()
    documents = lake.read_parquet(lake.list("staged/sec/production_documents")[0])
    assert set(documents["status"]) <= {"parsed", "unparsed"}
    assert (documents["reason"].notna() == (documents["status"] == "unparsed")).all()


def test_a_later_run_skips_filings_already_processed(staged_filings, replay):
    batch = sec.extract_production_updates(DAY, RIOT)
    sec.stage_production_updates(DAY, [batch])
    nxt = DAY + dt.timedelta(days=1)
    sec.stage_sec(nxt, [sec.extract_sec_company(nxt, RIOT)])
    replay.requests.clear()
    again = sec.extract_production_updates(nxt, RIOT)
    assert again["documents"] == [] and again["filings_checked"] == 0
    assert not any("/Archives/" in r for r in replay.requests)
    # a rerun of the first date repeats exactly its own work (same raw objects, no new ones)
    rerun = sec.extract_production_updates(DAY, RIOT)
    assert [d["raw_key"] for d in rerun["documents"]] == [d["raw_key"] for d in batch["documents"]]


def test_an_implausible_figure_is_quarantined(staged_filings):
    lake = staged_filings
    body = (FIXTURES / "riot_2024-06_table.htm").read_text().replace("22.0 EH/s", "2,200 EH/s")
    key = lake.put_raw("sec", "exhibits", DAY, body.encode(), {}).key
    batch = {"cik": RIOT, "documents": [{
        "accession": "0001167419-24-000093", "form": "8-K", "filed_date": "2024-07-03",
        "document": "riot-ex99_1.htm", "raw_key": key,
        "url": "https://www.sec.gov/Archives/edgar/data/1167419/000116741924000093/riot-ex99_1.htm",
    }]}  # fmt: skip
    with pytest.raises(ValidationFailed, match="hashrate_ehs_value"):
        sec.stage_production_updates(DAY, [batch])
    assert lake.list("quarantine/sec/production_updates")
