"""The bridge between Airflow tasks and the pipeline: run a task body, turning errors that a
retry cannot fix (a missing key or user agent) into an immediate failure without retries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minerwatch.errors import ConfigurationError


def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except ConfigurationError as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from exc
