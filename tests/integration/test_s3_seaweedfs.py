"""The lake on a real S3-compatible store (SeaweedFS, started by the suite): landing, write-once,
staged replace, and dbt reading the staged Parquet through s3fs."""

import datetime as dt

import duckdb
import pytest

from minerwatch import warehouse
from minerwatch.lake import Lake
from minerwatch.pipeline import network
from minerwatch.settings import load

DAY = dt.date(2024, 6, 30)
pytestmark = pytest.mark.slow


@pytest.fixture
def s3_env(env, seaweedfs, monkeypatch, request):
    prefix = f"t-{request.node.name[:40].replace('_', '-')}"
    monkeypatch.setenv("MINERWATCH_LAKE_URL", f"s3://lake/{prefix}")
    monkeypatch.setenv("AWS_ENDPOINT_URL", seaweedfs["endpoint"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "minerwatch")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "minerwatch-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return prefix


def _objects(client, prefix):
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket="lake", Prefix=prefix + "/"
    ):
        for obj in page.get("Contents", []):
            out[obj["Key"][len(prefix) + 1 :]] = obj["ETag"]
    return out


def test_pipeline_on_s3_lands_stages_and_builds(s3_env, seaweedfs, replay):
    settings = load()
    assert settings.lake_is_s3
    cm_keys = network.extract_coinmetrics(DAY)
    mp_keys = network.extract_mempool_difficulty(DAY)
    network.stage_coinmetrics(DAY, cm_keys)
    network.stage_mempool_difficulty(DAY, mp_keys)
    objects = _objects(seaweedfs["client"], s3_env)
    assert set(cm_keys + mp_keys) <= set(objects)
    assert f"staged/coinmetrics/btc_asset_metrics/logical_date={DAY}/data.parquet" in objects
    assert not any(".tmp-" in k for k in objects)

    # the same date again: no new objects, nothing rewritten
    assert network.extract_coinmetrics(DAY) == cm_keys
    raw_before = {k: v for k, v in objects.items() if k.startswith("raw/")}
    raw_after = {
        k: v for k, v in _objects(seaweedfs["client"], s3_env).items() if k.startswith("raw/")
    }
    assert raw_after == raw_before

    # dbt reads the staged Parquet from S3 through the registered s3fs filesystem
    warehouse.build(settings, select="+fct_network_daily")
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    n, last = con.execute("select count(*), max(date_day) from marts.fct_network_daily").fetchone()
    con.close()
    assert last == DAY and n == (DAY - dt.date(2009, 1, 3)).days + 1


def test_write_once_survives_the_store_restarting(s3_env, seaweedfs):
    import subprocess
    import time

    lake = Lake(load())
    first = lake.put_raw("src", "ds", DAY, b'{"n": 1}', {"url": "u"})
    proc = seaweedfs["proc"]
    proc.kill()  # the store goes away mid-run, without warning
    proc.wait(timeout=15)
    with pytest.raises(Exception):  # noqa: B017 - any client error while the store is down
        Lake(load()).put_raw("src", "ds", DAY, b'{"n": 2}', {"url": "u"})
    seaweedfs["proc"] = subprocess.Popen(
        seaweedfs["cmd"], stdout=open(seaweedfs["log"], "ab"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            seaweedfs["client"].list_objects_v2(Bucket="lake", MaxKeys=1)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    lake = Lake(load())
    second = lake.put_raw("src", "ds", DAY, b'{"n": 2}', {"url": "u"})
    assert second.created
    assert lake.read_bytes(first.key) == b'{"n": 1}'
    assert sorted(lake.raw_keys("src", "ds", DAY)) == sorted([first.key, second.key])


def _race(writers):
    """Run the callables at once (lined up on a barrier); return their results in order."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    barrier = threading.Barrier(len(writers))

    def go(fn):
        barrier.wait()
        return fn()

    with ThreadPoolExecutor(len(writers)) as pool:
        return list(pool.map(go, writers))


def test_the_store_refuses_a_second_conditional_create_with_412(s3_env, seaweedfs):
    """What the lake's write-once relies on, shown on the store itself: PutObject with
    If-None-Match: * creates a key once; the second gets 412 PreconditionFailed and the object
    keeps the first bytes. (A SeaweedFS that ignored the header would overwrite: this fails.)"""
    from botocore.exceptions import ClientError

    client, key = seaweedfs["client"], f"{s3_env}/raw/conditional.json"
    client.put_object(Bucket="lake", Key=key, Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as refused:
        client.put_object(Bucket="lake", Key=key, Body=b"second", IfNoneMatch="*")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
    assert client.get_object(Bucket="lake", Key=key)["Body"].read() == b"first"
    # without the condition the same store overwrites: the header is what protects the key
    client.put_object(Bucket="lake", Key=key, Body=b"third")
    assert client.get_object(Bucket="lake", Key=key)["Body"].read() == b"third"


def test_concurrent_writers_of_one_key_exactly_one_wins(s3_env, seaweedfs):
    """Separate clients (as separate workers would be) create one key at the same moment with
    different bytes: exactly one creates it, every other one is told it exists, and the object
    holds the winner's bytes whole. (SeaweedFS serialises concurrent conditional PUTs of one
    key: some answers take a second or two.)"""
    lakes = [Lake(load()) for _ in range(6)]  # one s3fs client each
    for round_ in range(4):
        key = f"raw/src/ds/ingest_date={DAY}/race-{round_}.json"
        bodies = [f"writer {i} of round {round_}".encode() for i in range(len(lakes))]
        won = _race(
            [lambda lk=lk, b=b, k=key: lk.create(k, b) for lk, b in zip(lakes, bodies, strict=True)]
        )
        assert won.count(True) == 1, won
        assert lakes[0].read_bytes(key) == bodies[won.index(True)]


def test_concurrent_landing_of_the_same_response_lands_it_once(s3_env, seaweedfs):
    body = b'{"same": "bytes"}'
    lakes = [Lake(load()) for _ in range(6)]
    landed = _race(
        [
            lambda lk=lk, i=i: lk.put_raw("src", "ds", DAY, body, {"url": f"u{i}"})
            for i, lk in enumerate(lakes)
        ]
    )
    assert [r.created for r in landed].count(True) == 1
    assert len({r.key for r in landed}) == 1
    key = landed[0].key
    objects = _objects(seaweedfs["client"], s3_env)
    assert sorted(objects) == sorted([key, key[: -len(".json")] + ".meta.json"])
    assert lakes[0].read_bytes(key) == body
    assert lakes[0].raw_sidecar(key)["url"] in {f"u{i}" for i in range(6)}


def test_partition_listings_by_folder_on_s3(s3_env, seaweedfs):
    # the same answers through a delimiter LIST as through the local filesystem
    from tests.unit.test_lake import check_partition_listings

    check_partition_listings(Lake(load()))
