"""One stage of the pipeline, run in its own process by bench/run.py so that its wall time and
peak RSS are its own. The stages call the same functions as the DAG's tasks, in the DAG's order,
passing along what the DAG passes in XCom (kept in ``<workdir>/flow.json``).

    python bench/stage.py <stage> <workdir> <YYYY-MM-DD>

Prints one line ``STAGE {"rows": N, ...}``. Settings (lake, warehouse, source URLs) come from
the environment as for the DAG.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path


def _flow(workdir: Path) -> dict:
    path = workdir / "flow.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _save(workdir: Path, flow: dict) -> None:
    (workdir / "flow.json").write_text(json.dumps(flow))


def _staged_rows(lake, prefixes) -> int:
    import pyarrow.parquet as pq

    rows = 0
    for prefix in prefixes:
        for key in lake.list(prefix):
            if key.endswith(".parquet"):
                with lake.fs.open(lake.path(key), "rb") as fh:
                    rows += pq.ParquetFile(fh).metadata.num_rows
    return rows


def _mart_rows(path) -> int:
    import duckdb

    from minerwatch.publish import MARTS

    con = duckdb.connect(str(path), read_only=True)
    try:
        return sum(con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in MARTS)
    finally:
        con.close()


def _topological(nodes: dict) -> list[str]:
    done: list[str] = []
    seen: set[str] = set()

    def visit(uid: str) -> None:
        if uid in seen or uid not in nodes:
            return
        seen.add(uid)
        for dep in nodes[uid].get("depends_on", {}).get("nodes", []):
            visit(dep)
        done.append(uid)

    for uid in sorted(nodes):
        visit(uid)
    return done


def floor(settings, workdir: Path) -> dict:
    """The transform's floor: the models' own SQL (as dbt compiled it in this run's build) run
    as one DuckDB script on the same staged Parquet, with the same DuckDB settings — no dbt
    process, parsing, templating, materialisation dance, documentation or tests. Checks that it
    computes the same marts."""
    import time

    import duckdb

    from minerwatch.publish import MARTS, _select
    from minerwatch.warehouse import dbt_state_dir

    manifest = json.loads((dbt_state_dir(settings) / "target" / "manifest.json").read_text())
    nodes = {
        uid: n
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] in ("model", "seed") and n["config"].get("enabled", True)
    }
    target = workdir / "floor" / settings.warehouse.name  # same catalog name as the warehouse
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    con.execute("set threads = 1")  # as the dbt profile
    # seeds are lookups loaded by dbt seed; copied here, outside the timing
    con.execute(f"attach '{settings.warehouse}' as built (read_only)")
    for uid in _topological(nodes):
        n = nodes[uid]
        if n["resource_type"] == "seed":
            con.execute(f'create schema if not exists "{n["schema"]}"')
            con.execute(
                f'create table "{n["schema"]}"."{n["alias"]}" as '
                f'select * from built."{n["schema"]}"."{n["alias"]}"'
            )
    con.execute("detach built")
    script = []
    for uid in _topological(nodes):
        n = nodes[uid]
        if n["resource_type"] != "model":
            continue
        kind = "view" if n["config"]["materialized"] == "view" else "table"
        script.append(f'create schema if not exists "{n["schema"]}"')
        script.append(f"create or replace {kind} {n['relation_name']} as\n{n['compiled_code']}")
    sql = ";\n".join(script) + ";\n"
    (workdir / "floor" / "floor.sql").write_text(sql)
    started = time.perf_counter()
    con.execute(sql)
    seconds = time.perf_counter() - started
    # the same marts? compare every mart, ordered, with what dbt built
    con.execute(f"attach '{settings.warehouse}' as built (read_only)")
    same = {}
    for table in MARTS:
        query = _select(table)
        digest = "select count(*), sum(hash(t::varchar)::hugeint) from ({}) t"
        mine = con.execute(digest.format(query)).fetchone()
        theirs = con.execute(digest.format(query.replace("marts.", "built.marts."))).fetchone()
        same[table] = mine == theirs
    con.close()
    return {"script_seconds": round(seconds, 3), "models": len(script) // 2, "same_marts": same}


def run(stage: str, workdir: Path, day: dt.date) -> dict:
    from minerwatch import universe
    from minerwatch.lake import Lake
    from minerwatch.pipeline import market, network, sec
    from minerwatch.settings import load

    settings = load()
    lake = Lake(settings)
    flow = _flow(workdir)
    out: dict = {}
    if stage == "extract":  # network, prices, SEC company data: fetched and landed raw
        flow["cm"] = network.extract_coinmetrics(day)
        flow["mp"] = network.extract_mempool_difficulty(day)
        flow["prices"] = [market.extract_prices(day, t) for t in universe.price_tickers()]
        tickers_key = sec.extract_sec_company_tickers(day)
        flow["ciks"] = [c["seed_cik"] for c in sec.check_sec_ciks(day, tickers_key)]
        flow["sec"] = [sec.extract_sec_company(day, c) for c in flow["ciks"]]
    elif stage == "validation":  # GX suites, typed Parquet (or quarantine)
        network.stage_coinmetrics(day, flow["cm"])
        network.stage_mempool_difficulty(day, flow["mp"])
        market.stage_prices(day, flow["prices"])
        sec.stage_sec(day, flow["sec"])
    elif stage == "extract_production":  # discovery reads the filings staged_sec wrote
        flow["production"] = [sec.extract_production_updates(day, c) for c in flow["ciks"]]
    elif stage == "validation_production":
        sec.stage_production_updates(day, flow["production"])
    elif stage == "landing":  # the lake writes alone: every raw object re-landed in a new lake
        import dataclasses

        target = Lake(dataclasses.replace(settings, lake_url=f"file://{workdir / 'relanded'}"))
        n = 0
        for key in lake.list("raw"):
            if key.endswith(".meta.json"):
                continue
            meta = json.loads(lake.read_bytes(key[: -len(".json")] + ".meta.json"))
            parts = key.split("/")
            target.put_raw(parts[1], parts[2], day, lake.read_bytes(key), meta)
            n += 1
        out["objects"] = n
    elif stage in ("dbt_parse", "dbt_run", "dbt_build"):
        from minerwatch import warehouse

        args = {
            "dbt_parse": ["parse", "--no-partial-parse"],
            "dbt_run": ["run"],
            "dbt_build": ["build", "--fail-fast"],
        }[stage]
        warehouse.run_dbt(args, settings)
    elif stage == "floor":
        out.update(floor(settings, workdir))
    elif stage == "audit":
        from minerwatch import publish

        publish.audit(day, settings)
    elif stage == "publish":
        from minerwatch import publish

        publish.publish(day, settings)
    elif stage == "report":
        from minerwatch import report

        report.build(day, settings)
    else:
        raise SystemExit(f"unknown stage {stage!r}")
    _save(workdir, flow)
    if stage == "validation":
        out["rows"] = _staged_rows(lake, ["staged/coinmetrics", "staged/mempool", "staged/market"])
    elif stage == "validation_production":
        out["rows"] = _staged_rows(lake, ["staged/sec"])
    elif stage != "dbt_parse" and settings.warehouse.exists():
        out["rows"] = _mart_rows(settings.warehouse)
    return out


if __name__ == "__main__":
    stage_name, work, date = sys.argv[1], Path(sys.argv[2]), dt.date.fromisoformat(sys.argv[3])
    result = run(stage_name, work, date)
    print("STAGE " + json.dumps(result))
