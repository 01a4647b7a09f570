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
    for key in ("dag_cold_full_history", "dag_daily_incremental", "dag_file_parse"):
        assert result[key]["runs"] == 1
        assert 0 < result[key]["min_s"] <= result[key]["median_s"] <= result[key]["max_s"]
    assert result["machine"]["cpus"] >= 1
