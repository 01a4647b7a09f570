"""Test fixtures, by concern (tests/support/): settings (a clean environment per test),
recordings (the SAMPLE recording and its replay server, the real ../shared/refdata), airflow (a
migrated metadata DB per session) and services (SeaweedFS, PostgreSQL, Chromium on loopback)."""

from __future__ import annotations

from pathlib import Path

from tests.support import airflow

# Airflow must be configured before anything imports it
airflow.configure(Path(__file__).resolve().parents[1])

pytest_plugins = [
    "tests.support.settings",
    "tests.support.recordings",
    "tests.support.airflow",
    "tests.support.services",
]


def pytest_collection_modifyitems(config, items):
    """Mark ``fast`` the tests that start no Airflow run, dbt build or server (the unit tests and
    the DAG-file checks not marked slow): ``make test`` runs them on two workers, then the rest
    on two workers a module each (``--dist loadfile``: a module's fixtures, such as the DAG runs
    test_dag_run shares, stay in one worker; they mostly wait on servers and rate limits, so two
    at a time take 510 s where one at a time took 825 s); ``make test-unit`` runs them alone."""
    import pytest

    root = Path(__file__).resolve().parent
    for item in items:
        path = Path(str(item.fspath)).resolve()
        quick_place = path.is_relative_to(root / "unit") or path == root / "dags" / "test_dagbag.py"
        if quick_place and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.fast)
