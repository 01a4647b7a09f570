"""A source revising a past day: the revision lands as a new raw object beside the original, and
the mart shows the latest revision (the batch staged for the latest logical date wins)."""

import datetime as dt
import json

import duckdb
import pytest

from minerwatch import warehouse
from minerwatch.demo.replay import Fault
from minerwatch.lake import Lake
from minerwatch.pipeline import network
from minerwatch.settings import load
from tests.helpers import cm_rows

pytestmark = pytest.mark.slow
DAY = dt.date(2024, 6, 29)


def test_revised_day_lands_beside_the_original_and_the_mart_shows_it(env, replay):
    first_keys = network.extract_coinmetrics(DAY)
    network.stage_coinmetrics(DAY, first_keys)
    network.stage_mempool_difficulty(DAY, network.extract_mempool_difficulty(DAY))
    warehouse.build(select="+fct_network_daily")
    lake = Lake(load())
    original = {k: lake.read_bytes(k) for k in first_keys}

    # the next day, the source serves the overlap window with 2024-06-25's price revised
    nxt = DAY + dt.timedelta(days=1)
    data = cm_rows(replay.recording.directory, "2024-06-23", nxt.isoformat())
    for item in data:
        if item["time"].startswith("2024-06-25"):
            old_price = float(item["PriceUSD"])
            item["PriceUSD"] = str(old_price * 1.01)
    replay.set_fault(
        "/v4/timeseries/asset-metrics", Fault(status=200, body=json.dumps({"data": data}).encode())
    )
    new_keys = network.extract_coinmetrics(nxt)
    assert set(new_keys).isdisjoint(first_keys)
    network.stage_coinmetrics(nxt, new_keys)
    warehouse.build(select="+fct_network_daily")

    assert all(lake.read_bytes(k) == b for k, b in original.items())  # nothing landed is changed
    con = duckdb.connect(str(load().warehouse), read_only=True)
    price, raw_key = con.execute(
        "select price_usd, raw_key from marts.fct_network_daily where date_day = date '2024-06-25'"
    ).fetchone()
    n_days = con.execute("select count(*) from marts.fct_network_daily").fetchone()[0]
    con.close()
    assert price == pytest.approx(old_price * 1.01, rel=1e-12)
    assert raw_key in new_keys
    assert n_days == (nxt - dt.date(2009, 1, 3)).days + 1
