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
