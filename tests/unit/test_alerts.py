"""Alerts through Airflow's notifier interface, received by a real SMTP sink on loopback."""

import datetime as dt
import json
import socket
import time
from email import message_from_bytes, policy

import pytest

from minerwatch import alerts


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_sink():
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


def _text(msg) -> str:
    return "\n".join(
        part.get_content() for part in msg.walk() if part.get_content_maintype() == "text"
    )


FAILING_DAG = """
import datetime as dt

from airflow.sdk import dag, task

from minerwatch import alerts


@dag(
    dag_id="minerwatch_alert_test",
    schedule=None,
    start_date=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    default_args={"retries": 0, "on_failure_callback": alerts.task_failed()},
    on_failure_callback=alerts.run_failed(),
)
def failing():
    @task
    def extract_sec_company_tickers():
        from minerwatch import tasks
        from minerwatch.errors import ConfigurationError

        def body():
            raise ConfigurationError("MINERWATCH_SEC_USER_AGENT is not set")

        return tasks.run(body)

    extract_sec_company_tickers()


failing()
"""


@pytest.mark.slow  # a real dag.test() run
def test_failed_run_is_mailed_to_the_loopback_sink(airflow_db, smtp_sink, monkeypatch, tmp_path):
    sink, port = smtp_sink
    conn = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "extra": {
            "to": "ops@example.test",
            "from_email": "minerwatch@example.test",
            "disable_ssl": True,
            "disable_tls": True,
            "timeout": 5,
            "retry_limit": 0,
        },
    }
    monkeypatch.setenv("AIRFLOW_CONN_MINERWATCH_ALERTS", json.dumps(conn))
    # dag.test syncs the DAG from the configured dags folder: a folder with just this DAG
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "alert_test.py").write_text(FAILING_DAG)
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(dags))
    bundle = {
        "name": "minerwatch_alert_test",
        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
        "kwargs": {"path": str(dags)},
    }
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps([bundle]))
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(dags)).get_dag("minerwatch_alert_test")
    run = dag.test(logical_date=dt.datetime(2025, 1, 10, tzinfo=dt.UTC))
    assert str(run.state).endswith("failed")
    deadline = time.monotonic() + 10
    while len(sink.messages) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    subjects = [m["subject"] for m in sink.messages]
    assert any("task failed" in s for s in subjects), subjects
    task_msg = next(m for m in sink.messages if "task failed" in m["subject"])
    body = _text(task_msg)
    assert "minerwatch_alert_test" in body
    assert "extract_sec_company_tickers" in body
    assert "2025-01-10" in body
    assert "log file:" in body and "task_id=extract_sec_company_tickers" in body
    assert "MINERWATCH_SEC_USER_AGENT" in body
    assert task_msg["to"] == "ops@example.test"
    print("\n--- alert as received ---\n" + task_msg.as_string()[:3000])
    # dag.test (3.3.2) does not call the DAG-level on_failure_callback (the DAG processor does):
    # the run alert is sent here through the same notifier and connection
    alerts.run_failed().notify({"dag": dag, "dag_run": run, "reason": "audit failed"})
    deadline = time.monotonic() + 10
    while not any("run failed" in m["subject"] for m in sink.messages):
        assert time.monotonic() < deadline, [m["subject"] for m in sink.messages]
        time.sleep(0.1)


def test_nothing_is_sent_without_the_connection(monkeypatch, caplog):
    monkeypatch.delenv("AIRFLOW_CONN_MINERWATCH_ALERTS", raising=False)
    monkeypatch.setattr(alerts, "_warned_unconfigured", False)
    sent = []
    monkeypatch.setattr(
        "airflow.providers.smtp.notifications.smtp.SmtpNotifier.notify",
        lambda self, ctx: sent.append(ctx),
    )
    with caplog.at_level("WARNING", logger="minerwatch.alerts"):
        alerts.MinerwatchAlert("run_failed").notify({"ds": "2025-01-10"})
        alerts.MinerwatchAlert("run_failed").notify({"ds": "2025-01-10"})
    assert sent == []
    assert caplog.text.count("alerts are off") == 1


def test_the_dag_wires_failure_callbacks_and_a_deadline(airflow_db, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    from minerwatch.settings import REPO_ROOT

    monkeypatch.setenv("MINERWATCH_RUN_DEADLINE", "on")  # off by default (Airflow 3.3.2 bugs)
    dag = DagBag(dag_folder=str(REPO_ROOT / "dags")).get_dag("minerwatch_daily")
    assert dag.has_on_failure_callback
    assert all(t.on_failure_callback for t in dag.tasks)
    (deadline,) = dag.deadline
    assert deadline.interval == alerts.RUN_DEADLINE
    assert deadline.callback.path == "minerwatch.alerts.MinerwatchAlert"


def test_the_deadline_is_off_by_default(airflow_db, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    from minerwatch.settings import REPO_ROOT

    monkeypatch.delenv("MINERWATCH_RUN_DEADLINE", raising=False)
    dag = DagBag(dag_folder=str(REPO_ROOT / "dags")).get_dag("minerwatch_daily")
    assert not dag.deadline
