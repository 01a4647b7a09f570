"""Isolated settings per test: every MINERWATCH_* variable of the developer's shell is cleared
(the test-harness ones, MINERWATCH_TEST_*, excepted), then a local lake and warehouse under the
test's tmp_path and fast retries are set."""

from __future__ import annotations

import os

import pytest

# variables outside the MINERWATCH_ prefix that change what the code under test does (the
# Airflow connections that may hold the secrets: minerwatch.settings.SECRET_CONNECTIONS)
OTHER_SETTING_VARS = [
    "AWS_ENDPOINT_URL",
    "DATE",
    "AIRFLOW_CONN_MINERWATCH_COINMETRICS",
    "AIRFLOW_CONN_MINERWATCH_FMP",
    "AIRFLOW_CONN_MINERWATCH_SEC",
]


def setting_vars() -> list[str]:
    names = [k for k in os.environ if k.startswith("MINERWATCH_")]
    return [k for k in names if not k.startswith("MINERWATCH_TEST_")] + OTHER_SETTING_VARS


def isolate(monkeypatch: pytest.MonkeyPatch, root) -> None:
    """Clear every setting of the shell; a local lake and warehouse under ``root``, fast retries
    (for module-scoped fixtures, with their own ``pytest.MonkeyPatch()``)."""
    for var in setting_vars():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MINERWATCH_LAKE_URL", f"file://{root / 'lake'}")
    monkeypatch.setenv("MINERWATCH_WAREHOUSE", str(root / "warehouse.duckdb"))
    monkeypatch.setenv("MINERWATCH_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("MINERWATCH_HTTP_TIMEOUT", "5")
    monkeypatch.setenv("MINERWATCH_SEC_RATE_STATE", str(root / "sec-rate.state"))


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A clean environment: local lake and warehouse under tmp_path, fast retries."""
    isolate(monkeypatch, tmp_path)
    return tmp_path
