"""Mining-pool shares from mempool.space: `/api/v1/mining/hashrate/pools/{period}` (weekly
shares) and `/api/v1/mining/pools/1m` (block counts), landed, gated, staged and modelled into
marts.fct_pool_share_monthly, over real HTTP through the replay server.

Recordings: there is no full real response of these endpoints in ../shared/refdata, only the
official doc samples (formats/*.example.txt), abbreviated by mempool's authors with '...' (not
valid JSON). The tests parse the VALID PARTS of those samples (the listed elements, read from
refdata at test time): the pools sample's 7 listed pool shares for the week ending 2022-04-18,
and the 1w sample's 3 listed pools. From them they WRITE SMALL VALID BODIES IN THE DOCUMENTED
SHAPE: weekly buckets restamped to the Mondays of April-June 2024 with the sample's pools and
shares (scaled a little per week), and a 1m body of the sample's 3 pools whose total is their
sum (the sample's own total, 1,005, counts pools cut by the '...': the gate rejects that)."""

import datetime as dt
import json
import logging
import re

import duckdb
import pandas as pd
import pytest

from minerwatch import publish, warehouse
from minerwatch.demo.replay import Fault, ReplayServer
from minerwatch.errors import ValidationFailed
from minerwatch.lake import Lake
from minerwatch.pipeline import network
from minerwatch.quality import validate_frame
from minerwatch.settings import load
from minerwatch.sources import pools

DAY = dt.date(2024, 5, 31)  # a month's last day: its run takes the month's block counts
ON_TIME = dt.datetime(2024, 6, 1, 0, 20, tzinfo=dt.UTC)  # when the source answers that run
SHARES_PATH = "/api/v1/mining/hashrate/pools/"
BLOCKS_PATH = "/api/v1/mining/pools/"
WEEK_ENDS = [dt.datetime(2024, 4, 29, tzinfo=dt.UTC) + dt.timedelta(weeks=i) for i in range(6)]


def _example(refdata, name: str) -> str:
    text = (refdata / "formats" / name).read_text()
    return "\n".join(ln for ln in text.splitlines() if not ln.startswith("#"))


@pytest.fixture(scope="module")
def sample_shares(refdata) -> list[dict]:
    """The valid part of the doc sample: the listed elements before its '...'."""
    text = _example(refdata, "mempool_v1_mining_hashrate_pools_1m.example.txt")
    return json.loads(re.sub(r",\s*\.\.\.\s*\]\s*$", "]", text))


@pytest.fixture(scope="module")
def sample_pools(refdata) -> dict:
    """The 1w doc sample with its '...' (the pools it cut) closed off: 3 pools, total 1,005."""
    text = _example(refdata, "mempool_v1_mining_pools_1w.example.txt")
    return json.loads(re.sub(r",\s*\.\.\.\s*\"blockCount\"", '], "blockCount"', text))


def _weeks(sample_shares) -> list[dict]:
    weeks = []
    for i, end in enumerate(WEEK_ENDS):
        for item in sample_shares:
            share = round(item["share"] * (1 - 0.02 * i), 6)
            weeks.append({**item, "timestamp": int(end.timestamp()), "share": share,
                          "avgHashrate": item["avgHashrate"] * (1 - 0.02 * i)})  # fmt: skip
    return weeks


def _month_body(sample_pools) -> dict:
    listed = sample_pools["pools"]
    return {**sample_pools, "blockCount": sum(p["blockCount"] for p in listed)}


@pytest.fixture
def recording(tmp_path, sample_shares, sample_pools):
    rec = tmp_path / "recording"
    (rec / "mempool").mkdir(parents=True)
    (rec / "mempool" / "hashrate-pools-all.json").write_text(json.dumps(_weeks(sample_shares)))
    (rec / "mempool" / "pools-1m.json").write_text(json.dumps(_month_body(sample_pools)))
    return rec


def _serve(rec, monkeypatch, when=ON_TIME):
    server = ReplayServer(rec, clock=lambda: when.timestamp())
    for k, v in server.env().items():
        monkeypatch.setenv(k, v)
    return server


# -- the doc samples' valid parts, and the pure rules ---------------------------------------
def test_the_doc_samples_valid_parts_pass_the_gates(sample_shares, sample_pools):
    body = json.dumps(sample_shares).encode()
    end = dt.datetime(2022, 4, 18, tzinfo=dt.UTC)  # the sample's week: Monday 00:00 UTC
    frame = pools.shares_frame([("k", body)], None, end)
    assert len(frame) == 7 and set(frame["week_end_at"]) == {end}
    outcome = validate_frame(network.pool_shares_check_frame(frame), "mempool_pool_shares_weekly")
    assert outcome.success, outcome.summary()
    # the derived slugs are the source's own for the pools both samples name
    derived = dict(zip(frame["pool_name"], frame["pool_slug"], strict=True))
    for p in sample_pools["pools"]:
        assert derived[p["name"]] == p["slug"]
    assert derived["Binance Pool"] == "binancepool"

    blocks = pools.blocks_frame(json.dumps(_month_body(sample_pools)).encode(), "k", ON_TIME)
    outcome = validate_frame(network.pool_blocks_check_frame(blocks), "mempool_pool_blocks")
    assert outcome.success, outcome.summary()


def test_the_abbreviated_sample_total_is_caught_by_the_gate(sample_pools):
    # as published: 3 pools listed (486 blocks), total 1,005 — a body cut short
    blocks = pools.blocks_frame(json.dumps(sample_pools).encode(), "k", ON_TIME)
    outcome = validate_frame(network.pool_blocks_check_frame(blocks), "mempool_pool_blocks")
    assert not outcome.success and "block_total_error" in outcome.summary()


def test_a_1m_window_is_a_calendar_month_only_right_after_the_month_ended():
    assert pools.calendar_month(ON_TIME) == dt.date(2024, 5, 1)
    assert pools.calendar_month(dt.datetime(2024, 6, 1, 2, 59, tzinfo=dt.UTC)) == dt.date(
        2024, 5, 1
    )
    assert pools.calendar_month(dt.datetime(2024, 6, 1, 3, 1, tzinfo=dt.UTC)) is None
    assert pools.calendar_month(dt.datetime(2024, 5, 31, 23, 59, tzinfo=dt.UTC)) is None
    assert pools.calendar_month(dt.datetime(2024, 1, 1, 0, 5, tzinfo=dt.UTC)) == dt.date(
        2023, 12, 1
    )
    # MySQL's DATE_SUB(…, INTERVAL 1 MONTH) keeps the time and clamps the day
    assert pools.minus_one_month(ON_TIME) == dt.datetime(2024, 5, 1, 0, 20, tzinfo=dt.UTC)
    assert pools.minus_one_month(dt.datetime(2024, 3, 31, tzinfo=dt.UTC)).day == 29
    assert pools.slug_of("Foundry USA") == "foundryusa" and pools.slug_of("BTC.com") == "btccom"


# -- through the replay server --------------------------------------------------------------
@pytest.mark.slow
def test_the_month_end_run_lands_both_and_builds_the_mart(
    env, recording, sample_shares, sample_pools, monkeypatch
):
    with _serve(recording, monkeypatch) as server:
        batch = network.extract_mempool_pools(DAY, today=DAY + dt.timedelta(days=1))
        assert server.requests == [SHARES_PATH + "all", BLOCKS_PATH + "1m"]
    lake = Lake(load())
    side = lake.raw_sidecar(batch["blocks"]["keys"][0])
    assert side["date"] == "Sat, 01 Jun 2024 00:20:00 GMT"  # the source's clock: the window end
    staged = network.stage_mempool_pools(DAY, batch)
    assert len(staged) == 2
    shares = lake.read_parquet(lake.staged_key("mempool", "pool_shares_weekly", DAY))
    # no look-ahead: the week ending Monday 2024-06-03 has not ended on the logical date
    assert sorted(set(shares["week_end_at"])) == WEEK_ENDS[:5]
    blocks = lake.read_parquet(lake.staged_key("mempool", "pool_blocks", DAY))
    assert set(blocks["month_start"]) == {dt.datetime(2024, 5, 1)}

    warehouse.build(select="+fct_pool_share_monthly")
    con = duckdb.connect(str(load().warehouse), read_only=True)
    try:
        mart = con.execute("select * from marts.fct_pool_share_monthly order by all").df()
    finally:
        con.close()
    mart["month_start"] = pd.to_datetime(mart["month_start"]).dt.date
    may = mart[mart["month_start"] == dt.date(2024, 5, 1)].set_index("pool_slug")
    total = sum(p["blockCount"] for p in sample_pools["pools"])
    assert sorted(may.index) == sorted(p["slug"] for p in sample_pools["pools"])
    for p in sample_pools["pools"]:
        row = may.loc[p["slug"]]
        assert row["block_count"] == p["blockCount"]
        assert row["block_share"] == pytest.approx(p["blockCount"] / total, rel=1e-12)
        assert row["source"] == "mempool:pools/1m (block counts)" and row["days_covered"] == 31
        assert str(row["window_start_at"]) == "2024-05-01 00:20:00"
        assert str(row["window_end_at"]) == "2024-06-01 00:20:00"
        assert row["raw_key"] == batch["blocks"]["keys"][0]

    # April has no block counts: the weekly shares, each week standing for its 7 days, averaged
    # over the days the weeks cover (2024-04-22..30: the weeks ending 04-29 and 05-06)
    april = mart[mart["month_start"] == dt.date(2024, 4, 1)].set_index("pool_slug")
    days = [dt.date(2024, 4, 22) + dt.timedelta(d) for d in range(9)]
    for item in sample_shares:
        slug = pools.slug_of(item["poolName"])
        week = [0 if d < dt.date(2024, 4, 29) else 1 for d in days]  # which week covers each day
        expected = sum(round(item["share"] * (1 - 0.02 * w), 6) for w in week) / len(days)
        assert april.loc[slug, "block_share"] == pytest.approx(expected, rel=1e-12), slug
        assert april.loc[slug, "days_covered"] == 9
        assert pd.isna(april.loc[slug, "block_count"])  # null: the source gives shares only
    # the mart passes its audit suite
    frame = publish.audit_frame("fct_pool_share_monthly", mart, DAY)
    outcome = validate_frame(frame, "mart_fct_pool_share_monthly")
    assert outcome.success, outcome.summary()


def test_the_next_run_asks_a_short_period_and_days_not_at_month_end_no_block_counts(
    env, recording, monkeypatch
):
    with _serve(recording, monkeypatch) as server:
        network.stage_mempool_pools(DAY, network.extract_mempool_pools(DAY, today=DAY))
        server.requests.clear()
        nxt = DAY + dt.timedelta(days=1)
        batch = network.extract_mempool_pools(nxt, today=nxt + dt.timedelta(days=1))
        assert server.requests == [SHARES_PATH + "1m"]  # not a month's last day: no counts
    assert batch["blocks"] is None
    assert batch["shares"]["first_week_end"] == "2024-05-13T00:00:00+00:00"  # 2 weeks' overlap
    lake = Lake(load())
    network.stage_mempool_pools(nxt, batch)
    part = lake.read_parquet(lake.staged_key("mempool", "pool_shares_weekly", nxt))
    assert sorted(set(part["week_end_at"])) == WEEK_ENDS[2:5]


def test_a_late_run_is_staged_but_stands_for_no_month(env, recording, monkeypatch, caplog):
    late = ON_TIME + dt.timedelta(days=2)
    with _serve(recording, monkeypatch, when=late):
        batch = network.extract_mempool_pools(DAY, today=late.date())
        with caplog.at_level(logging.WARNING, logger="minerwatch.pipeline"):
            network.stage_mempool_pools(DAY, batch)
    assert "is not a calendar month (the run was late)" in caplog.text
    lake = Lake(load())
    blocks = lake.read_parquet(lake.staged_key("mempool", "pool_blocks", DAY))
    assert blocks["month_start"].isna().all()
    assert str(blocks["window_start_at"].iloc[0]) == "2024-05-03 00:20:00+00:00"


def test_a_bad_share_batch_is_quarantined_and_the_block_counts_still_staged(
    env, recording, sample_shares, monkeypatch
):
    bad = _weeks(sample_shares)
    bad[3]["share"] = 1.5
    with _serve(recording, monkeypatch) as server:
        server.set_fault(SHARES_PATH + "all", Fault(status=200, body=json.dumps(bad).encode()))
        batch = network.extract_mempool_pools(DAY, today=DAY)
        with pytest.raises(ValidationFailed, match="share") as err:
            network.stage_mempool_pools(DAY, batch)
    assert "1 mempool pool batch(es) failed validation (1 staged)" in str(err.value)
    lake = Lake(load())
    assert lake.list(f"quarantine/mempool/pool_shares_weekly/logical_date={DAY}")
    assert lake.exists(lake.staged_key("mempool", "pool_blocks", DAY))
    assert not lake.exists(lake.staged_key("mempool", "pool_shares_weekly", DAY))


def test_without_the_mining_api_the_run_goes_on(env, tmp_path, monkeypatch, caplog):
    rec = tmp_path / "no-pools"
    rec.mkdir()
    with _serve(rec, monkeypatch) as server:
        with caplog.at_level(logging.WARNING):
            batch = network.extract_mempool_pools(DAY, today=DAY)
            assert network.stage_mempool_pools(DAY, batch) == []
        assert len(server.requests) == 2  # a 404 is definitive: not retried
    assert batch["shares"]["status"] == batch["blocks"]["status"] == "no_data"
    assert "does not serve the mining pools API" in caplog.text
    lake = Lake(load())
    assert all(lake.raw_sidecar(k)["status"] == 404 for k in batch["shares"]["keys"])
    assert not lake.list("staged")
