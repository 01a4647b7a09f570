"""Benchmark: the daily DAG offline on sample data, cold (empty lake, history since genesis) and
incremental (the next day), plus DAG parse time. Results go to bench/results/<date>.json.

    python bench/run.py [--runs N] [--quick]

Each measurement runs in a fresh process so imports and caches are counted as a user sees them.
This is the first harness (issue #2); per-stage timings, RSS and the SQL floor come with #7.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DAY = dt.date(2026, 11, 20)

RUN_ONE = """
import datetime as dt, os, sys, time
from minerwatch import sample
from minerwatch.replay import ReplayServer
from minerwatch.cli import run_dag
rec, day, days = sys.argv[1], dt.date.fromisoformat(sys.argv[2]), int(sys.argv[3])
with ReplayServer(rec) as server:
    os.environ.update(server.env())
    out = []
    for i in range(days):
        t = time.perf_counter()
        state = run_dag(day + dt.timedelta(days=i))
        out.append((state, time.perf_counter() - t))
print("RESULT", out)
"""


def _run(rec: Path, workdir: Path) -> tuple[float, float]:
    env = dict(os.environ)
    env.update(
        {
            "MINERWATCH_LAKE_URL": f"file://{workdir / 'lake'}",
            "MINERWATCH_WAREHOUSE": str(workdir / "warehouse.duckdb"),
        }
    )
    env.setdefault("AIRFLOW_HOME", str(REPO / ".airflow"))
    env.setdefault("MINERWATCH_SEC_USER_AGENT", "minerwatch bench bench@example.invalid")
    out = subprocess.run(
        [sys.executable, "-c", RUN_ONE, str(rec), DAY.isoformat(), "2"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("RESULT"))
    (cold_state, cold), (inc_state, inc) = eval(line[len("RESULT ") :])  # noqa: S307 - our own output
    assert cold_state.endswith("success") and inc_state.endswith("success"), line
    return cold, inc


def _parse_time() -> float:
    code = (
        "import time, runpy; from airflow.sdk import Asset; Asset('warmup://x/y'); "
        f"t=time.perf_counter(); runpy.run_path({str(REPO / 'dags' / 'minerwatch_daily.py')!r}); "
        "print(time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median_s": round(statistics.median(values), 3),
        "min_s": round(min(values), 3),
        "max_s": round(max(values), 3),
        "runs": len(values),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one run (what make test checks)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    sys.path.insert(0, str(REPO / "src"))
    from minerwatch import sample

    with tempfile.TemporaryDirectory(prefix="minerwatch-bench-") as tmp:
        tmp = Path(tmp)
        rec = sample.write_recording(tmp / "recording", DAY + dt.timedelta(days=1))
        cold, inc = [], []
        for i in range(runs):
            c, n = _run(rec, tmp / f"run{i}")
            cold.append(c)
            inc.append(n)
            print(f"run {i + 1}/{runs}: cold {c:.1f}s, incremental {n:.1f}s", flush=True)
    parse = [_parse_time() for _ in range(runs)]
    result = {
        "date": dt.date.today().isoformat(),
        "quick": args.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "dataset": f"sample data, genesis..{DAY} ({(DAY - dt.date(2009, 1, 3)).days + 1} days)",
        "dag_cold_full_history": summary(cold),
        "dag_daily_incremental": summary(inc),
        "dag_file_parse": summary(parse),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / (f"{result['date']}{'-quick' if args.quick else ''}.json")
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
