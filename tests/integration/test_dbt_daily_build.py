"""The daily dbt build does only what new data changes (issue #15): with the dbt project, the
lake and the staged datasets unchanged, the views and seeds are kept and unit tests (and the data
tests that read only seeds) skipped, the mart tables are rebuilt and every other data test runs —
and the marts are exactly what a full build
gives. Any change to the project rebuilds everything and runs the unit tests again."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pandas as pd
import pytest

from minerwatch import universe, warehouse
from minerwatch.errors import MinerwatchError
from minerwatch.lake import Lake
from minerwatch.pipeline import market, network, sec, staging
from minerwatch.publish import MARTS
from minerwatch.settings import load

pytestmark = pytest.mark.slow

DAY = dt.date(2024, 6, 28)


def marts_digest(path) -> dict[str, int]:
    """A hash of every row of every mart (order-independent)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            m: con.execute(f"select count(*), sum(hash(t)) from marts.{m} t").fetchone()
            for m in MARTS
        }
    finally:
        con.close()


def test_daily_build_keeps_views_and_gives_the_same_marts(env, replay, monkeypatch, tmp_path):
    monkeypatch.setenv("MINERWATCH_MIN_COVERAGE", "0")
    network.stage_coinmetrics(DAY, network.extract_coinmetrics(DAY))
    network.stage_mempool_difficulty(DAY, network.extract_mempool_difficulty(DAY))
    market.stage_prices(DAY, [market.extract_prices(DAY, t) for t in ("MARA", "BTC-USD")])
    monkeypatch.setenv("MINERWATCH_SEC_USER_AGENT", "minerwatch tests tests@example.invalid")
    sec.check_sec_ciks(DAY, sec.extract_sec_company_tickers(DAY))
    sec.stage_sec(DAY, [sec.extract_sec_company(DAY, "0001507605")])
    sec.stage_production_updates(DAY, [sec.extract_production_updates(DAY, "0001507605")])
    settings = load()

    first = warehouse.build()
    assert first["unit_tests"] == "ran" and first["views_and_seeds"] == "rebuilt"
    full = marts_digest(settings.warehouse)

    target = warehouse.dbt_state_dir(settings) / "target"
    manifest_bytes = (target / "manifest.json").read_bytes()
    second = warehouse.build()
    assert second["unit_tests"].startswith("skipped")
    assert second["views_and_seeds"].startswith("kept")
    assert marts_digest(settings.warehouse) == full
    # a kept build leaves the full build's manifest as it was and writes the day's run results
    assert (target / "manifest.json").read_bytes() == manifest_bytes
    run = json.loads((target / "run_results.json").read_text())
    assert (
        run["args"]["write_json"] is False
        and run["metadata"]["invocation_id"]
        != json.loads(manifest_bytes)["metadata"]["invocation_id"]
    )
    results = pd.Series(run)["results"]
    kinds = {r["unique_id"].split(".")[0] for r in results}
    built = {r["unique_id"].split(".")[-1] for r in results if r["unique_id"].startswith("model")}
    assert kinds == {"model", "test"}  # no unit test, no seed
    assert built == set(MARTS)  # the mart tables only; every data test ran beside them
    # every data test ran but those reading only seeds (in the fingerprint: they passed in the
    # first build and cannot change): the marts', the views' and the staged data's all ran
    manifest = json.loads(
        (warehouse.dbt_state_dir(settings) / "target" / "manifest.json").read_text()
    )
    tests = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "test"}
    seed_only = set(warehouse.seed_only_tests(warehouse.dbt_state_dir(settings) / "target"))
    ran = {r["unique_id"].split(".")[2] for r in results if r["unique_id"].startswith("test.")}
    assert seed_only and all("seed." in tests[t]["depends_on"]["nodes"][0] for t in seed_only)
    assert ran == set(tests) - seed_only and len(ran) >= 60
    assert second["seed_tests"].startswith(f"skipped ({len(seed_only)})")

    # a kept build whose data test fails: the run fails loudly, naming the test, and the run
    # results on disk are that run's (not the last good run's)
    lake = Lake(settings)
    bad = staging.write_coverage(
        lake, "market", DAY + dt.timedelta(days=1),
        [{"member": "MARA", "provider": "yahoo", "status": "bogus", "reason": "", "raw_key": ""}],
    )  # fmt: skip
    with pytest.raises(MinerwatchError, match="accepted_values_stg_market__coverage_status"):
        warehouse.build()
    failed = json.loads((target / "run_results.json").read_text())["results"]
    assert any(r["status"] in ("fail", "error") and "coverage_status" in r["unique_id"]
               for r in failed)  # fmt: skip
    lake.delete(bad)
    assert warehouse.build()["views_and_seeds"].startswith("kept")
    assert marts_digest(settings.warehouse) == full

    # a dataset staged for the first time changes what a staging view compiles to (it was
    # "empty with the same columns"): the next build recreates the views, and the mart has it
    before = warehouse.staged_datasets(settings)
    network.stage_mempool_hashrate(DAY, network.extract_mempool_hashrate(DAY))
    assert warehouse.staged_datasets(settings) == sorted([*before, "mempool/hashrate_daily"])
    assert warehouse.build()["views_and_seeds"] == "rebuilt"
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    mempool_days = con.execute(
        "select count(hashrate_ehs_mempool) from marts.fct_network_daily"
    ).fetchone()[0]
    con.close()
    assert mempool_days > 0
    full = marts_digest(settings.warehouse)  # the marts of these inputs from now on

    # a view missing from the warehouse (dropped by hand) is noticed
    target = warehouse.dbt_state_dir(settings) / "target"
    assert warehouse._views_present(settings, target)
    con = duckdb.connect(str(settings.warehouse))
    con.execute("drop view staging.stg_market__prices")
    con.close()
    assert not warehouse._views_present(settings, target)

    # an edited model: everything rebuilt, unit tests run again, same marts
    project = universe.copy_project(tmp_path / "project", universe.miners())
    model = next(project.rglob("fct_network_daily.sql"))
    model.write_text(model.read_text() + "\n-- edited\n")
    monkeypatch.setenv("MINERWATCH_DBT_PROJECT_DIR", str(project))
    third = warehouse.build()
    assert third["unit_tests"] == "ran" and third["views_and_seeds"] == "rebuilt"
    assert marts_digest(settings.warehouse) == full

    # a build that recreates views but does not finish whole (selective here; a failed one the
    # same) forgets the state: the next build is a full one, not a "kept" one on those views
    marker = warehouse.dbt_state_dir(settings) / "target" / warehouse.BUILD_STATE
    assert marker.exists()
    warehouse.build(select="stg_coinmetrics__network_days")
    assert not marker.exists()  # no state: the next build takes the full path (as the first)
