"""The dbt docs site, published beside the monthly report after every audited build.

``dbt docs generate --static`` writes one self-contained page, ``static_index.html``, in dbt's
target directory: the docs app's scripts and styles inline, the manifest (every model, column,
description, test and the lineage graph) and the catalog (column types read from DuckDB)
inlined as JSON. It is copied to ``published/docs/index.html`` beside ``published/reports/``
and to the lake under ``reports/docs/index.html``, so the report links it as
``../docs/index.html`` from either place.

The catalog is read from a private copy of the *published* warehouse: the docs describe exactly
what BI users query, and dbt — which opens its DuckDB file read-write — never meets another
process's lock (the DAG's ``headline`` task reads the build's file at the same time, and DuckDB
allows one writing process per file). dbt's target and log directories are temporary too, so
the build's ``manifest.json`` and ``run_results.json`` are left alone.

Nothing in the page is fetched when it opens, with one exception that is switched off here:
dbt-docs loads a Snowplow tracker (``d1fc8wv8zag5ca.cloudfront.net/2.9.0/sp.js``) when the
inlined manifest says ``send_anonymous_usage_stats: true``. dbt runs with
``--no-send-anonymous-usage-stats`` and the page is refused if its manifest says otherwise.

A failure never stops the report: :func:`generate` returns the reason, the report prints it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from minerwatch.errors import MinerwatchError
from minerwatch.lake import Lake
from minerwatch.settings import Settings

log = logging.getLogger(__name__)

DOCS_KEY = "reports/docs/index.html"
# relative to the report, from published/reports/<file>.html and from reports/month=…/report.html
REPORT_LINK = "../docs/index.html"
TRACKING_ON = b'"send_anonymous_usage_stats": true'
DBT_ARGS = [
    "--no-send-anonymous-usage-stats",  # the page then never loads dbt-docs' tracker
    "docs",
    "generate",
    "--static",
]


@dataclass(frozen=True)
class DocsSite:
    """What :func:`generate` did: where the page is, how long it took, or why it failed."""

    path: str | None
    lake_url: str | None
    seconds: float
    size_bytes: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def docs_path(settings: Settings) -> Path:
    """``<warehouse dir>/published/docs/index.html``."""
    return settings.warehouse.parent / "published" / "docs" / "index.html"


def render_static(settings: Settings, warehouse: Path) -> bytes:
    """Run ``dbt docs generate --static`` with the catalog read from a private copy of
    ``warehouse``; return the page's bytes."""
    from minerwatch.warehouse import run_dbt

    if not warehouse.exists():
        raise MinerwatchError(f"no warehouse at {warehouse}: publish must run first")
    with tempfile.TemporaryDirectory(prefix="minerwatch-docs-") as tmp:
        # the same file name: dbt-duckdb names the database after it, as in the build
        copy = Path(tmp) / settings.warehouse.name
        shutil.copyfile(warehouse, copy)
        os.chmod(copy, 0o644)  # the published copy is read-only; dbt opens its file read-write
        target = Path(tmp) / "target"
        run_dbt(
            [*DBT_ARGS, "--target-path", str(target), "--log-path", str(Path(tmp) / "logs")],
            dataclasses.replace(settings, warehouse=copy),
        )
        page = target / "static_index.html"
        if not page.exists():
            raise MinerwatchError(f"dbt docs generate --static wrote no {page.name} in {target}")
        html = page.read_bytes()
    if TRACKING_ON in html:
        raise MinerwatchError(
            "the generated docs page would load dbt's usage tracker from the network "
            "(its manifest says send_anonymous_usage_stats: true); not published"
        )
    return html


FINGERPRINT_KEY = "reports/docs/fingerprint.txt"


def fingerprint(settings: Settings, warehouse: Path) -> str:
    """What the docs page is made of: the dbt project's files (models, properties, tests,
    seeds, macros) and the warehouse's schema (the catalog lists tables, columns and types, not
    data). The same fingerprint gives the same page, so a daily run whose data changed but whose
    models did not reuses the last page instead of spending ~8 s in dbt."""
    import hashlib

    import duckdb

    from minerwatch.warehouse import project_fingerprint

    digest = hashlib.sha256(project_fingerprint(settings.dbt_project_dir).encode())
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select table_schema, table_name, column_name, data_type, ordinal_position "
            "from information_schema.columns order by all"
        ).fetchall()
    finally:
        con.close()
    digest.update(repr(rows).encode())
    return digest.hexdigest()


def generate(settings: Settings) -> DocsSite:
    """Generate the docs site from the published warehouse and publish it locally and to the
    lake — unless the models and the schema are those of the page already published (then that
    page is kept). Never raises: on failure a warning is logged and the reason returned."""
    from minerwatch.publish import published_path

    started = time.monotonic()
    try:
        lake = Lake(settings)
        target = docs_path(settings)
        published = published_path(settings)
        if not published.exists():
            raise MinerwatchError(f"no warehouse at {published}: publish must run first")
        current = fingerprint(settings, published)
        previous = (
            lake.read_bytes(FINGERPRINT_KEY).decode()
            if lake.exists(FINGERPRINT_KEY) and lake.exists(DOCS_KEY)
            else None
        )
        if previous == current and target.exists():
            seconds = time.monotonic() - started
            log.info("dbt docs site unchanged (same models and schema): kept %s", target)
            return DocsSite(str(target), lake.url(DOCS_KEY), seconds, target.stat().st_size)
        html = render_static(settings, published_path(settings))
        _write_public(target, html)
        lake.replace(DOCS_KEY, html)
        lake.replace(FINGERPRINT_KEY, current.encode())
    except Exception as exc:  # the docs site is auxiliary: the report goes on without it
        seconds = time.monotonic() - started
        reason = _reason(exc)
        log.warning("dbt docs site could not be generated (after %.1f s): %s", seconds, reason)
        return DocsSite(path=None, lake_url=None, seconds=seconds, error=reason)
    seconds = time.monotonic() - started
    log.info(
        "dbt docs site (%.1f MB) generated in %.1f s: %s and %s",
        len(html) / 1e6,
        seconds,
        target,
        lake.url(DOCS_KEY),
    )
    return DocsSite(str(target), lake.url(DOCS_KEY), seconds, len(html))


def _write_public(target: Path, data: bytes) -> None:
    """Atomically replace ``target`` with ``data``, readable by all (0644)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _reason(exc: BaseException) -> str:
    """The error in a few lines (dbt's failing lines included, its whole log not)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = " | ".join(lines[:6]) or type(exc).__name__
    return text if len(text) <= 600 else text[:597] + "..."
