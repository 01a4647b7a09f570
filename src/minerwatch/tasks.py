"""The bridge between Airflow tasks and the pipeline: run a task body, turning errors that a
retry cannot fix into an immediate failure without retries (``AirflowFailException``):

- a configuration error: a missing key or user agent, a setting with a value we cannot use
  (``SettingsError`` is a ``ConfigurationError``);
- a definitive HTTP answer: a 4xx other than 429 and other than a status the source documents
  as transient (``HttpStatusError``).

Transient errors are retried by the HTTP layer only (``minerwatch.http``), so when one escapes
the retries are spent; the network tasks have no Airflow retries of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minerwatch.errors import Definitive


def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except Definitive as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from exc
