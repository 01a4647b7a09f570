"""The dbt docs site published beside the report: `dbt docs generate --static` for real (the
project's own models, the catalog read from a published warehouse), one self-contained page,
written 0644 to published/docs/ and to the lake, and nothing fetched from another host when it
is opened — proven in Chromium through a recording proxy, with a positive control."""

from __future__ import annotations

import http.server
import re
import socketserver
import stat
import threading
import time

import duckdb
import pytest

from minerwatch import docs_site
from minerwatch.lake import Lake
from minerwatch.publish import published_path
from minerwatch.settings import load
from tests.support.services import headless


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The docs site generated once for the module, on a small published warehouse."""
    tmp = tmp_path_factory.mktemp("docs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MINERWATCH_LAKE_URL", f"file://{tmp / 'lake'}")
        mp.setenv("MINERWATCH_WAREHOUSE", str(tmp / "warehouse.duckdb"))
        mp.delenv("AWS_ENDPOINT_URL", raising=False)
        mp.delenv("MINERWATCH_DBT_PROJECT_DIR", raising=False)
        settings = load()
        published = published_path(settings)
        published.parent.mkdir(parents=True)
        con = duckdb.connect(str(published))
        con.execute("create schema marts")
        con.execute("create table marts.fct_network_daily (date_day date, hashrate_ehs double)")
        con.close()
        published.chmod(0o444)  # as publish leaves it
        started = time.time()
        result = docs_site.generate(settings)
        # what `dbt docs generate` writes in the build's target dir, if it wrote there
        build_target = settings.dbt_project_dir / "target"
        written_there = [
            p.name
            for p in (build_target / "catalog.json", build_target / "static_index.html")
            if p.exists() and p.stat().st_mtime >= started
        ]
        yield {"settings": settings, "result": result, "written_there": written_there}


@pytest.mark.slow
def test_the_static_page_is_published_beside_the_report_and_to_the_lake(site):
    settings, result = site["settings"], site["result"]
    assert result.ok, result.error
    page = settings.warehouse.parent / "published" / "docs" / "index.html"
    assert result.path == str(page)
    assert stat.S_IMODE(page.stat().st_mode) == 0o644
    html = page.read_bytes()
    assert result.size_bytes == len(html) > 100_000
    assert Lake(settings).read_bytes(docs_site.DOCS_KEY) == html
    assert result.lake_url.endswith("/reports/docs/index.html")
    # manifest and catalog are inlined: the models and the column types read from DuckDB
    text = html.decode()
    assert '"model.minerwatch.fct_sector_monthly"' in text
    assert re.search(r'"hashrate_ehs": \{"type": "DOUBLE"', text)
    assert '"send_anonymous_usage_stats": false' in text
    # the build's own dbt target dir is left alone (dbt ran with a temporary target path)
    assert site["written_there"] == []
    # the published warehouse was copied, not opened: still read-only, no lock taken
    assert stat.S_IMODE(published_path(settings).stat().st_mode) == 0o444


@pytest.mark.slow
def test_the_page_refers_to_no_other_host_but_the_gated_tracker(site):
    text = (site["settings"].warehouse.parent / "published/docs/index.html").read_text()
    external = re.findall(r"""(?:src|href)\s*=\s*["'](?:https?:)?//[^"']+""", text)
    assert sorted(external) == [
        'href="http://[::1]',  # AngularJS's URL-parsing probe: an <a> never added to the page
        'src="//d1fc8wv8zag5ca.cloudfront.net/2.9.0/sp.js',  # dbt-docs' tracker, off: below
    ]
    assert not re.findall(r"""url\(\s*["']?(?:https?:)?//""", text)  # fonts, images: local
    assert "@import" not in text
    assert not re.findall(r"<link[^>]+stylesheet", text)


class _Recorder(http.server.BaseHTTPRequestHandler):
    """A proxy that serves the page at http://docs.test/ and records every other request."""

    page = b""
    seen: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path == "http://docs.test/index.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(self.page)))
            self.end_headers()
            self.wfile.write(self.page)
            return
        self.seen.append(self.path.split("?")[0])
        self.send_response(502)
        self.end_headers()

    do_POST = do_HEAD = do_GET

    def do_CONNECT(self):  # noqa: N802
        self.seen.append(f"https://{self.path}")
        self.send_response(502)
        self.end_headers()

    def log_message(self, *args):
        pass


# Chromium's own services (time, component updates, sign-in), met with a blank page too
BROWSER_OWN = re.compile(r"^https?://[^/]*(google\.com|googleapis\.com|gvt1\.com)(:\d+)?(/|$)")


def _hosts_contacted(chromium, page: bytes) -> set[str]:
    _Recorder.page, _Recorder.seen = page, []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        dom = headless(
            chromium,
            f"--proxy-server=http://127.0.0.1:{server.server_address[1]}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            "http://docs.test/index.html",
            timeout=120,
        ).stdout
    finally:
        server.shutdown()
        server.server_close()
    assert "fct_sector_monthly" in dom  # the docs app rendered the inlined project
    urls = [u for u in _Recorder.seen if not BROWSER_OWN.match(u)]
    return {re.sub(r"^https?://([^/:]+).*", r"\1", u) for u in urls}


@pytest.mark.slow
def test_opened_in_a_browser_it_contacts_no_other_host(site, chromium):
    page = (site["settings"].warehouse.parent / "published/docs/index.html").read_bytes()
    # only same-origin misses (unrendered icon templates, the favicon placeholder)
    assert _hosts_contacted(chromium, page) <= {"docs.test"}
    # positive control: the page as dbt writes it with usage stats on loads dbt's tracker
    tracking = page.replace(
        b'"send_anonymous_usage_stats": false', b'"send_anonymous_usage_stats": true'
    )
    assert "d1fc8wv8zag5ca.cloudfront.net" in _hosts_contacted(chromium, tracking)


def test_a_failed_generation_is_reported_not_raised(env, caplog):
    settings = load()  # no published warehouse here
    with caplog.at_level("WARNING", logger="minerwatch.docs_site"):
        result = docs_site.generate(settings)
    assert not result.ok and result.path is None
    assert "no warehouse at" in result.error and "publish must run first" in result.error
    assert "dbt docs site could not be generated" in caplog.text
    assert not (env / "published" / "docs" / "index.html").exists()


@pytest.mark.slow
def test_the_page_is_kept_while_models_and_schema_are_unchanged(site, monkeypatch):
    """A daily run whose data changed but whose models did not reuses the page (no dbt run);
    a schema change makes a new one."""
    settings = site["settings"]
    monkeypatch.setenv("MINERWATCH_LAKE_URL", settings.lake_url)
    monkeypatch.setenv("MINERWATCH_WAREHOUSE", str(settings.warehouse))
    calls = []
    monkeypatch.setattr(docs_site, "render_static", lambda *a: calls.append(a) or b"<html/>")
    page = docs_site.docs_path(settings)
    before = page.read_bytes()
    again = docs_site.generate(settings)
    assert again.ok and calls == [] and page.read_bytes() == before
    published = published_path(settings)
    published.chmod(0o644)
    con = duckdb.connect(str(published))
    con.execute("alter table marts.fct_network_daily add column price_usd double")
    con.close()
    assert docs_site.generate(settings).ok and len(calls) == 1
    assert page.read_bytes() == b"<html/>"
