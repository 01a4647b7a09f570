"""The replay server: recorded source data served over real HTTP at the sources' real paths.

Extract code runs unchanged against it; only the base URLs differ (``env()`` gives the settings
that point the pipeline here). A recording directory (``demo/sample.py`` and ``demo/market.py``
write one; ``demo/refdata.py`` one with the real network history) holds

    coinmetrics/btc.csv                   Coin Metrics data-CSV layout (time + metric columns)
    mempool/difficulty-adjustments.json   mempool.space response body
    mempool/hashrate-all.json             /api/v1/mining/hashrate/all body (optional)
    mempool/hashrate-pools-all.json       /api/v1/mining/hashrate/pools/all body (optional)
    mempool/pools-<period>.json           /api/v1/mining/pools/<period> body (optional)
    yahoo/<TICKER>.csv, yahoo/splits.csv  as-traded daily prices and the splits
    sec/company_tickers.json, sec/submissions/CIK##########[-submissions-NNN].json,
    sec/companyfacts/CIK##########.json, sec/archives/<cik>/<accession>/<document>

and the server answers, honouring the parameters that matter:

    GET /v4/timeseries/asset-metrics?assets=btc&metrics=..&start_time=..&end_time=..
        &page_size=..&paging_from=..&next_page_token=..
                                              JSON pages with next_page_token / next_page_url
    GET /coinmetrics-data/csv/btc.csv         the recording's CSV as it is (Coin Metrics'
                                              published file; the fallback when the API refuses)
    GET /api/v1/mining/difficulty-adjustments
    GET /api/v1/mining/hashrate/<period>       the entries of hashrate-all.json (and its
    GET /api/v1/mining/hashrate/pools/<period> difficulty list) within <period> of its newest
                                              entry, as the source filters relative to its NOW
                                              (24h, 3d, 1w, 1m, 3m, 6m, 1y, 2y, 3y, 4y; else all)
    GET /api/v1/mining/pools/<period>         pools-<period>.json as it is
    GET /v8/finance/chart/<TICKER>?period1&period2&events=split,div
                                              Yahoo's chart document: prices split-adjusted as
                                              of now, split events; 404 with chart.error for a
                                              ticker the recording lacks (as for a delisted one)
    GET /api/v3/historical-price-full/<TICKER>?from&to&apikey, .../stock_split/<TICKER>
                                              FMP's documents; 401 without an apikey, 200 {} for
                                              an unknown ticker
    GET /files/company_tickers.json           SEC's ticker map (www.sec.gov)
    GET /submissions/CIK##########.json       a company's filings, and its older pages
    GET /submissions/CIK##########-submissions-NNN.json   (filings.files)
    GET /api/xbrl/companyfacts/CIK##########.json
    GET /Archives/edgar/data/<cik>/<accession>/<document>   filing indexes and exhibits
    GET /Archives/edgar/daily-index/<year>/QTR<n>/index.json, .../master.YYYYMMDD.idx
                                              EDGAR's daily indexes, built from the submissions
                                              the recording serves (every weekday through
                                              sec/daily-index.json's published_through; 404
                                              without that file)

SEC paths answer 403 without a contact (an ``@``) in the User-Agent, as SEC does, and 404
(NoSuchKey) for a document the recording lacks; their request times are kept in
``server.sec_request_times`` (the rate-limit tests). A mempool path whose recording file is absent
answers 404 (as a mirror without the mining API would): the pipeline lands that answer and goes on
without the second source. Responses carry an HTTP ``Date`` from ``clock`` (default: the real
time), so a test can say when the source answered (the pools' block-count window ends then).

Every request is recorded in ``server.requests`` (path and query, secrets redacted) so tests can
check what was asked. ``set_fault`` injects failures for the next N requests on a path (a status
and body, a delay, or a dropped connection).
"""

from __future__ import annotations

import base64
import calendar
import csv
import datetime as dt
import email.utils
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from minerwatch.http import redact_url

log = logging.getLogger(__name__)

CM_PREFIX = "/v4"
MEMPOOL_PREFIX = "/api"
CM_CSV_PATH = "/coinmetrics-data/csv/btc.csv"
# mempool's periods (backend Common.getSqlInterval); anything else means the whole history
PERIOD_SPANS = {
    "24h": ("days", 1), "3d": ("days", 3), "1w": ("days", 7), "1m": ("months", 1),
    "3m": ("months", 3), "6m": ("months", 6), "1y": ("months", 12), "2y": ("months", 24),
    "3y": ("months", 36), "4y": ("months", 48),
}  # fmt: skip
CM_DEFAULT_PAGE_SIZE = 100
CM_MAX_PAGE_SIZE = 10_000


@dataclass
class Fault:
    """What the next ``times`` requests on a path get instead of the recording: a status and
    body, optionally after ``delay_s`` (a slow source, to trip timeouts), or ``reset`` (the
    connection is dropped without an answer)."""

    status: int = 500
    body: bytes = b'{"error": "injected"}'
    content_type: str = "application/json"
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    reset: bool = False


def _cm_error(status: int, kind: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"type": kind, "message": message}}


def _parse_time(value: str) -> dt.date:
    return dt.date.fromisoformat(value[:10])


def period_start(newest: int, period: str) -> int | None:
    """``DATE_SUB(newest, INTERVAL period)`` in Unix seconds; None for the whole history."""
    span = PERIOD_SPANS.get(period)
    if span is None:
        return None
    unit, n = span
    when = dt.datetime.fromtimestamp(newest, tz=dt.UTC)
    if unit == "days":
        return int((when - dt.timedelta(days=n)).timestamp())
    months = when.year * 12 + when.month - 1 - n
    year, month = divmod(months, 12)
    day = min(when.day, calendar.monthrange(year, month + 1)[1])
    return int(when.replace(year=year, month=month + 1, day=day).timestamp())


def _quarter_of(day: dt.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


class Recording:
    """The data behind the server, loaded once."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.cm_rows: list[dict[str, str]] = []
        self.cm_metrics: list[str] = []
        cm = self.directory / "coinmetrics" / "btc.csv"
        if cm.exists():
            with cm.open(newline="") as fh:
                reader = csv.DictReader(fh)
                self.cm_metrics = [c for c in (reader.fieldnames or []) if c != "time"]
                self.cm_rows = sorted(reader, key=lambda r: r["time"])
        mp = self.directory / "mempool" / "difficulty-adjustments.json"
        self.difficulty_body = mp.read_bytes() if mp.exists() else None
        self.cm_csv_path = cm if cm.exists() else None
        self._mempool: dict[str, Any] = {}
        self.splits: dict[str, list[tuple[dt.date, int, int]]] = {}
        splits = self.directory / "yahoo" / "splits.csv"
        if splits.exists():
            with splits.open(newline="") as fh:
                for r in csv.DictReader(fh):
                    self.splits.setdefault(r["ticker"], []).append(
                        (
                            dt.date.fromisoformat(r["date"]),
                            int(r["numerator"]),
                            int(r["denominator"]),
                        )
                    )
        self._prices: dict[str, list[dict[str, str]] | None] = {}

    def prices(self, ticker: str) -> list[dict[str, str]] | None:
        if ticker not in self._prices:
            path = self.directory / "yahoo" / f"{ticker}.csv"
            if not path.exists() or "/" in ticker or ".." in ticker:
                self._prices[ticker] = None
            else:
                with path.open(newline="") as fh:
                    self._prices[ticker] = list(csv.DictReader(fh))
        return self._prices[ticker]

    def split_factor(self, ticker: str, day: dt.date) -> float:
        """Product of split ratios after ``day`` (Yahoo adjusts history for all of them)."""
        f = 1.0
        for split_day, num, den in self.splits.get(ticker, []):
            if split_day > day:
                f *= num / den
        return f

    def mempool_file(self, name: str) -> bytes | None:
        """A mempool recording file's bytes (None when absent), read once."""
        if name not in self._mempool:
            path = self.directory / "mempool" / name
            ok = re.fullmatch(r"[a-z0-9-]+\.json", name) is not None and path.is_file()
            self._mempool[name] = path.read_bytes() if ok else None
        return self._mempool[name]

    def sec_file(self, relative: str) -> bytes | None:
        path = self.directory / "sec" / relative
        return path.read_bytes() if path.is_file() else None

    def index_published_through(self) -> dt.date | None:
        """The last date whose EDGAR daily index this recording publishes
        (``sec/daily-index.json``); None: the recording has no daily indexes (404)."""
        path = self.directory / "sec" / "daily-index.json"
        if not path.is_file():
            return None
        return dt.date.fromisoformat(json.loads(path.read_text())["published_through"])

    def filings(self) -> list[tuple[str, str, str, str, dt.date]]:
        """``(cik, company name, form, accession, filing date)`` of every filing the recording's
        submissions (and their older pages) list, read as they are now (a test may add a filing
        between runs)."""
        out = []
        for path in sorted((self.directory / "sec" / "submissions").glob("CIK*.json")):
            doc = json.loads(path.read_bytes())
            if "filings" in doc:
                cik, name, table = doc["cik"], doc.get("name", ""), doc["filings"]["recent"]
            else:  # an older page: the company is its file name's
                cik, name, table = path.name[3:13], "", doc
                main = path.with_name(f"CIK{cik}.json")
                if main.is_file():
                    name = json.loads(main.read_bytes()).get("name", "")
            for accn, form, filed in zip(
                table["accessionNumber"], table["form"], table["filingDate"], strict=True
            ):
                out.append((str(int(cik)), name, form, accn, dt.date.fromisoformat(filed)))
        return out


class ReplayServer:
    def __init__(
        self,
        recording_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] | None = None,
    ):
        self.recording = Recording(recording_dir)
        self.clock = clock or time.time
        # EDGAR's daily indexes: published through this date (a test moves it, as each night
        # SEC publishes one more), minus these weekdays (holidays), plus these filings
        self.edgar_index_through = self.recording.index_published_through()
        self.edgar_holidays: set[dt.date] = set()
        self.edgar_extra_filings: dict[dt.date, list[tuple[str, str, str, str]]] = {}
        # accession -> the day its filing is disseminated (listed in that day's index), when
        # later than its filing date (EDGAR lists a filing by when it is disseminated)
        self.edgar_late: dict[str, dt.date] = {}
        self.requests: list[str] = []
        self.sec_request_times: list[float] = []
        self.faults: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):  # quiet; requests are kept in server.requests
                log.debug("replay: " + fmt, *args)

            def date_time_string(self, timestamp=None):  # the Date header, from server.clock
                return email.utils.formatdate(
                    server.clock() if timestamp is None else timestamp, usegmt=True
                )

            def do_GET(self):  # noqa: N802 (http.server API)
                server._handle(self)

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[:2]
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def coinmetrics_url(self) -> str:
        return self.base_url + CM_PREFIX

    @property
    def mempool_url(self) -> str:
        return self.base_url + MEMPOOL_PREFIX

    def env(self) -> dict[str, str]:
        """The settings that point the pipeline at this server."""
        return {
            "MINERWATCH_COINMETRICS_URL": self.coinmetrics_url,
            "MINERWATCH_COINMETRICS_CSV_URL": self.base_url + CM_CSV_PATH,
            "MINERWATCH_MEMPOOL_URL": self.mempool_url,
            "MINERWATCH_YAHOO_URL": self.base_url,
            "MINERWATCH_FMP_URL": self.base_url,
            "MINERWATCH_SEC_DATA_URL": self.base_url,
            "MINERWATCH_SEC_WWW_URL": self.base_url,
        }

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        log.info("replay server on %s serving %s", self.base_url, self.recording.directory)
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def set_fault(self, path: str, fault: Fault) -> None:
        with self._lock:
            self.faults.setdefault(path, []).append(fault)

    # -- dispatch ----------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        with self._lock:
            self.requests.append(redact_url(h.path))
            queue = self.faults.get(parts.path)
            fault = None
            if queue:
                fault = queue[0]
                fault.times -= 1
                if fault.times <= 0:
                    queue.pop(0)
        if fault is not None:
            if fault.delay_s:
                time.sleep(fault.delay_s)
            if fault.reset:
                import socket

                h.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                h.connection.close()
                h.close_connection = True
                return
            self._send(h, fault.status, fault.body, fault.content_type, fault.headers)
            return
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        path = parts.path
        if path.startswith("/v8/finance/chart/"):
            status, doc = self._yahoo_chart(unquote(path.rsplit("/", 1)[-1]), query)
            self._send(h, status, json.dumps(doc).encode(), "application/json;charset=utf-8")
            return
        if path.startswith("/api/v3/historical-price-full/"):
            status, doc = self._fmp(path[len("/api/v3/historical-price-full/") :], query)
            self._send(h, status, json.dumps(doc).encode(), "application/json")
            return
        sec_path = None
        if path == "/files/company_tickers.json":
            sec_path = "company_tickers.json"
        elif re.fullmatch(r"/submissions/CIK\d{10}(-submissions-\d{3})?\.json", path):
            sec_path = "submissions/" + path.rsplit("/", 1)[-1]
        elif re.fullmatch(r"/api/xbrl/companyfacts/CIK\d{10}\.json", path):
            sec_path = "companyfacts/" + path.rsplit("/", 1)[-1]
        elif re.fullmatch(r"/Archives/edgar/data/\d+/\d{18}/[A-Za-z0-9_.-]+", path):
            sec_path = "archives/" + path[len("/Archives/edgar/data/") :]
        elif m := re.fullmatch(
            r"/Archives/edgar/daily-index/(\d{4})/QTR([1-4])/(index\.json|master\.(\d{8})\.idx)",
            path,
        ):
            sec_path = "daily-index"
        if sec_path is not None:
            with self._lock:
                self.sec_request_times.append(time.monotonic())
            agent = h.headers.get("User-Agent", "")
            if "@" not in agent:
                body = b"<html><body>Your Request Originates from an Undeclared Automated Tool</body></html>"
                self._send(h, 403, body, "text/html")
                return
            if sec_path == "daily-index":
                body, ctype = self._daily_index(int(m.group(1)), int(m.group(2)), m.group(4))
                if body is None:
                    self._send(h, 404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
                else:
                    self._send(h, 200, body, ctype)
                return
            body = self.recording.sec_file(sec_path)
            if body is None:
                self._send(h, 404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
            else:
                ctype = "text/html" if sec_path.endswith(".htm") else "application/json"
                self._send(h, 200, body, ctype)
            return
        if parts.path == CM_PREFIX + "/timeseries/asset-metrics":
            status, doc = self._asset_metrics(query)
            self._send(h, status, json.dumps(doc).encode(), "application/json")
        elif parts.path == CM_CSV_PATH:
            csv_path = self.recording.cm_csv_path
            if csv_path is None:
                self._send(h, 404, b"404: Not Found", "text/plain; charset=utf-8")
            else:
                self._send(h, 200, csv_path.read_bytes(), "text/plain; charset=utf-8")
        elif parts.path == MEMPOOL_PREFIX + "/v1/mining/difficulty-adjustments":
            body = self.recording.difficulty_body
            if body is None:
                self._send(h, 404, b"Not found", "text/plain")
            else:
                self._send(h, 200, body, "application/json")
        elif m := re.fullmatch(MEMPOOL_PREFIX + r"/v1/mining/hashrate/pools/([a-z0-9]+)", path):
            self._send_mempool(h, self._pool_shares(m.group(1)))
        elif m := re.fullmatch(MEMPOOL_PREFIX + r"/v1/mining/hashrate/([a-z0-9]+)", path):
            self._send_mempool(h, self._hashrate(m.group(1)))
        elif m := re.fullmatch(MEMPOOL_PREFIX + r"/v1/mining/pools/([a-z0-9]+)", path):
            self._send_mempool(h, self.recording.mempool_file(f"pools-{m.group(1)}.json"))
        else:
            self._send(h, 404, b'{"error": "no such path in this recording"}', "application/json")

    def _send_mempool(self, h, body: bytes | None) -> None:
        if body is None:  # what mempool's express app answers for a route it does not have
            self._send(h, 404, b"Not found", "text/plain")
        else:
            self._send(h, 200, body, "application/json; charset=utf-8")

    # -- mempool.space -----------------------------------------------------------------------
    def _hashrate(self, period: str) -> bytes | None:
        body = self.recording.mempool_file("hashrate-all.json")
        if body is None or period not in PERIOD_SPANS:  # "all": the recording's bytes
            return body
        doc = json.loads(body)
        rates = doc.get("hashrates") or []
        if not rates:
            return body
        cutoff = period_start(max(r["timestamp"] for r in rates), period)
        doc["hashrates"] = [r for r in rates if r["timestamp"] >= cutoff]
        doc["difficulty"] = [d for d in doc.get("difficulty") or [] if d.get("time", 0) >= cutoff]
        return json.dumps(doc).encode()

    def _pool_shares(self, period: str) -> bytes | None:
        body = self.recording.mempool_file("hashrate-pools-all.json")
        if body is None or period not in PERIOD_SPANS:
            return body
        weeks = json.loads(body)
        if not weeks:
            return body
        cutoff = period_start(max(w["timestamp"] for w in weeks), period)
        return json.dumps([w for w in weeks if w["timestamp"] >= cutoff]).encode()

    # -- EDGAR daily index --------------------------------------------------------------------
    def _index_days(self, year: int, quarter: int) -> list[dt.date]:
        """The quarter's weekdays up to the recording's published_through (``published_through``
        may be moved by a test, as SEC publishes a new day each night)."""
        through = self.edgar_index_through
        if through is None:
            return []
        day, out = dt.date(year, 3 * quarter - 2, 1), []
        while _quarter_of(day) == (year, quarter) and day <= through:
            if day.weekday() < 5 and day not in self.edgar_holidays:
                out.append(day)
            day += dt.timedelta(days=1)
        return out

    def _daily_index(self, year: int, quarter: int, ymd: str | None) -> tuple[bytes | None, str]:
        """A quarter's ``index.json`` or a day's ``master.YYYYMMDD.idx``, built from the
        submissions the recording serves, in the layout SEC documents (header, then
        ``CIK|Company Name|Form Type|Date Filed|File Name`` rows, dates as YYYYMMDD)."""
        days = self._index_days(year, quarter)
        if ymd is None:
            if not days:
                return None, ""
            items = [{"last-modified": f"{d:%m/%d/%Y} 10:30:00 PM", "name": f"master.{d:%Y%m%d}.idx",
                      "type": "file", "href": f"master.{d:%Y%m%d}.idx", "size": "1 KB"}
                     for d in days]  # fmt: skip
            doc = {"directory": {"item": items, "name": f"daily-index/{year}/QTR{quarter}/",
                                 "parent-dir": "../"}}  # fmt: skip
            return json.dumps(doc).encode(), "application/json"
        day = dt.datetime.strptime(ymd, "%Y%m%d").date()
        if day not in days:
            return None, ""
        lines = [
            "Description:           Daily Index of EDGAR Dissemination Feed by Company Name",
            f"Last Data Received:    {day:%b %d, %Y}",
            "Comments:              webmaster@sec.gov",
            "Anonymous FTP:         ftp://ftp.sec.gov/edgar/",
            "",
            "",
            "CIK|Company Name|Form Type|Date Filed|File Name",
            "-" * 80,
        ]
        rows = [r for r in self.recording.filings() if self.edgar_late.get(r[3], r[4]) == day]
        rows += [(*r, day) for r in self.edgar_extra_filings.get(day, [])]
        for cik, name, form, accn, filed in sorted(rows, key=lambda r: (r[1], r[3])):
            lines.append(f"{cik}|{name}|{form}|{filed:%Y%m%d}|edgar/data/{cik}/{accn}.txt")
        return ("\n".join(lines) + "\n").encode("latin-1", "replace"), "text/plain"

    @staticmethod
    def _send(h, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None):
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    # -- Coin Metrics ------------------------------------------------------------------------
    def _asset_metrics(self, q: dict[str, str]) -> tuple[int, dict[str, Any]]:
        rec = self.recording
        if q.get("assets", "").lower() != "btc":
            return _cm_error(400, "bad_parameter", f"Bad parameter 'assets': {q.get('assets')!r}")
        metrics = [m for m in q.get("metrics", "").split(",") if m]
        unknown = [m for m in metrics if m not in rec.cm_metrics]
        if not metrics or unknown:
            return _cm_error(
                400, "bad_parameter", f"Bad parameter 'metrics'. Unsupported metrics {unknown}."
            )
        if q.get("frequency", "1d") != "1d":
            return _cm_error(400, "bad_parameter", "this recording has daily data only")
        try:
            page_size = int(q.get("page_size", CM_DEFAULT_PAGE_SIZE))
            start = _parse_time(q["start_time"]) if q.get("start_time") else None
            end = _parse_time(q["end_time"]) if q.get("end_time") else None
        except ValueError as exc:
            return _cm_error(400, "bad_parameter", str(exc))
        if not 1 <= page_size <= CM_MAX_PAGE_SIZE:
            return _cm_error(400, "bad_parameter", f"page_size must be 1..{CM_MAX_PAGE_SIZE}")
        rows = [
            r
            for r in rec.cm_rows
            if (start is None or _parse_time(r["time"]) >= start)
            and (end is None or _parse_time(r["time"]) <= end)
        ]
        if q.get("paging_from", "end") == "end":
            rows = rows[::-1]  # Coin Metrics pages from the end unless paging_from=start
        offset = 0
        token = q.get("next_page_token")
        if token:
            try:
                offset = int(base64.urlsafe_b64decode(token.encode()).decode())
            except ValueError:
                return _cm_error(400, "bad_parameter", "Bad parameter 'next_page_token'")
        page = rows[offset : offset + page_size]
        if q.get("paging_from", "end") == "end":
            page = page[::-1]  # each page is still in ascending time
        data = []
        for r in page:
            item: dict[str, Any] = {"asset": "btc", "time": f"{r['time'][:10]}T00:00:00.000000000Z"}
            for m in metrics:
                if r.get(m) not in (None, ""):
                    item[m] = r[m]
            data.append(item)
        doc: dict[str, Any] = {"data": data}
        if offset + page_size < len(rows):
            token = base64.urlsafe_b64encode(str(offset + page_size).encode()).decode()
            nq = {k: v for k, v in q.items() if k != "next_page_token"}
            nq["next_page_token"] = token
            doc["next_page_token"] = token
            doc["next_page_url"] = (
                f"{self.coinmetrics_url}/timeseries/asset-metrics?{urlencode(nq, safe=',:')}"
            )
        return 200, doc

    # -- Yahoo v8 chart ----------------------------------------------------------------------
    def _yahoo_chart(self, ticker: str, q: dict[str, str]) -> tuple[int, dict[str, Any]]:
        rows = self.recording.prices(ticker)
        if rows is None:
            err = {"code": "Not Found", "description": "No data found, symbol may be delisted"}
            return 404, {"chart": {"result": None, "error": err}}
        try:
            p1, p2 = int(q["period1"]), int(q["period2"])
        except (KeyError, ValueError):
            err = {"code": "Bad Request", "description": "period1 and period2 are required"}
            return 400, {"chart": {"result": None, "error": err}}
        crypto = ticker.endswith("-USD")
        tz = ZoneInfo("UTC" if crypto else "America/New_York")
        stamps, quote = [], {"open": [], "high": [], "low": [], "close": [], "volume": []}
        adj = []
        for r in rows:
            day = dt.date.fromisoformat(r["date"])
            opening = dt.datetime(
                day.year, day.month, day.day, 0 if crypto else 9, 0 if crypto else 30, tzinfo=tz
            )
            ts = int(opening.timestamp())
            if not p1 <= ts < p2:
                continue
            f = self.recording.split_factor(ticker, day)
            stamps.append(ts)
            for k in ("open", "high", "low", "close"):
                quote[k].append(round(float(r[k]) / f, 6))
            quote["volume"].append(int(float(r["volume"]) * f))
            adj.append(quote["close"][-1])
        result: dict[str, Any] = {
            "meta": {
                "currency": "USD", "symbol": ticker,
                "exchangeName": "CCC" if crypto else "NMS",
                "instrumentType": "CRYPTOCURRENCY" if crypto else "EQUITY",
                "timezone": "UTC" if crypto else "EST",
                "exchangeTimezoneName": "UTC" if crypto else "America/New_York",
                "dataGranularity": "1d",
            },
            "timestamp": stamps,
            "indicators": {"quote": [quote], "adjclose": [{"adjclose": adj}]},
        }  # fmt: skip
        if "split" in q.get("events", ""):
            splits = {}
            for day, num, den in self.recording.splits.get(ticker, []):
                ts = int(dt.datetime(day.year, day.month, day.day, 9, 30, tzinfo=tz).timestamp())
                if p1 <= ts < p2:
                    splits[str(ts)] = {"date": ts, "numerator": num, "denominator": den,
                                       "splitRatio": f"{num}:{den}"}  # fmt: skip
            if splits:
                result["events"] = {"splits": splits}
        return 200, {"chart": {"result": [result], "error": None}}

    # -- Financial Modeling Prep -------------------------------------------------------------
    def _fmp(self, rest: str, q: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if not q.get("apikey"):
            return 401, {
                "Error Message": "Invalid API KEY. Please retry or visit our documentation."
            }
        is_split = rest.startswith("stock_split/")
        ticker = unquote(rest.removeprefix("stock_split/"))
        rows = self.recording.prices(ticker)
        if rows is None:
            return 200, {}
        if is_split:
            hist = [
                {
                    "date": d.isoformat(),
                    "label": d.strftime("%B %d, %y"),
                    "numerator": n,
                    "denominator": dn,
                }
                for d, n, dn in sorted(self.recording.splits.get(ticker, []), reverse=True)
            ]
            return 200, {"symbol": ticker, "historical": hist}
        start = dt.date.fromisoformat(q.get("from", "1900-01-01"))
        end = dt.date.fromisoformat(q.get("to", "2999-12-31"))
        hist = []
        for r in rows:
            day = dt.date.fromisoformat(r["date"])
            if start <= day <= end:
                f = self.recording.split_factor(ticker, day)
                close = round(float(r["close"]) / f, 6)
                hist.append({
                    "date": r["date"], "open": round(float(r["open"]) / f, 6),
                    "high": round(float(r["high"]) / f, 6), "low": round(float(r["low"]) / f, 6),
                    "close": close, "adjClose": close, "volume": int(float(r["volume"]) * f),
                })  # fmt: skip
        return 200, {"symbol": ticker, "historical": hist[::-1]}
