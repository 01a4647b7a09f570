"""Airflow for tests: a home with a migrated SQLite DB, one per test session (process), so two
sessions on one machine never share or wipe each other's DB. tests/conftest.py points Airflow's
settings at it before anything imports Airflow."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# under pytest-xdist (`make test-unit` runs two workers) each worker is a session of its own
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
AIRFLOW_HOME = Path(
    (
        os.environ.get("MINERWATCH_TEST_AIRFLOW_HOME")
        or f"/tmp/minerwatch-test-airflow-{os.getpid()}"
    )
    + (f"-{_WORKER}" if _WORKER else "")
)


def configure(repo: Path) -> None:
    os.environ["AIRFLOW_HOME"] = str(AIRFLOW_HOME)
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{AIRFLOW_HOME}/airflow.db"
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(repo / "dags")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"


@pytest.fixture(scope="session")
def airflow_db():
    """Migrate Airflow's SQLite DB once per session and create the warehouse pool."""
    shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)
    AIRFLOW_HOME.mkdir(parents=True)
    from minerwatch.cli import setup_airflow

    setup_airflow()
    yield AIRFLOW_HOME
    if "MINERWATCH_TEST_AIRFLOW_HOME" not in os.environ:
        shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)
