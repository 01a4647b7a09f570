"""`make bench` is not a timed test; here it only has to run (--quick) and write a well-formed result."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_bench_quick_writes_a_well_formed_result(airflow_db, env, tmp_path):
    out = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    (path,) = tmp_path.glob("*-quick.json")
    result = json.loads(path.read_text())
    stages = result["scales"]["1x"]["stages"]
    expected = {"extract", "landing", "validation", "dbt_parse", "dbt_build", "dbt_run", "floor",
                "audit", "publish", "report"}  # fmt: skip
    assert set(stages) == expected
    for name, stage in stages.items():
        assert stage["seconds"]["runs"] == 1, name
        assert 0 < stage["seconds"]["min"] <= stage["seconds"]["median"] <= stage["seconds"]["max"]
        assert 0 < stage["peak_rss_mib"] < 24 * 1024, name
    assert stages["validation"]["rows"] > 5000 and stages["validation"]["rows_per_s"] > 0
    assert stages["dbt_run"]["rows"] > 5000
    # the floor computes the same marts as dbt, from the same staged Parquet
    assert stages["floor"]["same_marts"] and all(stages["floor"]["same_marts"].values())
    assert result["scales"]["1x"]["dbt_run_to_floor"] > 0
    assert 0 < result["dag_file_parse_s"]["median"] < 5
    assert result["machine"]["cpus"] >= 1
