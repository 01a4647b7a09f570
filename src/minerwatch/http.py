"""HTTP with the project's one retry policy.

**One layer retries, and it is this one.** Transient failures (429, honouring Retry-After; 500,
502, 503, 504; timeouts and dropped connections) are retried here with exponential backoff and
jitter, up to ``MINERWATCH_HTTP_MAX_RETRIES`` times (default 5). Airflow does not retry the
network tasks (``retries: 0``): its retries would rerun the whole task (every page again) and
multiply with these (5 x 3 made a dead source cost 24 requests), while only this layer sees
Retry-After and holds the SEC rate limiter across attempts. So a dead source costs exactly
``1 + MINERWATCH_HTTP_MAX_RETRIES`` requests (6 by default), then the task fails with a message
that says how many attempts were made.

Definitive answers fail at once, with one request: any status the caller does not accept that
is not retryable (a 4xx other than 429) raises :class:`~minerwatch.errors.HttpStatusError`,
which ``minerwatch.tasks.run`` turns into a failure without Airflow retries, as it does for a
configuration error. A source whose documented behaviour makes another status transient passes
its own ``retry_status`` (Yahoo's 401 "Invalid Crumb").

Secrets never leave this module in clear: URLs are redacted (``api_key`` and similar query
parameters) before they are logged or returned for sidecars.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from minerwatch.errors import HttpStatusError, SourceError

log = logging.getLogger(__name__)

SECRET_PARAMS = {"api_key", "apikey", "key", "token", "access_token", "crumb"}
RETRY_STATUS = {429, 500, 502, 503, 504}
USER_AGENT = "minerwatch/0.1 (+https://github.com/minerwatch)"


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (k, "REDACTED" if k.lower() in SECRET_PARAMS else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe=",:")))


def redact_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: ("REDACTED" if k.lower() in SECRET_PARAMS else v) for k, v in (params or {}).items()}


@dataclass
class Response:
    url: str  # redacted
    status: int
    body: bytes
    headers: dict[str, str]
    fetched_at: str
    attempts: int


def _retry_after_s(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class RateLimiter:
    """At most one request per ``min_interval_s`` from this process (thread-safe)."""

    def __init__(self, min_interval_s: float, sleep=time.sleep):
        import threading

        self.min_interval_s = min_interval_s
        self._lock = threading.Lock()
        self._next = 0.0
        self._sleep = sleep

    def wait(self) -> None:
        with self._lock:
            self._next = _pace(self._next, self.min_interval_s, self._sleep)


def _pace(next_allowed: float, interval: float, sleep) -> float:
    """Sleep until ``next_allowed`` (CLOCK_MONOTONIC); return when the request after this one
    may go."""
    now = time.monotonic()
    if now < next_allowed:
        sleep(next_allowed - now)
        now = time.monotonic()
    return max(now, next_allowed) + interval


class SharedRateLimiter:
    """At most one request per ``min_interval_s`` across every process on this machine that
    uses the same state file: the next allowed time (CLOCK_MONOTONIC, system-wide) is kept in
    ``path`` under an exclusive ``flock``, so local Airflow task processes share one budget."""

    def __init__(self, path: str, min_interval_s: float, sleep=time.sleep):
        self.path = path
        self.min_interval_s = min_interval_s
        self._sleep = sleep

    def wait(self) -> float:
        """Block until this process may send; return the moment it was allowed (monotonic),
        taken under the lock: the grants are what the budget spaces (a caller's own later
        timestamp adds its scheduling delay)."""
        import fcntl
        import os

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # held while waiting: the others queue behind
            raw = os.pread(fd, 64, 0).decode(errors="replace").strip()
            try:
                nxt = float(raw) if raw else 0.0
            except ValueError:
                nxt = 0.0  # a damaged state file only costs one unpaced request
            if nxt - time.monotonic() > 60:  # from an earlier boot (the clock restarted)
                nxt = 0.0
            after = _pace(nxt, self.min_interval_s, self._sleep)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{after:.6f}".encode(), 0)
        finally:
            os.close(fd)  # releases the lock
        return after - self.min_interval_s


class HttpClient:
    """A requests session with the project's retry policy."""

    def __init__(
        self,
        *,
        timeout_s: float = 30.0,
        max_retries: int = 5,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        headers: Mapping[str, str] | None = None,
        retry_status: frozenset[int] | set[int] = RETRY_STATUS,
        min_interval_s: float = 0.0,
        limiter: RateLimiter | SharedRateLimiter | None = None,
        sleep=time.sleep,
    ):
        import requests

        self._requests = requests
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers.update(headers or {})
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.retry_status = frozenset(retry_status)
        self.limiter = limiter or (
            RateLimiter(min_interval_s, sleep) if min_interval_s > 0 else None
        )
        self._sleep = sleep

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_backoff_s)
        base = self.backoff_s * (2 ** (attempt - 1))
        return min(self.max_backoff_s, base * (0.5 + random.random()))

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        accept: frozenset[int] | set[int] = frozenset({200}),
    ) -> Response:
        """GET with the retry policy. A status in ``accept`` is returned (a source's definitive
        "no data" answer, e.g. Yahoo's 404 for a delisted symbol, is data to land); any other
        non-retryable status raises SourceError."""
        requests = self._requests
        attempt = 0
        while True:
            attempt += 1
            shown = redact_url(requests.Request("GET", url, params=params).prepare().url or url)
            if self.limiter:
                self.limiter.wait()
            try:
                r = self.session.get(url, params=params, timeout=self.timeout_s)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt > self.max_retries:
                    raise SourceError(
                        f"GET {shown} failed after {attempt} attempts: {type(exc).__name__}. "
                        "Check the base URL setting and that the source is reachable."
                    ) from None
                delay = self._delay(attempt, None)
                log.warning(
                    "GET %s: %s (attempt %d), retrying in %.1fs",
                    shown,
                    type(exc).__name__,
                    attempt,
                    delay,
                )
                self._sleep(delay)
                continue
            shown = redact_url(r.url)
            if r.status_code in self.retry_status and attempt <= self.max_retries:
                delay = self._delay(attempt, _retry_after_s(r.headers.get("Retry-After")))
                log.warning(
                    "GET %s: HTTP %d (attempt %d), retrying in %.1fs",
                    shown,
                    r.status_code,
                    attempt,
                    delay,
                )
                self._sleep(delay)
                continue
            if r.status_code not in accept:
                hint = {
                    401: "the source wants credentials: check the API key setting",
                    403: "the source refused access: check the API key or user agent",
                    404: "the path does not exist at this base URL",
                    429: "still rate-limited after retries: run again later",
                }.get(r.status_code, "the source had a problem: run again later")
                message = (
                    f"GET {shown} returned HTTP {r.status_code} after {attempt} attempt(s); "
                    f"{hint}. Body starts: {r.content[:200]!r}"
                )
                if 400 <= r.status_code < 500 and r.status_code not in self.retry_status:
                    raise HttpStatusError(message, r.status_code)  # definitive: not retried
                raise SourceError(message)
            return Response(
                url=shown,
                status=r.status_code,
                body=r.content,
                headers={k.lower(): v for k, v in r.headers.items()},
                fetched_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                attempts=attempt,
            )
