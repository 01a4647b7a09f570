"""Great Expectations gates on landed batches: good batches stage, bad ones are quarantined."""

import datetime as dt
import json

import pytest

from minerwatch.demo.replay import Fault
from minerwatch.errors import ValidationFailed
from minerwatch.lake import Lake
from minerwatch.pipeline import network
from minerwatch.settings import load
from minerwatch.sources import coinmetrics
from tests.helpers import cm_rows

CM_PATH = "/v4/timeseries/asset-metrics"
DAY = dt.date(2024, 6, 30)


def _land_body(lake, rows):
    body = json.dumps({"data": rows}).encode()
    return lake.put_raw(coinmetrics.SOURCE, coinmetrics.DATASET, DAY, body, {}).key


def _rows_from_replay(replay, start, end):
    return cm_rows(replay.recording.directory, start, end)


def test_full_history_batch_passes_and_is_staged(env, replay):
    keys = network.extract_coinmetrics(DAY)
    staged = network.stage_coinmetrics(DAY, keys)
    lake = Lake(load())
    df = lake.read_parquet(staged)
    assert df["date_day"].min() == dt.date(2009, 1, 3)
    assert df["date_day"].max() == DAY
    assert not lake.list("quarantine")


@pytest.mark.parametrize(
    ("mutate", "failing"),
    [
        (lambda rows: rows[0].update(HashRate="-5"), "hashrate_ehs"),
        (lambda rows: rows[0].update(PriceUSD="0"), "PriceUSD"),
        (lambda rows: rows.insert(1, dict(rows[1])), "date_day"),
        (lambda rows: rows.pop(2), "gap_days"),
        (lambda rows: rows[0].pop("HashRate"), "HashRate"),
        (
            lambda rows: [r.update(IssTotNtv=str(float(r["IssTotNtv"]) * 2)) for r in rows],
            "issuance_error_blocks",
        ),
        (lambda rows: rows[3].update(BlkCnt="5000"), "BlkCnt"),
    ],
    ids=[
        "negative-hashrate",
        "zero-price",
        "duplicate-day",
        "gap",
        "missing-field",
        "issuance-off-schedule",
        "implausible-blocks",
    ],
)
def test_bad_batch_is_quarantined_and_nothing_staged(env, replay, mutate, failing):
    # land a good history first, then a bad overlap batch for the next day
    keys = network.extract_coinmetrics(DAY)
    good = network.stage_coinmetrics(DAY, keys)
    lake = Lake(load())
    good_bytes = lake.read_bytes(good)
    nxt = DAY + dt.timedelta(days=1)
    rows = _rows_from_replay(replay, (DAY - dt.timedelta(days=6)).isoformat(), DAY.isoformat())
    mutate(rows)
    body = json.dumps({"data": rows}).encode()
    key = lake.put_raw(coinmetrics.SOURCE, coinmetrics.DATASET, nxt, body, {}).key
    with pytest.raises(ValidationFailed) as err:
        network.stage_coinmetrics(nxt, [key])
    assert failing in str(err.value)
    assert "quarantined" in str(err.value)
    quarantined = lake.list(f"quarantine/coinmetrics/btc_asset_metrics/logical_date={nxt}")
    assert any(k.endswith("validation_result.json") for k in quarantined)
    result = json.loads(
        lake.read_bytes(next(k for k in quarantined if k.endswith("validation_result.json")))
    )
    assert result["success"] is False
    # nothing already landed or staged was lost or changed
    assert [d for d, _ in lake.staged_partitions(coinmetrics.SOURCE, coinmetrics.DATASET)] == [DAY]
    assert lake.read_bytes(good) == good_bytes
    assert all(lake.exists(k) for k in keys)


def test_renamed_field_fails_the_gate(env, replay):
    keys = network.extract_coinmetrics(DAY)
    network.stage_coinmetrics(DAY, keys)
    lake = Lake(load())
    nxt = DAY + dt.timedelta(days=1)
    rows = _rows_from_replay(replay, "2024-06-25", "2024-06-30")
    for r in rows:
        r["HashRateMean"] = r.pop("HashRate")
    with pytest.raises(ValidationFailed, match="HashRate"):
        network.stage_coinmetrics(nxt, [_land_body(lake, rows)])


def test_difficulty_batch_with_a_height_off_the_epoch_is_quarantined(env, replay):
    body = json.dumps(
        [[1703311464, 822528, 72006146478567.1, 1.06983], [1702180644, 820511, 6.7e13, 0.99]]
    )
    replay.set_fault("/api/v1/mining/difficulty-adjustments", Fault(status=200, body=body.encode()))
    keys = network.extract_mempool_difficulty(DAY)
    with pytest.raises(ValidationFailed, match="height_mod_epoch"):
        network.stage_mempool_difficulty(DAY, keys)


def test_an_out_of_order_page_is_sorted_not_rejected(env, replay):
    keys = network.extract_coinmetrics(DAY)
    network.stage_coinmetrics(DAY, keys)
    lake = Lake(load())
    nxt = DAY + dt.timedelta(days=1)
    rows = _rows_from_replay(replay, "2024-06-24", "2024-06-30")[::-1]
    staged = network.stage_coinmetrics(nxt, [_land_body(lake, rows)])
    assert lake.read_parquet(staged)["date_day"].is_monotonic_increasing


def test_nan_value_is_a_clear_error(env, replay):
    from minerwatch.errors import SourceError

    network.stage_coinmetrics(DAY, network.extract_coinmetrics(DAY))
    lake = Lake(load())
    rows = _rows_from_replay(replay, "2024-06-25", "2024-06-30")
    rows[1]["PriceUSD"] = "NaN"
    with pytest.raises(SourceError, match=r"PriceUSD on 2024-06-26 is 'NaN'"):
        network.stage_coinmetrics(DAY + dt.timedelta(days=1), [_land_body(lake, rows)])
