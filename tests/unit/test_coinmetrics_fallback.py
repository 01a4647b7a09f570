"""The fallback for the primary network source: when Coin Metrics' community API refuses access
(HTTP 401/403 — users report 401 without a key), the run takes Coin Metrics' published CSV
(MINERWATCH_COINMETRICS_CSV_URL), lands it write-once, gates it like the API rows and says which
one it used, in the log and in the marts' `source`. Transient errors still retry, never a reason
to fall back. The real path runs on the real Coin Metrics file (../shared/refdata, an excerpt of
the published btc.csv with the same columns), served by the replay server where the published
file is served (`/coinmetrics-data/csv/btc.csv`)."""

import csv
import datetime as dt
import io
import json
import logging
import shutil

import duckdb
import pytest

from minerwatch import warehouse
from minerwatch.demo.refdata import difficulty_adjustments
from minerwatch.demo.replay import CM_CSV_PATH, Fault, ReplayServer
from minerwatch.errors import SourceError, ValidationFailed
from minerwatch.lake import Lake
from minerwatch.pipeline import network
from minerwatch.settings import load

CM_PATH = "/v4/timeseries/asset-metrics"
GENESIS_CSV = "coinmetrics_btc_2009-01-03_2024-05-31.csv"
MEMPOOL_JSON = "mempool_hashrate_all_2009-01-03_2024-05-31.json"
REAL_DAY = dt.date(2024, 5, 31)
DAY = dt.date(2024, 6, 30)  # the sample recording's last day


def _refuse(server, status=401):
    body = {
        "error": {"type": "unauthorized", "message": "Requested resource requires authorization."}
    }
    server.set_fault(CM_PATH, Fault(status=status, body=json.dumps(body).encode(), times=1000))


@pytest.fixture
def real_server(refdata, tmp_path, monkeypatch):
    rec = tmp_path / "recording"
    (rec / "coinmetrics").mkdir(parents=True)
    (rec / "mempool").mkdir()
    shutil.copyfile(refdata / GENESIS_CSV, rec / "coinmetrics" / "btc.csv")  # as published
    adjustments = difficulty_adjustments(refdata)  # the real retargets, in the API's shape
    (rec / "mempool" / "difficulty-adjustments.json").write_text(json.dumps(adjustments))
    with ReplayServer(rec) as server:
        for k, v in server.env().items():
            monkeypatch.setenv(k, v)
        yield server


@pytest.mark.slow
def test_a_refused_api_falls_back_to_the_published_csv_on_real_data(
    env, real_server, refdata, caplog
):
    _refuse(real_server, 401)
    with caplog.at_level(logging.WARNING, logger="minerwatch.pipeline"):
        keys = network.extract_coinmetrics(REAL_DAY)
    # one API request (a refusal is not retried), then the CSV
    assert [r.split("?")[0] for r in real_server.requests] == [CM_PATH, CM_CSV_PATH]
    assert "refused access (HTTP 401)" in caplog.text and "coinmetrics:csv" in caplog.text
    assert "MINERWATCH_COINMETRICS_API_KEY" in caplog.text

    lake = Lake(load())
    assert len(keys) == 1 and keys[0].startswith(f"raw/coinmetrics/btc_csv/ingest_date={REAL_DAY}/")
    assert lake.read_bytes(keys[0]) == (refdata / GENESIS_CSV).read_bytes()  # landed as it came
    side = lake.raw_sidecar(keys[0])
    assert side["url"] == real_server.base_url + CM_CSV_PATH
    assert (side["window_start"], side["window_end"]) == ("2009-01-03", "2024-05-31")
    assert side["api_status"] == 401 and side["rows"] == 5628
    assert network.extract_coinmetrics(REAL_DAY) == keys  # write-once: a rerun lands nothing new

    # the same gate as the API rows, then staged with the provider named on every row
    staged = lake.read_parquet(network.stage_coinmetrics(REAL_DAY, keys))
    assert len(staged) == 5628 and set(staged["source"]) == {"coinmetrics:csv"}
    with open(refdata / GENESIS_CSV, newline="") as fh:
        real = {r["time"]: r for r in csv.DictReader(fh)}
    for row in staged.itertuples(index=False):
        src = real[row.date_day.isoformat()]
        for metric in ("HashRate", "PriceUSD", "SplyCur", "IssTotNtv", "FeeTotNtv", "BlkCnt"):
            value = getattr(row, metric)
            assert (
                (value != value or value is None)
                if src[metric] == ""
                else (value == float(src[metric]))
            ), (row.date_day, metric)

    # ... and carried to the mart's `source`
    network.stage_mempool_difficulty(REAL_DAY, network.extract_mempool_difficulty(REAL_DAY))
    warehouse.build(select="+fct_network_daily")
    con = duckdb.connect(str(load().warehouse), read_only=True)
    try:
        sources = con.execute(
            "select source, raw_key, count(*) from marts.fct_network_daily group by all"
        ).fetchall()
    finally:
        con.close()
    assert sources == [("coinmetrics:csv; mempool:difficulty_adjustments", keys[0], 5628)]


def test_a_403_falls_back_too(env, replay):
    _refuse(replay, 403)
    keys = network.extract_coinmetrics(DAY)
    lake = Lake(load())
    assert lake.raw_sidecar(keys[0])["api_status"] == 403
    staged = lake.read_parquet(network.stage_coinmetrics(DAY, keys))
    assert staged["date_day"].min() == dt.date(2009, 1, 3) and staged["date_day"].max() == DAY
    assert set(staged["source"]) == {"coinmetrics:csv"}


def test_transient_errors_retry_and_never_fall_back(env, replay):
    replay.set_fault(CM_PATH, Fault(status=503, times=2))
    keys = network.extract_coinmetrics(DAY)
    assert not any(CM_CSV_PATH in r for r in replay.requests)
    assert all("/btc_asset_metrics/" in k for k in keys)
    staged = Lake(load()).read_parquet(network.stage_coinmetrics(DAY, keys))
    assert set(staged["source"]) == {"coinmetrics:api"}


def test_the_gate_applies_to_the_csv_rows(env, replay):
    _refuse(replay)
    text = (replay.recording.directory / "coinmetrics" / "btc.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    rows[-10]["HashRate"] = "-5"  # a negative hash rate inside the window
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    replay.set_fault(
        CM_CSV_PATH, Fault(status=200, body=out.getvalue().encode(), content_type="text/plain")
    )
    keys = network.extract_coinmetrics(DAY)
    with pytest.raises(ValidationFailed, match="hashrate_ehs") as err:
        network.stage_coinmetrics(DAY, keys)
    assert "quarantined" in str(err.value)
    lake = Lake(load())
    assert lake.list(f"quarantine/coinmetrics/btc_asset_metrics/logical_date={DAY}")
    assert not lake.list("staged")


def test_a_csv_without_a_metric_is_a_clear_error(env, replay):
    _refuse(replay)
    body = b"time,PriceUSD,SplyCur,IssTotNtv,FeeTotNtv,BlkCnt\n2024-06-01,1,2,3,4,5\n"
    replay.set_fault(CM_CSV_PATH, Fault(status=200, body=body, content_type="text/plain"))
    with pytest.raises(SourceError, match="lacks the metric column.*HashRate") as err:
        network.extract_coinmetrics(DAY)
    assert replay.base_url + CM_CSV_PATH in str(err.value)
    assert "MINERWATCH_COINMETRICS_CSV_URL" in str(err.value)


def test_a_csv_that_ends_before_the_window_warns_and_the_next_run_takes_the_rest(
    env, replay, caplog
):
    network.stage_coinmetrics(DAY, network.extract_coinmetrics(DAY))  # the API, up to DAY
    _refuse(replay)
    later = DAY + dt.timedelta(days=2)  # the published file (the recording) ends on DAY
    with caplog.at_level(logging.WARNING, logger="minerwatch.sources.coinmetrics"):
        keys = network.extract_coinmetrics(later)
    assert f"ends on {DAY}, before the window end {later}" in caplog.text
    staged = Lake(load()).read_parquet(network.stage_coinmetrics(later, keys))
    assert staged["date_day"].max() == DAY  # the overlap days, from the CSV
    assert set(staged["source"]) == {"coinmetrics:csv"}


def test_a_stale_csv_without_the_window_is_a_clear_error(env, replay):
    network.stage_coinmetrics(DAY, network.extract_coinmetrics(DAY))
    _refuse(replay)
    text = (replay.recording.directory / "coinmetrics" / "btc.csv").read_text()
    lines = text.splitlines(keepends=True)
    stale = lines[0] + "".join(ln for ln in lines[1:] if ln[:10] <= "2024-06-10")
    replay.set_fault(CM_CSV_PATH, Fault(status=200, body=stale.encode(), content_type="text/plain"))
    # the window is the overlap 2024-06-24..07-01; the file ends on 2024-06-10
    with pytest.raises(SourceError, match=r"has no rows for 2024-06-24\.\.2024-07-01.*run again"):
        network.extract_coinmetrics(DAY + dt.timedelta(days=1))
    assert Lake(load()).list("raw/coinmetrics/btc_csv")  # what came is landed all the same
