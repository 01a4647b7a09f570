"""A backfill through Airflow's own `airflow backfill create`, run by a real scheduler and
api-server (LocalExecutor) on a PostgreSQL metadata DB (Debian's server, migrated here), against
the replay server — and resumed. This is also the test of the PostgreSQL metadata path.

Day 1 succeeds; on day 2 the source serves a negative hash rate, so that run quarantines its
batch and fails. The source then corrects the day and the operator resumes with
`--reprocess-behavior failed`: only day 2 runs again, day 1 is not touched, nothing landed is
lost, and the published marts carry the corrected day.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import requests

from minerwatch import universe
from minerwatch.settings import REPO_ROOT
from tests.support.services import free_port

pytestmark = pytest.mark.slow

DAY1, DAY2 = dt.date(2024, 6, 27), dt.date(2024, 6, 28)
DAG_ID = "minerwatch_daily"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def _airflow_env(home: Path, port: int, db_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API_AUTH__JWT_SECRET": "test-only-jwt-secret-not-a-real-one",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            # no scheduled run for "yesterday": only the backfill's runs exist
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        }
    )
    return env


def _cli(env, *args, timeout=180) -> str:
    out = subprocess.run(
        [AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert out.returncode == 0, f"airflow {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}"
    return out.stdout


def _query(db: str, sql: str, params=()) -> list[tuple]:
    import psycopg2

    con = psycopg2.connect(db.replace("postgresql+psycopg2://", "postgresql://"))
    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        con.close()


def _runs(db: str) -> dict[str, tuple[str, str, object]]:
    """logical day -> (run_id, state, start_date) from the metadata DB."""
    rows = _query(
        db,
        "select logical_date, run_id, state, start_date from dag_run where dag_id = %s",
        [DAG_ID],
    )
    return {r[0].date().isoformat(): (r[1], r[2], r[3]) for r in rows}


def _wait_for(db: str, days: list[dt.date], states=("success", "failed"), timeout=600):
    deadline = time.monotonic() + timeout
    keys = [d.isoformat() for d in days]
    while time.monotonic() < deadline:
        runs = _runs(db)
        if all(k in runs and runs[k][1] in states for k in keys):
            return runs
        time.sleep(2)
    pytest.fail(f"backfill runs did not finish in {timeout}s: {_runs(db)}")


def _wait_backfills_done(db: str, timeout=120) -> None:
    """Airflow allows one running backfill per DAG; it completes on a scheduler loop after its
    runs end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _query(db, "select count(*) from backfill where completed_at is null")[0][0] == 0:
            return
        time.sleep(1)
    pytest.fail("the backfill was not marked complete")


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _small_project(tmp_path: Path, tickers=("MARA", "RIOT", "IREN")) -> Path:
    """A copy of the dbt project tracking three of the miners (MINERWATCH_DBT_PROJECT_DIR):
    the same DAG and models with fewer mapped tasks, so the backfill runs in a test's time."""
    rows = [m for m in universe.miners() if m["ticker"] in tickers]
    assert {m["ticker"] for m in rows} == set(tickers)
    return universe.copy_project(tmp_path / "dbt_project", rows)


@pytest.fixture
def airflow_stack(tmp_path, env, replay, postgres, monkeypatch):
    """Migrated metadata DB, api-server and scheduler subprocesses; stopped afterwards."""
    monkeypatch.setenv("MINERWATCH_SEC_USER_AGENT", "minerwatch tests tests@example.invalid")
    monkeypatch.setenv("MINERWATCH_DBT_PROJECT_DIR", str(_small_project(tmp_path)))
    home = tmp_path / "airflow"
    home.mkdir()
    port = free_port()
    aenv = _airflow_env(home, port, postgres)
    _cli(aenv, "db", "migrate")
    _cli(aenv, "pools", "set", "minerwatch_warehouse", "1", "DuckDB writers")
    _cli(aenv, "pools", "set", "sec_api", "2", "SEC EDGAR")
    _cli(aenv, "dags", "reserialize")
    procs = []
    logs = []
    try:
        for name, args in (
            ("api-server", ["api-server", "--port", str(port), "--workers", "1"]),
            ("scheduler", ["scheduler"]),
        ):
            log = open(home / f"{name}.log", "wb")
            logs.append(log)
            procs.append(
                subprocess.Popen([AIRFLOW, *args], env=aenv, stdout=log, stderr=subprocess.STDOUT)
            )
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/api/v2/version", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail((home / "api-server.log").read_text()[-3000:])
            time.sleep(1)
        _cli(aenv, "dags", "unpause", DAG_ID)
        yield postgres, aenv
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        for log in logs:
            log.close()


def test_backfill_through_airflow_is_resumable(airflow_stack, env, replay):
    db, aenv = airflow_stack
    lake = env / "lake"
    row = next(r for r in replay.recording.cm_rows if r["time"].startswith(DAY2.isoformat()))
    good_hashrate = row["HashRate"]
    row["HashRate"] = "-1000"  # the source's bad day: only day 2's run fetches it

    _cli(aenv, "backfill", "create", "--dag-id", DAG_ID,
         "--from-date", DAY1.isoformat(), "--to-date", DAY2.isoformat(),
         "--max-active-runs", "1")  # fmt: skip
    runs = _wait_for(db, [DAY1, DAY2])
    assert runs[DAY1.isoformat()][1] == "success", runs
    assert runs[DAY2.isoformat()][1] == "failed", runs
    quarantined = list((lake / "quarantine").rglob("validation_result.json"))
    assert quarantined and "hashrate_ehs" in quarantined[0].read_text()
    published_after_day1 = {k: v for k, v in _files(lake).items() if k.startswith("marts/")}
    assert published_after_day1  # day 1 published; day 2's failure did not touch it
    assert _published_latest(env)[0] == DAY1
    before = _files(lake)
    day1_run = runs[DAY1.isoformat()]

    row["HashRate"] = good_hashrate  # the source corrects the day; resume the backfill
    _wait_backfills_done(db)
    _cli(aenv, "backfill", "create", "--dag-id", DAG_ID,
         "--from-date", DAY1.isoformat(), "--to-date", DAY2.isoformat(),
         "--max-active-runs", "1", "--reprocess-behavior", "failed")  # fmt: skip
    deadline = time.monotonic() + 600
    while _runs(db)[DAY2.isoformat()][1] == "failed" and time.monotonic() < deadline:
        time.sleep(2)
    runs = _wait_for(db, [DAY1, DAY2])
    assert runs[DAY2.isoformat()][1] == "success", runs
    assert runs[DAY1.isoformat()] == day1_run  # the successful day was not run again

    after = _files(lake)
    for key, body in before.items():  # nothing landed before is lost or changed
        if key.startswith("raw/"):
            assert after.get(key) == body, key
    latest, hashrate = _published_latest(env)
    assert latest == DAY2 and hashrate > 0


def _published_latest(env):
    con = duckdb.connect(str(env / "published" / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(
            "select max(date_day), arg_max(hashrate_ehs, date_day) from marts.fct_network_daily"
        ).fetchone()
    finally:
        con.close()
