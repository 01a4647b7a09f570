"""Prices: real Yahoo chart bodies (../shared/refdata), as-traded reconstruction, retries, the
keyed provider, and the per-ticker GX gate."""

import datetime as dt
import json

import pytest

from minerwatch.demo.replay import Fault
from minerwatch.errors import ConfigurationError, SourceError, ValidationFailed
from minerwatch.lake import Lake
from minerwatch.pipeline import market
from minerwatch.settings import load
from minerwatch.sources import yahoo

DAY = dt.date(2024, 6, 30)


def _recorded_body(refdata, name):
    doc = json.loads((refdata / "formats" / name).read_text())
    return json.dumps(doc["response"]["bodyJson"]).encode()


def test_real_yahoo_btc_usd_body_parses(refdata):
    body = _recorded_body(
        refdata, "yahoo_v8_finance_chart_BTC-USD-2020-01-01-to-2020-01-03.recorded.json"
    )
    df = yahoo.to_frame(body, "raw/x.json", "BTC-USD")
    assert df["date_day"].tolist() == [
        dt.date(2020, 1, 1),
        dt.date(2020, 1, 2),
        dt.date(2020, 1, 3),
    ]
    assert df["close"].tolist() == [7200.17431640625, 6985.47021484375, 7344.88427734375]
    assert (df["close_as_traded"] == df["close"]).all()  # no split in the window


def test_real_yahoo_aapl_body_parses_in_exchange_time(refdata):
    body = _recorded_body(
        refdata, "yahoo_v8_finance_chart_AAPL-2020-01-01-to-2020-01-03.recorded.json"
    )
    df = yahoo.to_frame(body, "raw/x.json", "AAPL")
    # 1577975400 is 2020-01-02 14:30 UTC = 09:30 in New York
    assert df["date_day"].tolist() == [dt.date(2020, 1, 2)]
    # Yahoo's close is split-adjusted as of the fetch (AAPL split 4:1 in Aug 2020, outside the
    # window, so no event is listed): 75.0875 is 300.35 / 4. adjclose adds dividends.
    assert df["close"].iloc[0] == pytest.approx(75.0875015258789)
    assert df["adj_close"].iloc[0] == pytest.approx(72.71607208251953)


def test_as_traded_close_undoes_later_splits_in_the_window():
    ts = [1684157400, 1684243800]  # 2023-05-15, 2023-05-16 09:30 New York
    body = json.dumps({"chart": {"error": None, "result": [{
        "meta": {"symbol": "GREE", "exchangeTimezoneName": "America/New_York"},
        "timestamp": ts,
        "events": {"splits": {"1684243800": {"date": 1684243800, "numerator": 1, "denominator": 10, "splitRatio": "1:10"}}},
        "indicators": {"quote": [{"open": [5.0, 5.1], "high": [5.2, 5.3], "low": [4.9, 5.0], "close": [5.0, 5.2], "volume": [10, 20]}],
                       "adjclose": [{"adjclose": [5.0, 5.2]}]},
    }]}}).encode()  # fmt: skip
    df = yahoo.to_frame(body, "raw/x.json", "GREE")
    assert df["close_as_traded"].tolist() == pytest.approx([0.5, 5.2])
    assert df["split_ratio"].tolist()[1] == pytest.approx(0.1)


def test_null_rows_are_dropped_and_errors_are_clear():
    body = json.dumps({"chart": {"error": None, "result": [{
        "meta": {"symbol": "X", "exchangeTimezoneName": "UTC"}, "timestamp": [1577836800, 1577923200],
        "indicators": {"quote": [{"open": [1.0, None], "high": [1.0, None], "low": [1.0, None], "close": [1.0, None], "volume": [1, None]}]},
    }]}}).encode()  # fmt: skip
    assert len(yahoo.to_frame(body, "k", "X")) == 1
    err = json.dumps(
        {
            "chart": {
                "result": None,
                "error": {
                    "code": "Not Found",
                    "description": "No data found, symbol may be delisted",
                },
            }
        }
    )
    with pytest.raises(SourceError, match="symbol may be delisted"):
        yahoo.to_frame(err.encode(), "k", "X")


def test_yahoo_401_crumb_and_429_are_retried(env, replay):
    path = "/v8/finance/chart/MARA"
    replay.set_fault(
        path,
        Fault(
            status=401,
            body=b'{"finance":{"error":{"code":"Unauthorized","description":"Invalid Crumb"}}}',
        ),
    )
    replay.set_fault(path, Fault(status=429, body=b"Too Many Requests", content_type="text/plain"))
    out = market.extract_prices(DAY, "MARA")
    assert out["provider"] == "yahoo" and len(out["keys"]) == 1
    assert sum(path in r for r in replay.requests) == 3


def test_yahoo_keeps_failing_is_a_clear_error(env, replay, monkeypatch):
    monkeypatch.setenv("MINERWATCH_HTTP_MAX_RETRIES", "1")
    replay.set_fault(
        "/v8/finance/chart/MARA", Fault(status=429, times=5, body=b"Too Many Requests")
    )
    with pytest.raises(SourceError, match=r"HTTP 429 after 2 attempt.*rate-limited"):
        market.extract_prices(DAY, "MARA")


def test_fmp_without_a_key_is_refused_before_any_request(env, replay, monkeypatch):
    monkeypatch.setenv("MINERWATCH_MARKET_PROVIDER", "fmp")
    with pytest.raises(ConfigurationError, match="MINERWATCH_FMP_API_KEY"):
        market.extract_prices(DAY, "GREE")
    assert not replay.requests


def test_fmp_gives_the_same_frame_as_yahoo(env, replay, monkeypatch):
    lake = Lake(load())
    y = market.price_frame(lake, market.extract_prices(DAY, "GREE"))
    monkeypatch.setenv("MINERWATCH_MARKET_PROVIDER", "fmp")
    monkeypatch.setenv("MINERWATCH_FMP_API_KEY", "dummy-fmp-key-77")
    batch = market.extract_prices(DAY, "GREE")
    f = market.price_frame(lake, batch)
    assert len(f) == len(y) > 100
    assert f["close_as_traded"].tolist() == pytest.approx(y["close_as_traded"].tolist(), rel=1e-6)
    assert f["split_ratio"].dropna().tolist() == [0.1]
    for path in (env / "lake").rglob("*"):
        assert not path.is_file() or b"dummy-fmp-key-77" not in path.read_bytes()


def test_a_bad_ticker_is_quarantined_and_the_others_staged(env, replay):
    good = market.extract_prices(DAY, "MARA")
    lake = Lake(load())
    bad_body = json.dumps({"chart": {"error": None, "result": [{
        "meta": {"symbol": "RIOT", "exchangeTimezoneName": "America/New_York"}, "timestamp": [1719495000],
        "indicators": {"quote": [{"open": [10.0], "high": [9.0], "low": [11.0], "close": [10.0], "volume": [5]}]},
    }]}}).encode()  # fmt: skip
    bad = {"ticker": "RIOT", "provider": "yahoo",
           "keys": [lake.put_raw("yahoo", "chart_daily", DAY, bad_body, {}).key]}  # fmt: skip
    with pytest.raises(ValidationFailed, match=r"(?s)1 of 2 .*RIOT"):
        market.stage_prices(DAY, [good, bad])
    staged = lake.list("staged/market/prices_daily")
    assert any("ticker=MARA" in k for k in staged) and not any("ticker=RIOT" in k for k in staged)
    assert lake.list("quarantine/market/prices_daily")
