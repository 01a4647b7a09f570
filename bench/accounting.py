"""What a DAG run did, per source: requests made (counted at the replay server), raw bytes landed
(new write-once objects of the run's ingest day), and the work the incremental paths skipped (SEC
companyfacts and older pages, dbt unit tests, views and seeds); and the check that a warehouse
built by daily runs holds exactly the marts a full build of the same lake gives.

Runs inside the bench's DAG process (after ``run_dag``), with its settings in the environment.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import json
import tempfile
from pathlib import Path

from minerwatch import universe, warehouse
from minerwatch.lake import Lake
from minerwatch.settings import load

# a replay-server path -> the source it stands for (the live hosts differ; the paths do not)
# (named as the lake names the source: raw/<source>/...)
ROUTES = [
    ("/v4/", "coinmetrics"),
    ("/api/v1/mining/", "mempool"),
    ("/v8/finance/chart/", "yahoo"),
    ("/api/v3/", "fmp"),
    ("/files/company_tickers", "sec"),
    ("/submissions/", "sec"),
    ("/api/xbrl/companyfacts/", "sec"),
    ("/Archives/", "sec"),
]


def source_of(path: str) -> str:
    return next((source for prefix, source in ROUTES if path.startswith(prefix)), "other")


def sec_kind(path: str) -> str:
    if path.startswith("/Archives/edgar/daily-index/"):
        return "daily_index"
    if "companyfacts" in path:
        return "companyfacts"
    if "-submissions-" in path:
        return "older_pages"
    if "/submissions/" in path:
        return "submissions"
    return "archives" if path.startswith("/Archives/") else "company_tickers"


def run_work(requests: list[str], day: dt.date) -> dict:
    settings = load()
    lake = Lake(settings)
    out: dict = {}
    counts = collections.Counter(source_of(p) for p in requests)
    sec = collections.Counter(sec_kind(p) for p in requests if source_of(p) == "sec")
    # companies whose companyfacts were asked for (a retried request counts once)
    facts = {p for p in requests if sec_kind(p) == "companyfacts" and source_of(p) == "sec"}
    landed: dict[str, dict[str, int]] = collections.defaultdict(lambda: {"objects": 0, "bytes": 0})
    for key in lake.list("raw"):
        parts = key.split("/")
        if f"ingest_date={day.isoformat()}" in parts and not key.endswith(".meta.json"):
            landed[parts[1]]["objects"] += 1
            landed[parts[1]]["bytes"] += int(lake.fs.size(lake.path(key)))
    companies = len(universe.ciks(settings.history_start, day))
    for source in sorted(set(counts) | set(landed)):
        out[source] = {"requests": counts.get(source, 0), **landed.get(source, {})}
    submissions = {p for p in requests if sec_kind(p) == "submissions"}
    out.setdefault("sec", {})["skipped"] = {
        "companyfacts": companies - len(facts),
        "submissions": companies - len(submissions),
        "of_companies": companies,
        "requests_by_kind": dict(sec),
    }
    out["dbt"] = dbt_work(settings)
    return out


def dbt_work(settings) -> dict:
    """What the run's dbt build ran and skipped, by resource type (run_results vs manifest)."""
    target = warehouse.dbt_state_dir(settings) / "target"
    ran = json.loads((target / "run_results.json").read_text())["results"]
    manifest = json.loads((target / "manifest.json").read_text())
    every = collections.Counter()
    for node in [*manifest["nodes"].values(), *manifest.get("unit_tests", {}).values()]:
        kind = node["resource_type"]
        if kind == "model":
            kind = f"model:{node['config'].get('materialized')}"
        every[kind] += 1
    done = collections.Counter()
    for r in ran:
        kind = r["unique_id"].split(".")[0]
        if kind == "model":
            kind = f"model:{manifest['nodes'][r['unique_id']]['config'].get('materialized')}"
        done[kind] += 1
    return {
        kind: {"ran": done.get(kind, 0), "skipped": n - done.get(kind, 0)}
        for kind, n in sorted(every.items())
        if kind in ("model:view", "model:table", "seed", "test", "unit_test")
    }


def marts_digest(path: Path) -> dict[str, list]:
    import duckdb

    from minerwatch.publish import MARTS

    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            m: [
                int(v)
                for v in con.execute(f"select count(*), sum(hash(t)) from marts.{m} t").fetchone()
            ]
            for m in MARTS
        }
    finally:
        con.close()


def same_as_full_build() -> dict:
    """The daily runs' warehouse against a full ``dbt build`` of the same lake into a new one."""
    settings = load()
    daily = marts_digest(settings.warehouse)
    with tempfile.TemporaryDirectory(prefix="minerwatch-full-") as tmp:
        fresh = dataclasses.replace(settings, warehouse=Path(tmp) / settings.warehouse.name)
        warehouse.build(fresh)
        full = marts_digest(fresh.warehouse)
    return {
        "identical": daily == full,
        "marts": len(full),
        "rows": sum(v[0] for v in full.values()),
    }
