import datetime as dt
import json

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
