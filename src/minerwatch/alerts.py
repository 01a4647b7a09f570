"""Alerts through Airflow's notifier interface: a failed task, a red run and a late run.

One notifier, :class:`MinerwatchAlert`, is used three ways in the DAG file:

* ``on_failure_callback`` of every task (``default_args``): "task failed";
* ``on_failure_callback`` of the DAG: "run failed" (a red run: a failed gate, a stale source);
* the DAG's ``deadline`` (Airflow 3's ``DeadlineAlert``, which replaced the SLA of Airflow 2):
  "run late", when a run is not done ``RUN_DEADLINE`` after it was queued.

It sends e-mail with the SMTP provider's ``SmtpNotifier`` through the Airflow connection
``minerwatch_alerts`` (docs/settings.md: host/port/login/password, the recipients in the extra
``to``, the sender in ``from_email``). Without that connection nothing is sent: the first alert of
the process logs that alerts are off, once, and every alert is logged as a line anyway.

Airflow is imported inside the methods where it can be, so ``minerwatch.alerts`` stays cheap for
the DAG file (which imports it at parse time).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)

ALERTS_CONN_ID = "minerwatch_alerts"
# from the moment a run is queued: a daily run takes minutes on one machine; 6 h leaves room for
# the network retries with backoff (up to 10 min apart) and a slow SEC before the day is late
RUN_DEADLINE = timedelta(hours=6)

KINDS = {
    "task_failed": "task failed",
    "run_failed": "run failed",
    "run_late": "run late",
}

_warned_unconfigured = False


def _connection(conn_id: str):
    """The alerts connection, or None (logged once per process) when it is not configured."""
    global _warned_unconfigured
    try:
        from airflow.sdk import BaseHook

        return BaseHook.get_connection(conn_id)
    except Exception as exc:  # AirflowNotFoundException and friends: not configured
        if not _warned_unconfigured:
            log.warning(
                "alerts are off: no Airflow connection %r (%s); set it to receive e-mail on a "
                "failed task, a red run or a late run (docs/settings.md)",
                conn_id,
                type(exc).__name__,
            )
            _warned_unconfigured = True
        return None


def _day(context: dict) -> str:
    for key in ("logical_date", "data_interval_start"):
        value = context.get(key)
        if value is not None:
            return value.date().isoformat() if hasattr(value, "date") else str(value)[:10]
    dag_run = context.get("dag_run")
    value = getattr(dag_run, "logical_date", None) if dag_run is not None else None
    return value.date().isoformat() if value is not None else context.get("ds", "unknown")


def _log_file(ti) -> str:
    """Where the task's log is, as Airflow's default ``log_filename_template`` writes it."""
    from airflow.configuration import conf

    folder = conf.get("logging", "base_log_folder", fallback="logs")
    index = getattr(ti, "map_index", -1)
    mapped = f"map_index={index}/" if index is not None and index >= 0 else ""
    return (
        f"{folder}/dag_id={ti.dag_id}/run_id={ti.run_id}/task_id={ti.task_id}/"
        f"{mapped}attempt={ti.try_number or 1}.log"
    )


def message(kind: str, context: dict) -> tuple[str, str]:
    """(subject, text body) of one alert: the DAG, the task, the date, the error and the log."""
    dag = context.get("dag")
    dag_run = context.get("dag_run")
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(dag, "dag_id", None) or getattr(dag_run, "dag_id", None) or "minerwatch"
    day = _day(context)
    run_id = getattr(dag_run, "run_id", None) or getattr(ti, "run_id", None) or ""
    task_id = getattr(ti, "task_id", None)
    label = KINDS.get(kind, kind)
    subject = f"[minerwatch] {label}: {dag_id}" + (f".{task_id}" if task_id else "") + f" {day}"
    lines = [
        f"{label}: DAG {dag_id}, run {run_id}, date {day}",
        f"task: {task_id}" if task_id else "task: (the run as a whole)",
    ]
    if kind == "run_failed" and context.get("reason"):
        lines.append(f"reason: {context['reason']}")
    if kind == "run_late":
        lines.append(f"not finished {RUN_DEADLINE} after it was queued; see the running tasks")
    exc = context.get("exception")
    if exc is not None:
        lines.append(f"error: {type(exc).__name__}: {exc}")
    if ti is not None and task_id:
        lines.append(f"log: {getattr(ti, 'log_url', '')}")
        try:
            lines.append(f"log file: {_log_file(ti)}")
        except Exception:  # the log location is a help, never a reason not to alert
            pass
    elif dag_run is not None or run_id:
        from airflow.configuration import conf

        base = conf.get("api", "base_url", fallback="http://localhost:8080/").rstrip("/")
        lines.append(f"log: {base}/dags/{dag_id}/runs/{run_id}")
    return subject, "\n".join(lines)


class MinerwatchAlert(BaseNotifier):
    """Send one alert of ``kind`` (task_failed, run_failed, run_late) by e-mail, if configured."""

    template_fields = ()

    def __init__(
        self, kind: str = "task_failed", conn_id: str = ALERTS_CONN_ID, context: Any = None
    ):
        super().__init__(context=context)
        if kind not in KINDS:
            raise ValueError(f"alert kind {kind!r}: expected one of {', '.join(KINDS)}")
        self.kind = kind
        self.conn_id = conn_id

    def notify(self, context) -> None:
        subject, body = message(self.kind, dict(context))
        log.error("ALERT %s\n%s", subject, body)
        conn = _connection(self.conn_id)
        if conn is None:
            return
        extra = conn.extra_dejson
        to = extra.get("to")
        if not to:
            log.warning(
                'alerts connection %r has no recipients: set its extra {"to": "a@b, c@d"}',
                self.conn_id,
            )
            return
        from html import escape

        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        # a fresh SmtpNotifier per alert: it renders its fields in place, once
        SmtpNotifier(
            to=[a.strip() for a in to.split(",")] if isinstance(to, str) else to,
            from_email=extra.get("from_email") or f"minerwatch@{conn.host or 'localhost'}",
            subject=subject,
            html_content=f"<pre>{escape(body)}</pre>",
            smtp_conn_id=self.conn_id,
        ).notify(context)
        log.info("alert sent to %s: %s", to, subject)

    async def async_notify(self, context) -> None:
        """For the deadline (run by the triggerer): the same, off the event loop."""
        import asyncio

        await asyncio.to_thread(self.notify, context)


def task_failed() -> MinerwatchAlert:
    return MinerwatchAlert("task_failed")


def run_failed() -> MinerwatchAlert:
    return MinerwatchAlert("run_failed")


def run_deadline():
    """Airflow 3's DeadlineAlert: the run must finish RUN_DEADLINE after it was queued. None
    when MINERWATCH_RUN_DEADLINE=off: `dag.test()` in Airflow 3.3.2 cannot run a DAG that has a
    DeadlineAlert (its lookup of the alert fails), so the one-process runs (`minerwatch demo` /
    `run`, the tests) parse the DAG without it; the scheduler's runs have it."""
    from minerwatch.settings import run_deadline_enabled

    if not run_deadline_enabled():
        return None
    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

    return DeadlineAlert(
        # from when the run was queued, not from its logical date: a backfill of 2021 is not late
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=RUN_DEADLINE,
        callback=AsyncCallback(MinerwatchAlert, kwargs={"kind": "run_late"}),
        name="minerwatch_run_late",
    )
