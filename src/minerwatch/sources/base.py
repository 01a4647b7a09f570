"""The small kernel every source client shares: the HTTP client built from the settings, the JSON
decode that names the URL, and landing a response write-once with its request sidecar.

A client module keeps what is its own: paths, parameters, the shape its parser checks, and what
a source's answer means (a 404 that is "no data", a refusal that falls back).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from minerwatch.errors import SourceError
from minerwatch.http import HttpClient, Response

if TYPE_CHECKING:  # pragma: no cover
    from minerwatch.lake import Lake, RawObject
    from minerwatch.settings import Settings


def client_for(settings: Settings, **kwargs: Any) -> HttpClient:
    """An HttpClient with the configured timeout and retries (MINERWATCH_HTTP_*); ``kwargs``
    add what a source needs on top (its retryable statuses, headers, a rate limiter)."""
    return HttpClient(
        timeout_s=settings.http_timeout_s,
        max_retries=settings.http_max_retries,
        backoff_s=settings.http_backoff_s,
        **kwargs,
    )


def decode_json(body: bytes, url: str, source: str) -> Any:
    """The JSON document of a response body; a body that is not JSON (an HTML error page, a
    truncated answer) raises SourceError naming the source, the URL and how the body starts."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        start = body[:80].decode("utf-8", "replace")
        raise SourceError(
            f"{source} response from {url} is not valid JSON ({exc}); body starts {start!r}"
        ) from None


def land(
    lake: Lake,
    source: str,
    dataset: str,
    day: dt.date,
    resp: Response,
    *,
    params: dict[str, Any] | None = None,
    body: bytes | None = None,
    **meta: Any,
) -> RawObject:
    """Land ``resp`` write-once under ``raw/<source>/<dataset>/ingest_date=<day>/`` with its
    sidecar: where it came from (``url``, ``params``, both redacted), ``status``, ``fetched_at``,
    ``attempts``, and the source's own ``meta``. ``body`` replaces the response's bytes when they
    had to be changed first (a secret the source echoed back)."""
    sidecar = {
        "source": source,
        "dataset": dataset,
        "url": resp.url,
        "params": params,
        "status": resp.status,
        "fetched_at": resp.fetched_at,
        "attempts": resp.attempts,
        **meta,
    }
    return lake.put_raw(source, dataset, day, resp.body if body is None else body, sidecar)
