"""Secrets from Airflow connections (minerwatch.settings.secret): when a secret's variable is
unset, its connection supplies it (AIRFLOW_CONN_<NAME> as a URI or JSON, parsed by Airflow's own
Connection); the variable wins when both are set; the key is still redacted everywhere."""

import datetime as dt
import json

import pytest

from minerwatch.lake import Lake
from minerwatch.settings import SettingsError, load
from minerwatch.sources import coinmetrics

KEY = "conn-secret-key-17"


@pytest.mark.parametrize(
    "value",
    [
        f"generic://:{KEY}@",
        json.dumps({"conn_type": "generic", "password": KEY}),
        json.dumps({"conn_type": "generic", "extra": {"api_key": KEY}}),
    ],
)
def test_connection_supplies_the_coinmetrics_key_when_the_variable_is_unset(
    env, monkeypatch, value
):
    monkeypatch.setenv("AIRFLOW_CONN_MINERWATCH_COINMETRICS", value)
    assert load().coinmetrics_api_key == KEY


def test_connection_supplies_the_fmp_key_and_the_sec_user_agent(env, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_MINERWATCH_FMP", "generic://:fmp%2Fkey@")
    monkeypatch.setenv(
        "AIRFLOW_CONN_MINERWATCH_SEC",
        json.dumps({"conn_type": "generic", "extra": {"user_agent": "Jane Doe jane@example.com"}}),
    )
    cfg = load()
    assert cfg.fmp_api_key == "fmp/key"
    assert cfg.sec_user_agent == "Jane Doe jane@example.com"
    monkeypatch.setenv("AIRFLOW_CONN_MINERWATCH_SEC", "generic://Jane%20Doe%20jane%40example.com@")
    assert load().sec_user_agent == "Jane Doe jane@example.com"  # or the login


def test_the_variable_wins_when_both_are_set(env, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_MINERWATCH_COINMETRICS", f"generic://:{KEY}@")
    monkeypatch.setenv("MINERWATCH_COINMETRICS_API_KEY", "from-the-variable")
    assert load().coinmetrics_api_key == "from-the-variable"


def test_an_explicit_mapping_reads_only_itself(env, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_MINERWATCH_COINMETRICS", f"generic://:{KEY}@")
    assert load({}).coinmetrics_api_key is None
    conn = {"AIRFLOW_CONN_MINERWATCH_COINMETRICS": f"generic://:{KEY}@"}
    assert load(conn).coinmetrics_api_key == KEY


def test_no_connection_means_no_secret(env):
    cfg = load()
    assert cfg.coinmetrics_api_key is None and cfg.fmp_api_key is None
    assert cfg.sec_user_agent is None


def test_a_malformed_connection_is_a_settings_error_without_the_secret(env, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_MINERWATCH_COINMETRICS", '{"password": "oops-secret", ')
    with pytest.raises(SettingsError, match="AIRFLOW_CONN_MINERWATCH_COINMETRICS") as err:
        load()
    assert "oops-secret" not in str(err.value)


def test_a_key_from_a_connection_is_sent_but_never_stored_or_logged(
    env, replay, monkeypatch, caplog
):
    monkeypatch.setenv("AIRFLOW_CONN_MINERWATCH_COINMETRICS", f"generic://:{KEY}@")
    monkeypatch.setattr(coinmetrics, "PAGE_SIZE", 10)
    settings = load()
    lake = Lake(settings)
    end = dt.date(2024, 1, 25)
    objs = coinmetrics.extract(settings, lake, start=dt.date(2024, 1, 1), end=end, ingest_date=end)
    assert len(objs) == 3
    assert all("api_key=REDACTED" in r for r in replay.requests)  # sent on every page
    for path in (env / "lake").rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    assert KEY not in caplog.text
