"""The network gate on the real Coin Metrics history (refdata, genesis..2024-05-31): the real
quirks pass, every bound has its reason, and bad input inside real data still fails."""

import csv
import datetime as dt
import json
import logging

import pytest

from minerwatch.errors import ValidationFailed
from minerwatch.lake import Lake
from minerwatch.pipeline import network
from minerwatch.quality import validate_frame
from minerwatch.quality.gx import EXPECTATIONS_DIR
from minerwatch.settings import load
from minerwatch.sources import coinmetrics

GENESIS_CSV = "coinmetrics_btc_2009-01-03_2024-05-31.csv"
# expectation types that are not bounds (presence, uniqueness, schema) still carry a reason,
# but these are the ones the rule is about
BOUNDED = ("between", "in_set", "greater_than", "match_regex", "lengths")


@pytest.fixture(scope="module")
def genesis_rows(refdata):
    with open(refdata / GENESIS_CSV, newline="") as fh:
        return list(csv.DictReader(fh))


def _items(rows):
    return [
        {
            "asset": "btc",
            "time": r["time"] + "T00:00:00.000000000Z",
            **{m: r[m] for m in coinmetrics.METRICS if r.get(m, "") != ""},
        }
        for r in rows
    ]


def _frame(rows):
    return coinmetrics.to_frame([("k", json.dumps({"data": _items(rows)}).encode())])


def test_every_expectation_in_every_suite_says_why():
    missing = []
    for path in sorted(EXPECTATIONS_DIR.glob("*.json")):
        for e in json.loads(path.read_text())["expectations"]:
            reason = (e.get("meta") or {}).get("reason", "")
            if len(reason) < 15:
                missing.append(f"{path.name}: {e['type']} {e['kwargs'].get('column', '')}")
    assert not missing, "expectations without meta.reason:\n" + "\n".join(missing)
    assert any(b in "expect_column_values_to_be_between" for b in BOUNDED)


def test_the_whole_real_history_passes_the_gate(genesis_rows):
    df = _frame(genesis_rows)
    check = network.network_check_frame(df, 0)
    outcome = validate_frame(check, "coinmetrics_btc_asset_metrics")
    assert outcome.success, outcome.summary()
    # the real quirks are in the batch, not cleaned away
    by_day = check.set_index("date_day")
    assert by_day.loc[dt.date(2009, 1, 3), "BlkCnt"] == 0
    assert by_day["HashRate"].isna().sum() == 6  # 2009-01-03..08, no block mined
    assert by_day["PriceUSD"].isna().sum() == (dt.date(2010, 7, 18) - dt.date(2009, 1, 3)).days
    assert by_day["BlkCnt"].max() == 692  # a July 2010 day
    assert by_day["IssTotNtv"].max() == 34_600
    # Coin Metrics' issuance equals the subsidy by height on every real day, halvings included
    assert check["issuance_error_blocks"].abs().max() == 0


@pytest.mark.parametrize(
    ("day", "change", "failing"),
    [
        ("2012-03-01", {"HashRate": ""}, "HashRate"),  # a mined day without hash rate
        ("2012-03-01", {"IssTotNtv": ""}, "IssTotNtv"),
        ("2010-07-20", {"PriceUSD": ""}, "PriceUSD"),  # after the first priced day
        ("2009-01-05", {"SplyCur": ""}, "SplyCur"),  # zero-block days still have supply
        ("2010-07-13", {"BlkCnt": "3000"}, "BlkCnt"),
        ("2016-07-09", {"IssTotNtv": "3600"}, "issuance_error_blocks"),  # halving day doubled
        ("2020-05-01", {"FeeTotNtv": "35000000"}, "FeeTotNtv"),  # satoshis read as BTC
        ("2024-05-01", {"HashRate": "0"}, "hashrate_ehs"),  # blocks without work
    ],
)
def test_bad_values_inside_real_history_still_fail(genesis_rows, day, change, failing):
    rows = [dict(r) for r in genesis_rows]
    i = next(i for i, r in enumerate(rows) if r["time"] == day)
    rows[i].update(change)
    outcome = validate_frame(
        network.network_check_frame(_frame(rows), 0), "coinmetrics_btc_asset_metrics"
    )
    assert not outcome.success
    assert failing in outcome.summary()
    assert "why this bound:" in outcome.summary()


def test_zero_block_days_may_lack_hash_rate_but_not_a_mined_day(genesis_rows):
    first_week = genesis_rows[:10]  # 2009-01-03..12: six empty days, then blocks
    check = network.network_check_frame(_frame(first_week), 0)
    assert validate_frame(check, "coinmetrics_btc_asset_metrics").success


def test_an_incomplete_newest_day_is_not_staged_and_the_next_run_takes_it(
    env, genesis_rows, caplog
):
    """A live API's newest day can lack metrics: it is left out (a warning says so), the rest
    is staged, and the next run's overlapping window stages it once it is complete."""
    lake = Lake(load())
    day = dt.date(2024, 5, 31)
    rows = [dict(r) for r in genesis_rows]
    rows[-1]["HashRate"] = ""
    rows[-1]["PriceUSD"] = ""
    body = json.dumps({"data": _items(rows)}).encode()
    key = lake.put_raw(coinmetrics.SOURCE, coinmetrics.DATASET, day, body, {}).key
    with caplog.at_level(logging.WARNING, logger="minerwatch.pipeline"):
        staged = network.stage_coinmetrics(day, [key])
    assert lake.read_parquet(staged)["date_day"].max() == dt.date(2024, 5, 30)
    assert "has not finished 2024-05-31" in caplog.text
    assert "HashRate" in caplog.text and "PriceUSD" in caplog.text
    assert not lake.list("quarantine")
    # the next run's window reaches back over the overlap and stages the completed day
    start, _ = network.network_window(lake, day + dt.timedelta(days=1))
    assert start <= dt.date(2024, 5, 31)
    nxt = day + dt.timedelta(days=1)
    body = json.dumps({"data": _items(genesis_rows[-7:])}).encode()
    key = lake.put_raw(coinmetrics.SOURCE, coinmetrics.DATASET, nxt, body, {}).key
    assert lake.read_parquet(network.stage_coinmetrics(nxt, [key]))["date_day"].max() == day


def test_a_missing_value_inside_the_batch_is_not_mistaken_for_an_incomplete_day(env, genesis_rows):
    lake = Lake(load())
    day = dt.date(2024, 5, 31)
    rows = [dict(r) for r in genesis_rows]
    rows[-3]["HashRate"] = ""
    body = json.dumps({"data": _items(rows)}).encode()
    key = lake.put_raw(coinmetrics.SOURCE, coinmetrics.DATASET, day, body, {}).key
    with pytest.raises(ValidationFailed, match="HashRate"):
        network.stage_coinmetrics(day, [key])


def test_a_warning_severity_expectation_warns_and_does_not_block(tmp_path, monkeypatch, caplog):
    """The two hash-rate sources drifting apart is a loud warning, never a failed audit."""
    import pandas as pd

    from minerwatch.quality import gx

    suite = {
        "name": "warn_only",
        "expectations": [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "hashrate_divergence_30d", "min_value": 0, "max_value": 0.01},
                "severity": "warning",
                "meta": {"reason": "two sources agree within 1 %"},
            },
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "date_day"},
                "meta": {"reason": "every row is a day"},
            },
        ],
    }
    (tmp_path / "warn_only.json").write_text(json.dumps(suite))
    monkeypatch.setattr(gx, "EXPECTATIONS_DIR", tmp_path)
    frame = pd.DataFrame({"date_day": ["2024-05-01"], "hashrate_divergence_30d": [0.05]})
    with caplog.at_level(logging.WARNING, logger="minerwatch.quality.gx"):
        outcome = gx.validate_frame(frame, "warn_only")
    assert outcome.success and not outcome.failed
    assert [w["kwargs"]["column"] for w in outcome.warnings] == ["hashrate_divergence_30d"]
    assert "WARNING" in caplog.text and "two sources agree within 1 %" in caplog.text
    frame["date_day"] = None
    assert not gx.validate_frame(frame, "warn_only").success  # other expectations still block
