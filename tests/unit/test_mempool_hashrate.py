"""mempool.space's daily hash rate, the second network source, on the real saved `all`
response (../shared/refdata, read here, never copied into the repo): which UTC day a bucket
covers (checked against Coin Metrics' HashRate), the gate on the real history and on bad input,
and the extract → stage path over real HTTP through the replay server, period by period."""

import csv
import datetime as dt
import json
import logging
import shutil
import statistics

import pytest

from minerwatch.demo.replay import Fault, ReplayServer
from minerwatch.errors import SourceError, ValidationFailed
from minerwatch.lake import Lake
from minerwatch.pipeline import network
from minerwatch.quality import validate_frame
from minerwatch.settings import load
from minerwatch.sources import mempool

MEMPOOL_JSON = "mempool_hashrate_all_2009-01-03_2024-05-31.json"
GENESIS_CSV = "coinmetrics_btc_2009-01-03_2024-05-31.csv"
DAY = dt.date(2024, 5, 31)
PATH = "/api/v1/mining/hashrate/"


@pytest.fixture(scope="module")
def real_body(refdata):
    return (refdata / MEMPOOL_JSON).read_bytes()


@pytest.fixture(scope="module")
def cm_hashrate(refdata):
    with open(refdata / GENESIS_CSV, newline="") as fh:
        return {
            dt.date.fromisoformat(r["time"]): (
                float(r["HashRate"]) / 1e6 if r["HashRate"] else None
            )
            for r in csv.DictReader(fh)
        }


@pytest.fixture
def server(refdata, tmp_path, monkeypatch):
    """The real response as the recording's hashrate-all.json (a copy in tmp_path)."""
    rec = tmp_path / "recording"
    (rec / "mempool").mkdir(parents=True)
    shutil.copyfile(refdata / MEMPOOL_JSON, rec / "mempool" / "hashrate-all.json")
    with ReplayServer(rec) as srv:
        for k, v in srv.env().items():
            monkeypatch.setenv(k, v)
        yield srv


def _relative_errors(real_body, cm_hashrate, shift_days):
    errors = []
    for item in json.loads(real_body)["hashrates"][1:]:  # the first is genesis' own entry
        stamp = dt.datetime.fromtimestamp(item["timestamp"], tz=dt.UTC).date()
        day = stamp + dt.timedelta(days=shift_days)
        cm = cm_hashrate.get(day)
        if day >= dt.date(2011, 1, 1) and cm:
            errors.append(abs(item["avgHashrate"] / 1e18 / cm - 1))
    return errors


def test_a_bucket_covers_the_day_before_its_stamp(real_body, cm_hashrate):
    # the alignment with the smaller error against Coin Metrics is the right one
    end = _relative_errors(real_body, cm_hashrate, -1)  # stamp = end of the 24 h window
    start = _relative_errors(real_body, cm_hashrate, 0)  # stamp = start of the window
    assert min(len(end), len(start)) > 4800  # every day from 2011 with both sources
    assert statistics.median(end) < 0.005 < 0.05 < statistics.median(start)
    assert statistics.fmean(end) < statistics.fmean(start) / 10
    # the six zero buckets are Coin Metrics' six days without blocks, 2009-01-03..08
    frame = mempool.hashrate_frame([("k", real_body)], dt.date(2009, 1, 3), DAY)
    zeros = list(frame.loc[frame["avg_hashrate_hs"] == 0, "date_day"])
    assert zeros == [dt.date(2009, 1, 3) + dt.timedelta(d) for d in range(6)]
    assert [d for d, v in cm_hashrate.items() if v is None] == zeros
    # and both sources have their record on the same day
    record = frame.loc[frame["avg_hashrate_hs"].idxmax(), "date_day"]
    assert record == max((v or 0, d) for d, v in cm_hashrate.items())[1] == dt.date(2024, 4, 23)


def test_the_real_history_maps_to_days_and_passes_the_gate(real_body):
    frame = mempool.hashrate_frame([("k", real_body)], dt.date(2009, 1, 3), DAY)
    # 5,628 entries: genesis' own (2009-01-03T18:15:05Z, not a daily window) is left out, and the
    # newest bucket, stamped 2024-05-31T00:00Z, covers 2024-05-30
    assert len(frame) == 5627
    assert frame["date_day"].iloc[0] == dt.date(2009, 1, 3)
    assert frame["date_day"].iloc[-1] == dt.date(2024, 5, 30)
    assert str(frame["bucket_end_at"].iloc[0]) == "2009-01-04 00:00:00+00:00"
    raw = json.loads(real_body)["hashrates"]
    assert frame["avg_hashrate_hs"].iloc[-1] == float(raw[-1]["avgHashrate"])
    outcome = validate_frame(network.mempool_hashrate_check_frame(frame), "mempool_hashrate_daily")
    assert outcome.success, outcome.summary()


@pytest.mark.parametrize(
    ("mutate", "failing"),
    [
        (lambda rows: rows[100].update(avgHashrate=-1.0), "hashrate_ehs"),
        (lambda rows: rows[100].update(avgHashrate=2e22), "hashrate_ehs"),  # TH/s read as H/s
        (lambda rows: rows[-3].update(avgHashrate=0), "hashrate_ehs"),  # a mined day at 0
        (lambda rows: rows.pop(50), "gap_days"),
        (lambda rows: rows[60].update(timestamp=rows[60]["timestamp"] + 3600), "seconds_after"),
    ],
    ids=["negative", "unit-slip", "zero-after-block-one", "missing-day", "stamp-not-midnight"],
)
def test_bad_values_inside_the_real_history_fail_the_gate(real_body, mutate, failing):
    doc = json.loads(real_body)
    mutate(doc["hashrates"])
    frame = mempool.hashrate_frame([("k", json.dumps(doc).encode())], dt.date(2009, 1, 3), DAY)
    outcome = validate_frame(network.mempool_hashrate_check_frame(frame), "mempool_hashrate_daily")
    assert not outcome.success
    assert failing in outcome.summary()


def test_period_is_all_on_an_empty_lake_then_the_smallest_that_reaches_back():
    today = dt.date(2024, 6, 2)
    assert mempool.period_for(None, today) == "all"
    assert mempool.period_for(dt.date(2024, 5, 24), today) == "1m"  # the overlap window
    assert mempool.period_for(dt.date(2024, 5, 6), today) == "1m"  # 27 days: a month reaches
    assert mempool.period_for(dt.date(2024, 5, 4), today) == "3m"
    assert mempool.period_for(dt.date(2023, 6, 2), today) == "2y"
    assert mempool.period_for(dt.date(2020, 1, 1), today) == "all"


def test_extract_and_stage_through_the_replay_server(env, server):
    batch = network.extract_mempool_hashrate(DAY, today=DAY + dt.timedelta(days=1))
    assert batch["status"] == "landed"
    assert server.requests == [PATH + "all"]  # an empty lake takes the whole history
    lake = Lake(load())
    key = batch["keys"][0]
    assert key.startswith(f"raw/mempool/hashrate_daily/ingest_date={DAY}/")
    side = lake.raw_sidecar(key)
    assert side["status"] == 200 and side["params"] == {"period": "all"}
    assert side["url"] == server.mempool_url + "/v1/mining/hashrate/all"
    assert (
        lake.read_bytes(key)
        == (server.recording.directory / "mempool" / "hashrate-all.json").read_bytes()
    )
    staged = lake.read_parquet(network.stage_mempool_hashrate(DAY, batch))
    assert len(staged) == 5627 and staged["date_day"].max() == dt.date(2024, 5, 30)

    # the same date again: the same bytes, no new raw object, the same partition
    again = network.extract_mempool_hashrate(DAY, today=DAY + dt.timedelta(days=1))
    assert again["keys"] == batch["keys"]
    assert lake.read_parquet(network.stage_mempool_hashrate(DAY, again)).equals(staged)

    # the next day: an overlap of 7 days before the last staged one, so the smallest period
    server.requests.clear()
    nxt = DAY + dt.timedelta(days=1)
    batch2 = network.extract_mempool_hashrate(nxt, today=nxt + dt.timedelta(days=1))
    assert server.requests == [PATH + "1m"]
    assert (batch2["window_start"], batch2["window_end"]) == ("2024-05-24", "2024-06-01")
    doc = json.loads(lake.read_bytes(batch2["keys"][0]))
    # the replay filters like the source: one month before its newest entry (2024-05-31T00:00Z)
    assert doc["hashrates"][0]["timestamp"] == int(
        dt.datetime(2024, 4, 30, tzinfo=dt.UTC).timestamp()
    )
    part = lake.read_parquet(network.stage_mempool_hashrate(nxt, batch2))
    assert list(part["date_day"]) == [dt.date(2024, 5, 24) + dt.timedelta(d) for d in range(7)]


def test_a_404_is_landed_and_the_run_goes_on(env, tmp_path, monkeypatch, caplog):
    rec = tmp_path / "empty-recording"
    rec.mkdir()
    with ReplayServer(rec) as srv:  # no mempool/hashrate-all.json: the path answers 404
        for k, v in srv.env().items():
            monkeypatch.setenv(k, v)
        with caplog.at_level(logging.WARNING):
            batch = network.extract_mempool_hashrate(DAY, today=DAY)
            assert network.stage_mempool_hashrate(DAY, batch) is None
        assert len(srv.requests) == 1  # definitive: not retried
    assert batch["status"] == "no_data" and "HTTP 404" in batch["reason"]
    lake = Lake(load())
    assert lake.read_bytes(batch["keys"][0]) == b"Not found"  # the answer, as it came
    assert lake.raw_sidecar(batch["keys"][0])["status"] == 404
    assert not lake.list("staged")
    assert "MINERWATCH_MEMPOOL_URL" in caplog.text


def test_a_bad_batch_is_quarantined_and_nothing_staged(env, server, real_body):
    doc = json.loads(real_body)
    doc["hashrates"][-2]["avgHashrate"] = -5
    server.set_fault(PATH + "all", Fault(status=200, body=json.dumps(doc).encode()))
    batch = network.extract_mempool_hashrate(DAY, today=DAY)
    with pytest.raises(ValidationFailed, match="hashrate_ehs") as err:
        network.stage_mempool_hashrate(DAY, batch)
    assert "quarantined" in str(err.value)
    lake = Lake(load())
    assert lake.list(f"quarantine/mempool/hashrate_daily/logical_date={DAY}")
    assert not lake.list("staged")


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"<html>maintenance</html>", "not valid JSON"),
        (b'[{"timestamp": 1, "avgHashrate": 2}]', "no 'hashrates' list"),
        (b'{"hashrates": [{"timestamp": "2024-05-01", "avgHashrate": 2}]}', r"hashrates\[0\]"),
    ],
)
def test_a_malformed_body_is_a_clear_error_naming_the_url(env, server, body, match):
    server.set_fault(PATH + "all", Fault(status=200, body=body))
    with pytest.raises(SourceError, match=match) as err:
        network.extract_mempool_hashrate(DAY, today=DAY)
    assert server.mempool_url in str(err.value)
    assert not Lake(load()).list("raw")  # nothing unusable is landed


def test_transient_errors_are_retried(env, server):
    server.set_fault(PATH + "all", Fault(status=503, times=2))
    assert network.extract_mempool_hashrate(DAY, today=DAY)["status"] == "landed"
    assert server.requests == [PATH + "all"] * 3
