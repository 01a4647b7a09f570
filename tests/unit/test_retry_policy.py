"""The one retry policy (minerwatch.http): transient errors are retried by the HTTP layer only,
so a dead source costs exactly 1 + MINERWATCH_HTTP_MAX_RETRIES requests (6 by default);
definitive errors (an invalid setting, a 4xx other than 429) fail at once, without retries."""

import datetime as dt

import pytest

from minerwatch import tasks
from minerwatch.demo.replay import Fault
from minerwatch.errors import ConfigurationError, HttpStatusError, SourceError
from minerwatch.lake import Lake
from minerwatch.settings import SettingsError, load
from minerwatch.sources import coinmetrics
from minerwatch.sources.base import client_for

CM_PATH = "/v4/timeseries/asset-metrics"


def _extract():
    settings = load()
    day = dt.date(2024, 1, 3)
    return coinmetrics.extract(
        settings, Lake(settings), start=dt.date(2024, 1, 1), end=day, ingest_date=day
    )


def test_default_total_is_six_requests_per_dead_source():
    assert load({}).http_max_retries == 5
    assert client_for(load({})).max_retries == 5  # 1 + 5 = 6 requests, then the task fails


@pytest.mark.parametrize("retries", [0, 2, 5])
def test_a_dead_source_costs_exactly_one_plus_max_retries_requests(
    env, replay, monkeypatch, retries
):
    monkeypatch.setenv("MINERWATCH_HTTP_MAX_RETRIES", str(retries))
    replay.set_fault(CM_PATH, Fault(status=503, times=100))
    with pytest.raises(SourceError, match=f"HTTP 503 after {retries + 1} attempt") as err:
        tasks.run(_extract)
    assert not isinstance(err.value, HttpStatusError)  # transient, only spent
    assert len(replay.requests) == retries + 1


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_a_definitive_4xx_fails_at_once_with_one_request(env, replay, status):
    from airflow.sdk.exceptions import AirflowFailException

    replay.set_fault(CM_PATH, Fault(status=status, times=100))
    settings = load()  # the project's client with its default retryable statuses (429, 5xx)
    url = f"{settings.coinmetrics_url}/timeseries/asset-metrics"
    with pytest.raises(AirflowFailException, match=f"HTTP {status} after 1 attempt") as err:
        tasks.run(client_for(settings).get, url)
    assert isinstance(err.value.__cause__, HttpStatusError)
    assert err.value.__cause__.status == status
    assert len(replay.requests) == 1


def test_429_is_transient_not_definitive(env, replay, monkeypatch):
    monkeypatch.setenv("MINERWATCH_HTTP_MAX_RETRIES", "1")
    replay.set_fault(CM_PATH, Fault(status=429, headers={"Retry-After": "0"}, times=100))
    with pytest.raises(SourceError, match="HTTP 429 after 2 attempt") as err:
        _extract()
    assert not isinstance(err.value, HttpStatusError)
    assert len(replay.requests) == 2


def test_yahoo_401_invalid_crumb_stays_transient_for_yahoo():
    from minerwatch.sources import yahoo

    assert 401 in yahoo.RETRY_STATUS  # the source's documented behaviour: retried


def test_an_invalid_setting_is_a_configuration_error():
    assert issubclass(SettingsError, ConfigurationError)
    assert issubclass(SettingsError, ValueError)  # callers that caught ValueError still do


def test_an_invalid_setting_fails_the_task_at_once(env, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    monkeypatch.setenv("MINERWATCH_HTTP_MAX_RETRIES", "99")
    calls = []

    def body():
        calls.append(1)
        return load()

    with pytest.raises(AirflowFailException, match="MINERWATCH_HTTP_MAX_RETRIES='99'"):
        tasks.run(body)
    assert calls == [1]  # AirflowFailException: Airflow fails the task without its retries


def test_other_errors_pass_through_unchanged():
    def body():
        raise SourceError("spent")

    with pytest.raises(SourceError, match="spent"):
        tasks.run(body)


def test_a_chunk_runs_every_company_and_names_each_failure():
    from airflow.sdk.exceptions import AirflowFailException

    done, seen = [], set()

    def body(day, item, settings):
        done.append(item)
        seen.add(id(settings))
        if item == "BAD":
            raise SourceError("spent")
        if item == "NOKEY":
            raise ConfigurationError("no key")
        return item.lower()

    assert tasks.run_each(body, "2024-06-28", ["MARA", "RIOT"]) == ["mara", "riot"]
    assert len(seen) == 1  # the settings are read once for the chunk
    with pytest.raises(RuntimeError, match=r"2 of 4 failed: BAD: SourceError: spent; NOKEY"):
        tasks.run_each(body, "2024-06-28", ["MARA", "BAD", "NOKEY", "RIOT"])
    assert done[-4:] == ["MARA", "BAD", "NOKEY", "RIOT"]  # the ones after a failure still ran
    with pytest.raises(AirflowFailException, match="1 of 2 failed: NOKEY"):
        tasks.run_each(body, "2024-06-28", ["NOKEY", "MARA"])  # only definitive: no retries
