"""The extract path against the replay server over real HTTP: paging, retries, bad bodies."""

import datetime as dt
import json

import pytest

from minerwatch.demo.replay import Fault
from minerwatch.errors import SourceError
from minerwatch.lake import Lake
from minerwatch.pipeline import network
from minerwatch.settings import load
from minerwatch.sources import coinmetrics

CM_PATH = "/v4/timeseries/asset-metrics"


def _extract(start, end, page_size=None, monkeypatch=None):
    settings = load()
    lake = Lake(settings)
    if page_size:
        monkeypatch.setattr(coinmetrics, "PAGE_SIZE", page_size)
    objs = coinmetrics.extract(settings, lake, start=start, end=end, ingest_date=end)
    return lake, objs


def test_follows_next_page_url_and_lands_every_page(env, replay, monkeypatch):
    lake, objs = _extract(
        dt.date(2024, 1, 1), dt.date(2024, 1, 31), page_size=10, monkeypatch=monkeypatch
    )
    assert len(objs) == 4  # 31 days in pages of 10
    frame = coinmetrics.to_frame([(o.key, lake.read_bytes(o.key)) for o in objs])
    assert frame["date_day"].tolist() == [dt.date(2024, 1, 1) + dt.timedelta(d) for d in range(31)]
    assert sum("next_page_token" in r for r in replay.requests) == 3
    side = lake.raw_sidecar(objs[0].key)
    assert side["status"] == 200 and side["url"].startswith(replay.coinmetrics_url)
    assert side["params"]["start_time"] == "2024-01-01"


def test_refetching_the_same_window_lands_nothing_new(env, replay):
    _, first = _extract(dt.date(2024, 1, 1), dt.date(2024, 1, 31))
    _, again = _extract(dt.date(2024, 1, 1), dt.date(2024, 1, 31))
    assert [o.key for o in first] == [o.key for o in again]
    assert all(o.created for o in first) and not any(o.created for o in again)


def test_429_with_retry_after_then_success(env, replay):
    replay.set_fault(CM_PATH, Fault(status=429, headers={"Retry-After": "0"}, times=2))
    _, objs = _extract(dt.date(2024, 1, 1), dt.date(2024, 1, 3))
    assert len(objs) == 1
    assert len(replay.requests) == 3


def test_500_is_retried_then_fails_clearly(env, replay, monkeypatch):
    monkeypatch.setenv("MINERWATCH_HTTP_MAX_RETRIES", "2")
    replay.set_fault(CM_PATH, Fault(status=500, times=5))
    with pytest.raises(SourceError, match=r"HTTP 500 after 3 attempt"):
        _extract(dt.date(2024, 1, 1), dt.date(2024, 1, 3))


def test_malformed_json_names_the_url(env, replay):
    replay.set_fault(CM_PATH, Fault(status=200, body=b'{"data": [', times=1))
    with pytest.raises(SourceError, match=r"not valid JSON") as err:
        _extract(dt.date(2024, 1, 1), dt.date(2024, 1, 3))
    assert replay.coinmetrics_url in str(err.value)


def test_html_error_page_with_200_is_rejected(env, replay):
    replay.set_fault(
        CM_PATH,
        Fault(status=200, body=b"<html><body>Maintenance</body></html>", content_type="text/html"),
    )
    with pytest.raises(SourceError, match="not valid JSON"):
        _extract(dt.date(2024, 1, 1), dt.date(2024, 1, 3))


def test_unexpected_shape_is_rejected(env, replay):
    body = json.dumps({"data": [{"asset": "eth", "time": "2024-01-01T00:00:00Z"}]}).encode()
    replay.set_fault(CM_PATH, Fault(status=200, body=body))
    with pytest.raises(SourceError, match="asset 'eth'"):
        _extract(dt.date(2024, 1, 1), dt.date(2024, 1, 3))


def test_api_error_body_is_reported(env, replay):
    body = json.dumps(
        {"error": {"type": "unauthorized", "message": "Requested resource requires authorization."}}
    )
    replay.set_fault(CM_PATH, Fault(status=401, body=body.encode()))
    with pytest.raises(SourceError, match="HTTP 401.*API key"):
        _extract(dt.date(2024, 1, 1), dt.date(2024, 1, 3))


def test_api_key_is_sent_but_never_stored_or_logged(env, replay, monkeypatch, caplog):
    monkeypatch.setenv("MINERWATCH_COINMETRICS_API_KEY", "dummy-secret-key-42")
    lake, objs = _extract(
        dt.date(2024, 1, 1), dt.date(2024, 1, 25), page_size=10, monkeypatch=monkeypatch
    )
    assert len(objs) == 3
    # every request, including followed next_page_urls, carried the key (redacted in the log)
    assert all("api_key=REDACTED" in r for r in replay.requests)
    for path in (env / "lake").rglob("*"):
        if path.is_file():
            assert b"dummy-secret-key-42" not in path.read_bytes(), path
    assert "dummy-secret-key-42" not in caplog.text


def test_next_page_url_to_another_host_is_refused(env, replay):
    body = json.dumps(
        {"data": [], "next_page_url": "http://198.51.100.7/v4/timeseries/asset-metrics?api_key=x"}
    ).encode()
    replay.set_fault(CM_PATH, Fault(status=200, body=body))
    with pytest.raises(SourceError, match="leaves the configured base URL"):
        _extract(dt.date(2024, 1, 1), dt.date(2024, 1, 3))


def test_non_numeric_metric_is_an_error_naming_day_and_metric(env):
    body = json.dumps(
        {"data": [{"asset": "btc", "time": "2024-01-01T00:00:00.000000000Z", "HashRate": "abc"}]}
    ).encode()
    with pytest.raises(SourceError, match=r"HashRate on 2024-01-01 is 'abc'"):
        coinmetrics.to_frame([("raw/x.json", body)])


def test_window_is_genesis_on_an_empty_lake_then_an_overlap(env):
    lake = Lake(load())
    assert network.network_window(lake, dt.date(2024, 1, 10)) == (
        dt.date(2009, 1, 3),
        dt.date(2024, 1, 10),
    )
    import pandas as pd

    days = pd.DataFrame({"date_day": [dt.date(2024, 1, 9)], "BlkCnt": [1]})
    lake.write_staged(coinmetrics.SOURCE, coinmetrics.DATASET, "2024-01-09", days)
    # the next day re-fetches OVERLAP_DAYS before it; a rerun of 2024-01-09 ignores its own partition
    assert network.network_window(lake, dt.date(2024, 1, 10)) == (
        dt.date(2024, 1, 3),
        dt.date(2024, 1, 10),
    )
    assert network.network_window(lake, dt.date(2024, 1, 9))[0] == dt.date(2009, 1, 3)
