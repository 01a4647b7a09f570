import datetime as dt
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from minerwatch.lake import Lake, LakeKeyError, key_part
from minerwatch.settings import load


@pytest.fixture
def lake(env):
    return Lake(load())


@pytest.mark.parametrize(
    "bad", ["..", "../etc", "a/b", "", ".hidden", "x" * 200, "a\\b", "a b", "a..b", "%2e%2e"]
)
def test_unsafe_key_parts_are_refused(bad):
    with pytest.raises(LakeKeyError):
        key_part(bad)


def test_raw_is_write_once_under_the_content_hash(lake):
    first = lake.put_raw("src", "ds", dt.date(2024, 1, 2), b'{"a": 1}', {"url": "http://x"})
    again = lake.put_raw("src", "ds", dt.date(2024, 1, 2), b'{"a": 1}', {"url": "http://y"})
    assert first.created and not again.created
    assert first.key == again.key
    assert first.key.startswith("raw/src/ds/ingest_date=2024-01-02/")
    assert first.key.endswith(f"{first.sha256}.json")
    assert lake.read_bytes(first.key) == b'{"a": 1}'
    assert lake.raw_sidecar(first.key)["url"] == "http://x"  # the first fetch's sidecar is kept
    assert lake.raw_keys("src", "ds", "2024-01-02") == [first.key]


def test_a_different_body_lands_beside_without_touching_the_first(lake):
    a = lake.put_raw("src", "ds", "2024-01-02", b"[1]", {})
    b = lake.put_raw("src", "ds", "2024-01-02", b"[2]", {})
    assert a.key != b.key
    assert lake.read_bytes(a.key) == b"[1]"
    assert sorted(lake.raw_keys("src", "ds", "2024-01-02")) == sorted([a.key, b.key])


def test_path_traversal_in_a_key_value_is_refused(lake):
    with pytest.raises(LakeKeyError):
        lake.put_raw("../../etc", "ds", "2024-01-02", b"x", {})
    with pytest.raises(LakeKeyError):
        lake.put_raw("src", "ds", "2024-01-02/../..", b"x", {})


def test_staged_partition_is_replaced_whole(lake):
    df1 = pd.DataFrame({"date_day": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)], "v": [1.0, 2.0]})
    df2 = pd.DataFrame({"date_day": [dt.date(2024, 1, 1)], "v": [9.0]})
    key = lake.write_staged("src", "ds", "2024-01-02", df1)
    assert lake.write_staged("src", "ds", "2024-01-02", df2) == key
    back = lake.read_parquet(key)
    assert back["v"].tolist() == [9.0]
    assert [k for _, k in lake.staged_partitions("src", "ds")] == [key]


def test_same_frame_gives_the_same_parquet_bytes(lake):
    df = pd.DataFrame({"date_day": [dt.date(2024, 1, 1)], "v": [1.5]})
    k = lake.write_staged("src", "ds", "2024-01-01", df)
    b1 = lake.read_bytes(k)
    lake.write_staged("src", "ds", "2024-01-01", df.copy())
    assert lake.read_bytes(k) == b1


def test_quarantine_keeps_batch_and_result(lake):
    df = pd.DataFrame({"v": [-1.0]})
    prefix = lake.quarantine("src", "ds", "2024-01-01", df, {"success": False}, ["raw/k.json"])
    assert prefix.startswith("quarantine/src/ds/logical_date=2024-01-01/")
    assert json.loads(lake.read_bytes(f"{prefix}/validation_result.json")) == {"success": False}
    assert lake.read_parquet(f"{prefix}/batch.parquet")["v"].tolist() == [-1.0]


def _race(writers):
    """Run the callables at once (lined up on a barrier); return their results in order."""
    barrier = threading.Barrier(len(writers))

    def go(fn):
        barrier.wait()
        return fn()

    with ThreadPoolExecutor(len(writers)) as pool:
        return list(pool.map(go, writers))


def test_concurrent_creates_of_one_key_have_exactly_one_winner(lake):
    for round_ in range(5):
        key = f"raw/src/ds/ingest_date=2024-01-02/race-{round_}.json"
        bodies = [f"writer {i}".encode() for i in range(6)]
        won = _race([lambda b=b, k=key: lake.create(k, b) for b in bodies])
        assert won.count(True) == 1, won
        assert lake.read_bytes(key) == bodies[won.index(True)]  # the winner's bytes, whole
        assert lake.list("raw/src/ds") == sorted(lake.list("raw/src/ds"))  # no temp file left
        assert not any(".tmp-" in k for k in lake.list("raw"))


def test_a_refetch_never_replaces_the_sidecar(lake):
    first = lake.put_raw("src", "ds", "2024-01-02", b"[1]", {"url": "http://first"})
    lake.delete(first.key)  # as if a crash had left the sidecar without its body
    again = lake.put_raw("src", "ds", "2024-01-02", b"[1]", {"url": "http://second"})
    assert again.created and lake.read_bytes(again.key) == b"[1]"
    assert lake.raw_sidecar(again.key)["url"] == "http://first"  # write-once, as the body


class _FakeS3:
    """Stands in for s3fs: records calls, fails conditional PUTs as told."""

    def __init__(self, failures=()):
        self.failures = list(failures)
        self.calls = []

    def exists(self, path):  # pragma: no cover - must not be called for a write-once put
        raise AssertionError("write-once on S3 must not check then put")

    def pipe_file(self, path, data, mode="overwrite"):
        self.calls.append((path, data, mode))
        if self.failures:
            raise self.failures.pop(0)


def _s3_error(code: str, status: int, condition: str | None = None):
    """The exception s3fs raises for a failed PUT (translated from botocore's ClientError)."""
    from botocore.exceptions import ClientError
    from s3fs.errors import translate_boto_error

    error = {"Code": code, "Message": "At least one of the pre-conditions did not hold"}
    if condition:
        error["Condition"] = condition
    return translate_boto_error(
        ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject")
    )


def _s3_lake(lake, fake):
    lake.local, lake.fs, lake.root = False, fake, "s3://bucket/lake"
    return lake


def test_s3_write_once_is_a_conditional_put_not_check_then_put(lake):
    fake = _FakeS3()
    assert _s3_lake(lake, fake).create("raw/a.json", b"x") is True
    assert fake.calls == [("s3://bucket/lake/raw/a.json", b"x", "create")]  # If-None-Match: *
    lake.replace("staged/b.parquet", b"y")
    assert fake.calls[-1][2] == "overwrite"


@pytest.mark.parametrize(
    "error",
    [
        # SeaweedFS: 412 PreconditionFailed without naming the condition -> s3fs OSError(EINVAL)
        lambda: _s3_error("PreconditionFailed", 412),
        # AWS names it: s3fs raises FileExistsError
        lambda: _s3_error("PreconditionFailed", 412, condition="If-None-Match"),
    ],
    ids=["seaweedfs-412", "aws-412"],
)
def test_s3_create_of_an_existing_key_is_not_created(lake, error):
    fake = _FakeS3([error()])
    assert _s3_lake(lake, fake).create("raw/a.json", b"x") is False
    assert len(fake.calls) == 1


def test_s3_create_retries_a_conditional_conflict_then_meets_the_winner(lake, monkeypatch):
    monkeypatch.setattr("minerwatch.lake.time.sleep", lambda s: None)
    conflict = _s3_error("ConditionalRequestConflict", 409)
    fake = _FakeS3([conflict, _s3_error("PreconditionFailed", 412)])
    assert _s3_lake(lake, fake).create("raw/a.json", b"x") is False
    assert [c[2] for c in fake.calls] == ["create", "create"]


def test_s3_create_raises_other_errors(lake):
    fake = _FakeS3([_s3_error("AccessDenied", 403)])
    with pytest.raises(PermissionError):
        _s3_lake(lake, fake).create("raw/a.json", b"x")


def _two_datasets(lake):
    df = pd.DataFrame({"a": [1]})
    for day in (dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 5)):
        lake.write_staged("market", "prices_daily", day, df, {"ticker": "MARA"})
        lake.write_staged("market", "prices_daily", day, df, {"ticker": "RIOT"})
    lake.write_staged("coinmetrics", "btc_asset_metrics", dt.date(2024, 1, 4), df)


def check_partition_listings(lake):
    """The folder listings answer what a listing of every staged key answers."""
    _two_datasets(lake)
    every = lake.staged_partitions()
    assert lake.staged_datasets() == [
        ("coinmetrics", "btc_asset_metrics"),
        ("market", "prices_daily"),
    ]
    assert lake.partition_dates("market", "prices_daily") == [
        dt.date(2024, 1, 2),
        dt.date(2024, 1, 3),
        dt.date(2024, 1, 5),
    ]
    assert lake.partition_dates("market", "nothing_here") == []
    wanted = [dt.date(2024, 1, 5), dt.date(2024, 1, 2)]
    assert lake.staged_partitions("market", "prices_daily", dates=wanted) == [
        (d, k) for d, k in every if "prices_daily" in k and d in wanted
    ]
    assert lake.newest_partition_date("market", "prices_daily") == dt.date(2024, 1, 5)
    assert lake.newest_partition_date(
        "market", "prices_daily", through=dt.date(2024, 1, 4)
    ) == dt.date(2024, 1, 3)
    assert lake.newest_partition_date("market", "prices_daily", through=dt.date(2024, 1, 1)) is None
    with pytest.raises(ValueError, match="source and dataset"):
        lake.staged_partitions(dates=wanted)


def test_partition_listings_by_folder(lake):
    check_partition_listings(lake)


def test_a_date_folder_without_a_file_is_not_a_partition(lake):
    _two_datasets(lake)
    # a write that did not finish: the folder is there, no data.parquet (a temp file at most)
    folder = lake.path("staged/market/prices_daily/logical_date=2024-01-09/ticker=MARA")
    os.makedirs(folder)
    open(os.path.join(folder, ".tmp-0123"), "wb").close()
    assert dt.date(2024, 1, 9) in lake.partition_dates("market", "prices_daily")
    assert lake.newest_partition_date("market", "prices_daily") == dt.date(2024, 1, 5)
