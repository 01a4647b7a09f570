"""The benchmark (issue #7). Generates a replay dataset, serves it through the replay server and
measures, over N runs each (median and spread):

- the whole daily DAG cold on an empty lake (full network history since 2009) and a daily
  incremental run (the next day), with ``dag.test()`` in a fresh process as ``make demo`` runs;
- per stage (each in its own process: wall time, peak RSS of the process and its children, rows
  and rows/s): extract, landing (the lake writes alone), validation, dbt parse, dbt build (what
  the DAG runs), dbt run (models only), the floor (the models' SQL as one DuckDB script on the
  same staged Parquet), audit, publish, report;
- the DAG file's parse time;
- at 1x (the 14 miners) and 10x (ten times the tickers: the seed copied with 126 more sample
  companies into a copy of the dbt project).

    python bench/run.py [--runs N] [--quick] [--scales 1,10] [--out DIR]

Writes ``bench/results/<date>.json`` (``<date>-2.json``… for another run the same day;
``<date>-quick.json`` with --quick, replaced each time). bench/README.md has
the figures and the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DAY = dt.date(2024, 6, 28)  # the cold run's day (a Friday, the month's last trading day)
NEXT = DAY + dt.timedelta(days=1)  # the incremental run's day; the recording covers both
TARGETS = {
    "daily_incremental_s": 60,
    "full_history_s": 300,
    "dbt_to_floor_ratio": 3.0,
    "dag_parse_s": 0.3,
    "peak_rss_mib": 1536,
    "scale_10x_time_ratio": 2.0,
}
STAGES = [
    "extract",
    "validation",
    "extract_production",
    "validation_production",
    "landing",
    "dbt_parse",
    "dbt_build",
    "dbt_run",
    "floor",
    "audit",
    "publish",
    "report",
]
# what the summary calls a stage: the DAG's production discovery runs after stage_sec, so its
# extract and validation are measured apart and added to "extract" and "validation"
REPORTED = {
    "extract": ["extract", "extract_production"],
    "landing": ["landing"],
    "validation": ["validation", "validation_production"],
    "dbt_parse": ["dbt_parse"],
    "dbt_build": ["dbt_build"],
    "dbt_run": ["dbt_run"],
    "floor": ["floor"],
    "audit": ["audit"],
    "publish": ["publish"],
    "report": ["report"],
}

# The slowest stage was extract, bound by SEC's 10 requests/s: one process could only use
# 10 / SEC_POOL_SLOTS = 5 requests/s, so a lone task (dag.test, or one mapped task at a time)
# ran at half the allowed rate. Now all processes on a machine share one 10/s budget through a
# locked state file (MINERWATCH_SEC_RATE_SCOPE=machine); "slot" is the old way, kept for
# workers on several machines. Measured in the same run: extract under each.
BEFORE = {
    "stage": "extract",
    "change": "SEC rate limit shared by every process on the machine (10 req/s) instead of a "
    "fixed per-process share (5 req/s): MINERWATCH_SEC_RATE_SCOPE=machine vs slot",
    "env": {"MINERWATCH_SEC_RATE_SCOPE": "slot"},
    "stages": ["extract", "validation", "extract_production"],
}

DAG_RUNS = """
import datetime as dt, json, os, sys, time
from minerwatch.demo.replay import ReplayServer
from minerwatch.cli import run_dag
sys.path.insert(0, os.path.join(os.environ["MINERWATCH_BENCH_DIR"]))
import accounting
rec, day, days = sys.argv[1], dt.date.fromisoformat(sys.argv[2]), int(sys.argv[3])
with ReplayServer(rec) as server:
    os.environ.update(server.env())
    out, work = [], []
    for i in range(days):
        seen = len(server.requests)
        t = time.perf_counter()
        state = run_dag(day + dt.timedelta(days=i))
        out.append((state, time.perf_counter() - t))
        work.append(accounting.run_work(server.requests[seen:], day + dt.timedelta(days=i)))
print("RESULT", out)
print("WORK " + json.dumps(work))
print("SAME " + json.dumps(accounting.same_as_full_build()))
"""

STAGE_SERVER = """
import json, os, sys, time
from minerwatch.demo.replay import ReplayServer
with ReplayServer(sys.argv[1]) as server:
    print(json.dumps(server.env()), flush=True)
    sys.stdin.read()
"""


FRESH = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
sys.stdout.write(p.stdout)
sys.stderr.write(p.stderr)
print("MEASURE " + json.dumps({"seconds": seconds, "rss_mib": rss, "rc": p.returncode}))
sys.exit(p.returncode)
"""


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MiB, the process tree's largest member) of ``cmd``, measured
    by a fresh helper process so earlier commands do not count."""
    proc = subprocess.run(
        [sys.executable, "-c", FRESH, *cmd], env=env, capture_output=True, text=True
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("MEASURE ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed:\n{proc.stderr[-3000:]}")
    m = json.loads(line[len("MEASURE ") :])
    return m["seconds"], m["rss_mib"], proc.stdout


def _env(workdir: Path, project: Path | None, extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    workdir.mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "MINERWATCH_SEC_RATE_STATE": str(workdir / "sec-rate.state"),
            "MINERWATCH_LAKE_URL": f"file://{workdir / 'lake'}",
            "MINERWATCH_WAREHOUSE": str(workdir / "warehouse.duckdb"),
            "MINERWATCH_SEC_USER_AGENT": "minerwatch bench bench@example.invalid",
            "PYTHONPATH": str(REPO / "src"),
            "MINERWATCH_BENCH_DIR": str(REPO / "bench"),
        }
    )
    env.setdefault("AIRFLOW_HOME", str(REPO / ".airflow"))
    if project:
        env["MINERWATCH_DBT_PROJECT_DIR"] = str(project)
    env.update(extra)
    return env


def run_dag_cold_and_incremental(rec: Path, workdir: Path, env_extra, project) -> dict:
    env = _env(workdir, project, env_extra)
    seconds, rss, out = measure(
        [sys.executable, "-c", DAG_RUNS, str(rec), DAY.isoformat(), "2"], env
    )
    line = next(ln for ln in out.splitlines() if ln.startswith("RESULT"))
    (cold_state, cold), (inc_state, inc) = eval(line[len("RESULT ") :])  # noqa: S307 - ours
    if not (cold_state.endswith("success") and inc_state.endswith("success")):
        raise RuntimeError(f"DAG runs did not succeed: {line}")
    work = json.loads(next(ln for ln in out.splitlines() if ln.startswith("WORK "))[5:])
    same = json.loads(next(ln for ln in out.splitlines() if ln.startswith("SAME "))[5:])
    if not same["identical"]:
        raise RuntimeError(f"the incremental warehouse differs from a full build: {same}")
    return {
        "cold_s": cold,
        "incremental_s": inc,
        "peak_rss_mib": rss,
        "cold_work": work[0],
        "incremental_work": work[1],
        "same_as_full_build": same,
    }


def run_stages(
    rec: Path, workdir: Path, env_extra, project, stages: list[str] | None = None
) -> dict:
    """Every stage once, in order, on a cold lake; each stage in its own measured process."""
    server = subprocess.Popen(
        [sys.executable, "-c", STAGE_SERVER, str(rec)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=_env(workdir, project, env_extra),
    )
    try:
        server_env = json.loads(server.stdout.readline())
        env = _env(workdir, project, {**env_extra, **server_env})
        out = {}
        for stage in stages or STAGES:
            seconds, rss, stdout = measure(
                [
                    sys.executable,
                    str(REPO / "bench" / "stage.py"),
                    stage,
                    str(workdir),
                    DAY.isoformat(),
                ],
                env,
            )
            line = next(ln for ln in stdout.splitlines() if ln.startswith("STAGE "))
            out[stage] = {"seconds": seconds, "peak_rss_mib": rss, **json.loads(line[6:])}
        return out
    finally:
        server.stdin.close()
        server.wait(timeout=30)


def parse_time() -> float:
    code = (
        "import time, runpy; from airflow.sdk import Asset; Asset('warmup://x/y'); "
        f"t=time.perf_counter(); runpy.run_path({str(REPO / 'dags' / 'minerwatch_daily.py')!r}); "
        "print(time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def spread(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
        "runs": len(values),
    }


def miners_of(seed: Path) -> list[dict[str, str]]:
    from minerwatch import universe

    return universe.miners(seed)


def scaled_project(tmp: Path, factor: int) -> Path:
    """A copy of the dbt project whose miners seed has ``factor`` times the companies: the 14
    reviewed rows plus sample companies (tickers S001.., CIKs 0009000001..), labelled SAMPLE."""
    from minerwatch import universe

    base = universe.miners(REPO / "dbt_project" / "seeds" / "miners.csv")
    latest = list({m["ticker"]: m for m in base}.values())  # one template row per ticker
    extra = [
        {
            **latest[i % len(latest)],
            "ticker": f"S{i + 1:03d}",
            "cik": f"{9000001 + i:010d}",
            "company_name": f"Sample Miner {i + 1} (SAMPLE)",
            "member_to": "",
        }
        for i in range(len(latest) * (factor - 1))
    ]
    return universe.copy_project(tmp / f"dbt_project_{factor}x", base + extra)


def write_recording(tmp: Path, project: Path | None) -> Path:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    if project:
        env["MINERWATCH_DBT_PROJECT_DIR"] = str(project)
    rec = tmp / f"recording_{project.name if project else '1x'}"
    code = (
        "import sys, datetime as dt; from pathlib import Path; from minerwatch.demo import sample; "
        "sample.write_recording(Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(rec), (NEXT + dt.timedelta(days=1)).isoformat()],
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"writing the sample recording failed:\n{proc.stderr[-3000:]}")
    return rec


def summarise_stages(stage_runs: list[dict]) -> dict:
    out = {}
    for name, parts in REPORTED.items():
        secs = [sum(run[p]["seconds"] for p in parts) for run in stage_runs]
        rss = [max(run[p]["peak_rss_mib"] for p in parts) for run in stage_runs]
        # rows each stage handles: what validation staged (extract/landing feed it) or the
        # rows of the marts (dbt and after)
        basis = REPORTED["validation"] if name in ("extract", "landing", "validation") else parts
        rows = max(sum(run[p].get("rows", 0) or 0 for p in basis) for run in stage_runs)
        entry = {
            "seconds": spread(secs),
            "peak_rss_mib": round(max(rss), 1),
            "rows": rows,
            "rows_per_s": round(rows / statistics.median(secs), 1) if rows else None,
        }
        extra = {
            k: v
            for k, v in stage_runs[-1][parts[-1]].items()
            if k not in ("seconds", "peak_rss_mib", "rows")
        }
        if len(parts) > 1:
            entry["parts_seconds"] = {
                p: spread([run[p]["seconds"] for run in stage_runs]) for p in parts
            }
        if name == "floor":
            entry["script_seconds"] = spread([run["floor"]["script_seconds"] for run in stage_runs])
        entry.update({k: v for k, v in extra.items() if k != "script_seconds"})
        out[name] = entry
    return out


def markdown(result: dict) -> str:
    """The figures against the targets, as the table in bench/README.md."""
    t = result["targets"]
    lines = ["| figure | 1× | 10× | target |", "|---|---|---|---|"]

    def med(scale, *path):
        node = result["scales"].get(scale)
        for p in path:
            node = node.get(p) if isinstance(node, dict) else None
        return node["median"] if isinstance(node, dict) and "median" in node else node

    def cell(v, fmt="{:.1f} s"):
        return "—" if v is None else fmt.format(v)

    rows = [
        (
            "full DAG, cold (history since 2009)",
            ("dag_cold_full_history_s",),
            f"≤ {t['full_history_s']} s",
        ),
        (
            "daily incremental DAG run",
            ("dag_daily_incremental_s",),
            f"≤ {t['daily_incremental_s']} s",
        ),
    ]
    for label, path, target in rows:
        lines.append(
            f"| {label} | {cell(med('1x', *path))} | {cell(med('10x', *path))} | {target} |"
        )
    for name in REPORTED:
        one = result["scales"].get("1x", {}).get("stages", {}).get(name)
        ten = result["scales"].get("10x", {}).get("stages", {}).get(name)

        def stage_cell(st):
            if not st:
                return "—"
            rate = f", {st['rows_per_s']:,.0f} rows/s" if st.get("rows_per_s") else ""
            return f"{st['seconds']['median']:.2f} s ({st['seconds']['min']:.2f}–{st['seconds']['max']:.2f}), {st['peak_rss_mib']:.0f} MiB{rate}"

        lines.append(
            f"| stage: {name} | {stage_cell(one)} | {stage_cell(ten)} | RSS ≤ {t['peak_rss_mib']} MiB |"
        )
    for scale in ("1x", "10x"):
        if scale in result["scales"]:
            sc = result["scales"][scale]
            lines.append(
                f"| dbt run / floor ({scale}) | {sc['dbt_run_to_floor']}× (process), "
                f"{sc['dbt_run_to_floor_script']}× (script) | | ≤ {t['dbt_to_floor_ratio']}× |"
            )
    lines.append(
        f"| DAG file parse | {cell(result['dag_file_parse_s']['median'], '{:.3f} s')} | | ≤ {t['dag_parse_s']} s |"
    )
    if "scale_10x_time_ratio" in result:
        r = result["scale_10x_time_ratio"]
        lines.append(
            f"| 10× / 1× time | cold {r['cold']}×, incremental {r['incremental']}× | | ≤ {t['scale_10x_time_ratio']}× |"
        )
    if "improvement" in result:
        imp = result["improvement"]
        lines.append(
            f"| {imp['stage']}: before → after | {imp['before_s']['median']:.1f} s → "
            f"{imp['after_s']['median']:.1f} s | | faster |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one run at 1x (make test)")
    parser.add_argument("--scales", default="1,10")
    parser.add_argument(
        "--runs-10x", type=int, default=None, help="runs at 10x (default: --runs; ~12 min each)"
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    scales = [1] if args.quick else [int(s) for s in args.scales.split(",")]
    result: dict = {
        "date": dt.date.today().isoformat(),
        "quick": args.quick,
        "runs": {"1x": runs, "10x": args.runs_10x or runs},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "memory_gib": round(
                os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
            ),
        },
        "dataset": {
            "kind": "SAMPLE data (src/minerwatch/demo/sample.py) served by the replay server",
            "network_days": (NEXT - dt.date(2009, 1, 3)).days + 1,
            "market_history": "2020-01-01 (MINERWATCH_HISTORY_START) to the run day",
            "cold_day": DAY.isoformat(),
            "incremental_day": NEXT.isoformat(),
        },
        "targets": TARGETS,
        "scales": {},
    }
    with tempfile.TemporaryDirectory(prefix="minerwatch-bench-") as tmp:
        tmp = Path(tmp)
        for factor in scales:
            project = scaled_project(tmp, factor) if factor > 1 else None
            rec = write_recording(tmp, project)
            dag, stages, before = [], [], []
            scale_runs = args.runs_10x if factor > 1 and args.runs_10x else runs
            for i in range(scale_runs):
                if not args.quick:  # --quick (make test): the stages only, once
                    work = tmp / f"{factor}x-dag-{i}"
                    dag.append(run_dag_cold_and_incremental(rec, work, {}, project))
                    shutil.rmtree(work, ignore_errors=True)
                work = tmp / f"{factor}x-stages-{i}"
                stages.append(run_stages(rec, work, {}, project))
                shutil.rmtree(work, ignore_errors=True)
                if factor == 1 and not args.quick:
                    # the slowest stage before the change, in the same run (BEFORE below)
                    work = tmp / f"{factor}x-before-{i}"
                    before.append(run_stages(rec, work, BEFORE["env"], project, BEFORE["stages"]))
                    shutil.rmtree(work, ignore_errors=True)
                dag_line = (
                    f"cold {dag[-1]['cold_s']:.1f}s, incremental {dag[-1]['incremental_s']:.1f}s, "
                    if dag
                    else ""
                )
                print(
                    f"{factor}x run {i + 1}/{scale_runs}: {dag_line}stages "
                    + ", ".join(f"{k} {v['seconds']:.1f}s" for k, v in stages[-1].items()),
                    flush=True,
                )
            seed = (project or REPO / "dbt_project").joinpath("seeds", "miners.csv")
            miners = len({m["ticker"] for m in miners_of(seed)})
            summary = summarise_stages(stages)
            result["scales"][f"{factor}x"] = {
                "miners": miners,
                "stages": summary,
                "dbt_run_to_floor": round(
                    summary["dbt_run"]["seconds"]["median"] / summary["floor"]["seconds"]["median"],
                    2,
                ),
                "dbt_run_to_floor_script": round(
                    summary["dbt_run"]["seconds"]["median"]
                    / max(summary["floor"]["script_seconds"]["median"], 1e-9),
                    2,
                ),
            }
            if before:
                parts = REPORTED[BEFORE["stage"]]
                result["improvement"] = {
                    "stage": BEFORE["stage"],
                    "change": BEFORE["change"],
                    "before_s": spread([sum(b[p]["seconds"] for p in parts) for b in before]),
                    "after_s": spread([sum(r[p]["seconds"] for p in parts) for r in stages]),
                }
            if dag:
                result["scales"][f"{factor}x"].update(
                    {
                        "dag_cold_full_history_s": spread([d["cold_s"] for d in dag]),
                        "dag_daily_incremental_s": spread([d["incremental_s"] for d in dag]),
                        "dag_process_peak_rss_mib": round(max(d["peak_rss_mib"] for d in dag), 1),
                        # what the runs did (the last run's; the same inputs give the same work)
                        "cold_work": dag[-1]["cold_work"],
                        "incremental_work": dag[-1]["incremental_work"],
                        "incremental_same_as_full_build": dag[-1]["same_as_full_build"],
                    }
                )
    result["dag_file_parse_s"] = spread([parse_time() for _ in range(max(runs, 5))])
    if "10x" in result["scales"]:
        one, ten = result["scales"]["1x"], result["scales"]["10x"]
        result["scale_10x_time_ratio"] = {
            "cold": round(
                ten["dag_cold_full_history_s"]["median"] / one["dag_cold_full_history_s"]["median"],
                2,
            ),
            "incremental": round(
                ten["dag_daily_incremental_s"]["median"] / one["dag_daily_incremental_s"]["median"],
                2,
            ),
        }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{result['date']}{'-quick' if args.quick else ''}.json"
    n = 2
    while path.exists() and not args.quick:  # a second run the same day keeps the first
        path = args.out / f"{result['date']}-{n}.json"
        n += 1
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(markdown(result))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
