"""OpenLineage switched on (docs/settings.md, "Lineage and OpenLineage"): a one-task DAG whose
inlet and outlet are the daily DAG's own lake Assets runs with `dag.test()`, and the events the
provider writes through a FILE transport name those lake datasets.

The provider reads its configuration once per process (`airflow.providers.openlineage.conf` caches
it, the plugin registers its listener at import), so the run happens in a subprocess with the
environment switched on; this process keeps lineage off like the rest of the suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest

from minerwatch.settings import REPO_ROOT

pytestmark = pytest.mark.slow  # a real dag.test() run in a fresh interpreter

DAG_ID = "minerwatch_openlineage_test"
TASK_ID = "stage_coinmetrics"
NAMESPACE = "minerwatch-test"

# the daily DAG's Asset objects, imported (not re-typed): their URIs follow MINERWATCH_LAKE_URL
LINEAGE_DAG = f"""
import datetime as dt

from airflow.sdk import dag, task

from minerwatch_daily import RAW_COINMETRICS, STAGED_COINMETRICS


@dag(dag_id={DAG_ID!r}, schedule=None, start_date=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
def lineage():
    @task(inlets=[RAW_COINMETRICS], outlets=[STAGED_COINMETRICS])
    def {TASK_ID}():
        return None

    {TASK_ID}()


lineage()
"""

RUN = f"""
import datetime as dt, json, sys

from airflow.dag_processing.dagbag import DagBag

from minerwatch_daily import RAW_COINMETRICS, STAGED_COINMETRICS

dag = DagBag(dag_folder=sys.argv[1]).get_dag({DAG_ID!r})
task = dag.get_task({TASK_ID!r})
run = dag.test(logical_date=dt.datetime(2025, 1, 10, tzinfo=dt.UTC))
print("RESULT " + json.dumps({{
    "state": str(run.state),
    "inlets": [a.uri for a in task.inlets],
    "outlets": [a.uri for a in task.outlets],
    "raw": RAW_COINMETRICS.uri,
    "staged": STAGED_COINMETRICS.uri,
}}))
"""


def _events(path, want: int, timeout: float = 15.0) -> list[dict]:
    """The events in the JSON-lines file; the listener emits task events from a forked child,
    so wait (briefly) until `want` task events are there."""
    deadline = time.monotonic() + timeout
    while True:
        events = []
        if path.exists():
            events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        task_events = [e for e in events if e["job"]["name"] == f"{DAG_ID}.{TASK_ID}"]
        if len(task_events) >= want or time.monotonic() > deadline:
            return events
        time.sleep(0.2)


def test_lineage_events_name_the_lake_datasets(airflow_db, env, tmp_path):
    lake = tmp_path / "lake"  # MINERWATCH_LAKE_URL=file://<tmp_path>/lake (the env fixture)
    events_file = tmp_path / "openlineage.jsonl"
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "lineage_test.py").write_text(LINEAGE_DAG)
    bundle = {
        "name": DAG_ID,
        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
        "kwargs": {"path": str(dags)},
    }
    sub_env = {
        **os.environ,
        # the project's dags/ on the path, so the tiny DAG imports the daily DAG's Assets
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(REPO_ROOT / "dags"), os.environ.get("PYTHONPATH")) if p
        ),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps([bundle]),
        "AIRFLOW__OPENLINEAGE__DISABLED": "False",
        "AIRFLOW__OPENLINEAGE__NAMESPACE": NAMESPACE,
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(events_file), "append": True}
        ),
    }
    out = subprocess.run(
        [sys.executable, "-c", RUN, str(dags)],
        env=sub_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, f"{out.stdout[-3000:]}\n{out.stderr[-5000:]}"
    result = json.loads(
        next(line for line in out.stdout.splitlines() if line.startswith("RESULT "))[7:]
    )
    assert result["state"].endswith("success"), result
    # the task declares the daily DAG's Assets, and their URIs are the test's lake
    assert result["inlets"] == [result["raw"]] and result["outlets"] == [result["staged"]]
    raw_path, staged_path = urlsplit(result["raw"]).path, urlsplit(result["staged"]).path
    assert raw_path == f"{lake}/raw/coinmetrics/btc_asset_metrics"
    assert staged_path == f"{lake}/staged/coinmetrics/btc_asset_metrics"

    events = _events(events_file, want=2)
    assert events, f"no OpenLineage event was written to {events_file}\n{out.stderr[-5000:]}"
    # the datasets are on the task's events (job "<dag_id>.<task_id>"); the DAG run's own events
    # (job "<dag_id>") carry none, and dag.test() creates its run already running, so only the
    # DAG's COMPLETE is written, not its START
    task_events = [e for e in events if e["job"]["name"] == f"{DAG_ID}.{TASK_ID}"]
    by_type = {e["eventType"]: e for e in task_events}
    assert {"START", "COMPLETE"} <= set(by_type), [
        (e["job"]["name"], e["eventType"]) for e in events
    ]
    for kind in ("START", "COMPLETE"):
        event = by_type[kind]
        assert event["job"]["namespace"] == NAMESPACE
        # a file:// Asset becomes the dataset namespace "file", name = the absolute path
        # (apache-airflow-providers-common-io's converter for the "file" scheme)
        assert [(d["namespace"], d["name"]) for d in event["inputs"]] == [("file", raw_path)], kind
        assert [(d["namespace"], d["name"]) for d in event["outputs"]] == [("file", staged_path)], (
            kind
        )
    # both task events belong to one OpenLineage run
    assert by_type["START"]["run"]["runId"] == by_type["COMPLETE"]["run"]["runId"]
    print(
        f"\n{len(events)} OpenLineage events: {[(e['job']['name'], e['eventType']) for e in events]}"
    )
