"""DAG import, structure and parse-time tests (no task runs here)."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NETWORK_TASKS = {
    "extract_coinmetrics",
    "extract_mempool_difficulty",
    "extract_prices",
    "extract_sec_company_tickers",
    "plan_sec_fetches",
    "extract_sec_company",
    "extract_production_updates",
    "extract_mempool_hashrate",
    "extract_mempool_pools",
}


@pytest.fixture(scope="module")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "minerwatch_daily" in dagbag.dag_ids


def test_tags_schedule_and_catchup(dagbag):
    dag = dagbag.get_dag("minerwatch_daily")
    assert {"minerwatch", "daily"} <= set(dag.tags)
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert "CronDataIntervalTimetable" in type(dag.timetable).__name__


def test_network_tasks_have_no_airflow_retries(dagbag):
    # one retry layer: the HTTP client (minerwatch.http); tests/unit/test_retry_policy.py
    dag = dagbag.get_dag("minerwatch_daily")
    for task_id in NETWORK_TASKS:
        assert dag.get_task(task_id).retries == 0, task_id


def test_structure(dagbag):
    dag = dagbag.get_dag("minerwatch_daily")
    up = {t.task_id: set(t.upstream_task_ids) for t in dag.tasks}
    assert up["stage_coinmetrics"] == {"extract_coinmetrics"}
    assert up["stage_mempool_difficulty"] == {"extract_mempool_difficulty"}
    assert up["dbt_build"] == {
        "stage_coinmetrics",
        "stage_mempool_difficulty",
        "stage_prices",
        "stage_sec",
        "stage_production_updates",
        "stage_mempool_hashrate",
        "stage_mempool_pools",
    }
    assert up["extract_production_updates"] == {"check_sec_ciks", "stage_sec"}
    assert dag.get_task("extract_production_updates").pool == "sec_api"
    assert up["extract_prices"] == {"price_tickers"}
    # which companies filed (EDGAR's daily index) is decided once, before any is fetched
    assert up["plan_sec_fetches"] == {"check_sec_ciks"}
    assert dag.get_task("plan_sec_fetches").pool == "sec_api"
    assert up["extract_sec_company"] == {"check_sec_ciks", "plan_sec_fetches"}
    assert dag.get_task("extract_sec_company").pool == "sec_api"
    assert dag.get_task("extract_sec_company_tickers").pool == "sec_api"
    assert up["audit_marts"] == {"dbt_build"}
    assert up["publish_marts"] == {"audit_marts"}
    assert up["headline"] == {"publish_marts"}
    assert up["monthly_report"] == {"publish_marts"}  # the report reads the published copy
    assert dag.get_task("publish_marts").pool == "minerwatch_warehouse"
    assert dag.get_task("dbt_build").pool == "minerwatch_warehouse"
    # on Celery, warehouse readers/writers go to the one worker that holds the DuckDB file
    assert dag.get_task("dbt_build").queue == "warehouse"
    assert dag.get_task("headline").queue == "warehouse"
    assert dag.get_task("monthly_report").queue == "warehouse"
    # a returned dict is one XCom, not one more per key (nothing reads those; 12 ms each)
    assert not [t.task_id for t in dag.tasks if getattr(t, "multiple_outputs", False)]
    outlets = {t.task_id: [a.uri for a in t.outlets] for t in dag.tasks}
    assert any("raw/coinmetrics" in u for u in outlets["extract_coinmetrics"])


def test_lineage_chain_raw_staged_warehouse_marts(dagbag):
    """Every task that reads what another task writes declares it as an inlet, so the asset graph
    (and OpenLineage, tests/integration/test_openlineage.py) links raw -> staged -> warehouse."""
    dag = dagbag.get_dag("minerwatch_daily")
    ins = {t.task_id: {a.uri for a in t.inlets} for t in dag.tasks}
    outs = {t.task_id: {a.uri for a in t.outlets} for t in dag.tasks}
    for task_id, inlets in ins.items():
        for upstream in dag.get_task(task_id).upstream_task_ids:
            if task_id.startswith("stage_") and upstream.startswith("extract_"):
                assert outs[upstream] <= inlets, (task_id, upstream)
    staged = {u for t, o in outs.items() if t.startswith("stage_") for u in o}
    assert staged and ins["dbt_build"] == staged
    assert ins["audit_marts"] == ins["publish_marts"] == outs["dbt_build"]


def test_dag_file_parses_fast_without_heavy_imports():
    # Airflow's own imports are loaded first (building any Asset makes Airflow load the providers'
    # asset-URI handlers, which import boto3 and requests); what the DAG file adds
    # on top of them must not include heavy modules, and running it must take well under 1 s.
    code = (
        "import sys, time, runpy\n"
        "from airflow.sdk import Asset, CronDataIntervalTimetable, dag, task\n"
        "Asset('warmup://x/y')\n"
        "before = set(sys.modules)\n"
        f"t = time.perf_counter(); runpy.run_path({str(REPO / 'dags' / 'minerwatch_daily.py')!r})\n"
        "print(time.perf_counter() - t)\n"
        "heavy = ('pandas', 'duckdb', 'great_expectations', 'requests', 'boto3', 'dbt', 'pyarrow')\n"
        "print(','.join(sorted({m.split('.')[0] for m in set(sys.modules) - before} & set(heavy))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    seconds, heavy = float(lines[-2]), lines[-1]
    assert seconds < 1.0
    assert heavy == "", f"DAG file imported heavy modules at parse time: {heavy}"


def test_parse_time_measured():
    start = time.perf_counter()
    from airflow.dag_processing.dagbag import DagBag

    DagBag(dag_folder=str(REPO / "dags"))
    assert time.perf_counter() - start < 10
