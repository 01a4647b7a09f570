"""`dag.test()` end to end on the replay server: extract → GX → stage → dbt build → publish →
report, run once per module (the day, the same day again, the next day); each test checks one
guarantee on what the runs left: what is landed, traced, published and rendered; the same date
twice lands no new raw objects and leaves the mart identical; the next day fetches only an
overlap window and adds its day; the API key is never written.
"""

import contextlib
import datetime as dt
import hashlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from minerwatch import universe
from minerwatch.cli import run_dag
from minerwatch.demo.replay import ReplayServer
from minerwatch.publish import MARTS
from minerwatch.settings import REPO_ROOT, load
from tests.support.services import headless
from tests.support.settings import isolate

DAY = dt.date(2024, 6, 29)

pytestmark = pytest.mark.slow


def _lake_files(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _mart_digest(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("select * from marts.fct_network_daily order by date_day").fetchall()
    finally:
        con.close()
    return hashlib.sha256(repr(rows).encode()).hexdigest(), len(rows)


SECRET = "dummy-secret-cm-key-5150"


@dataclass
class Runs:
    """What the three runs of the module left: the lake after each, the requests of each, the
    warehouse's network mart after each, and everything written to fds 1 and 2."""

    env: Path
    settings: object
    airflow_home: Path
    states: list[str] = field(default_factory=list)
    requests: list[list[str]] = field(default_factory=list)
    files: list[dict[str, bytes]] = field(default_factory=list)
    digests: list[tuple[str, int]] = field(default_factory=list)
    output: str = ""


@contextlib.contextmanager
def _fd_output(path: Path):
    """Everything written to fds 1 and 2 (children's output) and to sys.stdout/sys.stderr (this
    process's, which pytest replaces) goes to ``path``, as ``capfd`` would catch it."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with path.open("wb") as fh, open(fh.fileno(), "w", closefd=False) as text:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        try:
            with contextlib.redirect_stdout(text), contextlib.redirect_stderr(text):
                yield
        finally:
            text.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


@pytest.fixture(scope="module")
def runs(airflow_db, sample_recording, tmp_path_factory) -> Runs:
    """The daily DAG three times with dag.test() on the replay server, as a scheduler would: the
    day, the same day again, the next day. Each test below checks one guarantee on what they
    left, so a failure names the guarantee that broke."""
    root = tmp_path_factory.mktemp("dag-run")
    mp = pytest.MonkeyPatch()
    isolate(mp, root)
    mp.setenv("MINERWATCH_SEC_USER_AGENT", "minerwatch tests tests@example.invalid")
    mp.setenv("MINERWATCH_COINMETRICS_API_KEY", SECRET)
    mp.setenv("MINERWATCH_CLAIMS_FILE", str(REPO_ROOT / "claims" / "sample_demo.yml"))
    out = Runs(env=root, settings=load(), airflow_home=airflow_db)
    try:
        with ReplayServer(sample_recording) as server, _fd_output(root / "output.txt"):
            for k, v in server.env().items():
                mp.setenv(k, v)
            out.settings = load()
            for day in (DAY, DAY, DAY + dt.timedelta(days=1)):
                server.requests.clear()
                out.states.append(run_dag(day))
                out.requests.append(list(server.requests))
                out.files.append(_lake_files(root / "lake"))
                out.digests.append(_mart_digest(out.settings.warehouse))
        out.output = (root / "output.txt").read_text(errors="replace")
        yield out
    finally:
        mp.undo()


def test_every_run_succeeds(runs):
    assert [s.endswith("success") for s in runs.states] == [True, True, True], runs.states


def test_the_first_run_reads_the_configured_sources_from_genesis(runs):
    assert runs.requests[0], "the DAG did not call the configured (replay) server"
    assert any("start_time=2009-01-03" in r for r in runs.requests[0])  # genesis, empty lake


def test_the_first_run_lands_each_answer_once(runs):
    raw = [k for k in runs.files[0] if k.startswith("raw/") and not k.endswith(".meta.json")]
    # network 4: Coin Metrics, mempool difficulty, daily hash rate and pool shares (the sample
    # has no pool statistics: that answer is a landed 404); prices: each ticker with a
    # membership period in the window + BTC-USD; SEC company_tickers + each CIK of those periods
    # × (submissions, companyfacts); per candidate filing its index and its exhibits 99.x
    tickers = universe.price_tickers(start=runs.settings.history_start, end=DAY)
    ciks = universe.ciks(runs.settings.history_start, DAY)
    assert len(tickers) == 15 and len(ciks) == 15  # 14 tickers; HUT had two issuers
    indexes = [k for k in raw if "/filing_index/" in k]
    exhibits = [k for k in raw if "/exhibits/" in k]
    assert len(indexes) >= len(exhibits) > 14
    assert len(raw) == 4 + len(tickers) + 1 + 2 * len(ciks) + len(indexes) + len(exhibits)


def test_the_network_mart_covers_genesis_to_the_day_and_traces_to_raw(runs):
    assert runs.digests[0][1] == (DAY - dt.date(2009, 1, 3)).days + 1
    con = duckdb.connect(str(runs.settings.warehouse), read_only=True)
    try:
        schemas = {
            r[0]
            for r in con.execute("select schema_name from information_schema.schemata").fetchall()
        }
        last = con.execute(
            "select block_height, subsidy_btc, hashrate_ehs, difficulty, source, raw_key "
            "from marts.fct_network_daily where date_day = ?",
            [DAY],
        ).fetchone()
    finally:
        con.close()
    assert {"staging", "intermediate", "marts"} <= schemas
    assert last[0] > 0 and last[1] > 0 and last[2] > 0 and last[3] > 1
    assert last[5] in runs.files[-1]  # the mart row points at the raw object it came from


def test_the_market_marts_trace_to_prices_and_filings(runs):
    _check_market_marts(runs.settings.warehouse, runs.files[-1])


def test_the_published_warehouse_serves_bi_tools(runs):
    _check_bi_connection(runs.env / "published" / "warehouse.duckdb")


def test_the_report_renders_in_a_browser(runs, chromium):
    _check_report_in_chromium(runs.env, chromium)


def test_the_same_date_again_changes_nothing(runs):
    # no new raw objects, the same bytes everywhere (byte-identical published Parquet marts
    # among them), the same mart
    assert len([k for k in runs.files[0] if k.startswith("marts/")]) == 8
    assert runs.files[1] == runs.files[0]
    assert runs.digests[1] == runs.digests[0]


def test_the_next_day_fetches_an_overlap_window_and_adds_its_day(runs):
    assert any(f"start_time={DAY - dt.timedelta(days=6)}" in r for r in runs.requests[2])
    now = runs.files[2]
    assert all(now[k] == v for k, v in runs.files[0].items() if k.startswith("raw/"))  # none lost
    assert runs.digests[2][1] == runs.digests[0][1] + 1


def test_per_company_work_runs_in_labelled_chunks(runs):
    # one mapped task instance per chunk of COMPANIES_PER_TASK companies, shown in the UI by the
    # companies it holds
    from airflow.models import TaskInstance
    from airflow.utils.session import create_session

    tickers = universe.price_tickers(start=runs.settings.history_start, end=DAY)
    with create_session() as session:
        labels = {
            (ti.task_id, ti.rendered_map_index)
            for ti in session.query(TaskInstance).filter(
                TaskInstance.dag_id == "minerwatch_daily",
                TaskInstance.task_id.in_(["extract_prices", "extract_sec_company"]),
            )
        }
    assert ("extract_prices", f"{tickers[0]}..{tickers[-1]} ({len(tickers)})") in labels
    assert {task for task, _ in labels} == {"extract_prices", "extract_sec_company"}


def test_the_api_key_is_sent_but_never_written(runs):
    # redacted in every log line, nowhere in the lake, the published marts, the task logs or
    # the output
    assert any("api_key=REDACTED" in r for r in runs.requests[0])
    for path in runs.env.rglob("*"):
        if path.is_file() and path.name != "output.txt":
            assert SECRET.encode() not in path.read_bytes(), path
    for path in runs.airflow_home.rglob("*.log"):
        assert SECRET not in path.read_text(errors="replace"), path
    assert "block height" in runs.output  # the runs' headlines: the capture works
    assert SECRET not in runs.output


def _check_market_marts(path, lake_files):
    con = duckdb.connect(str(path), read_only=True)
    try:
        for table in ("fct_miner_market_daily", "fct_sector_daily", "fct_miner_performance_monthly",
                      "fct_sector_monthly", "dim_miners", "fct_miner_hashrate_monthly"):  # fmt: skip
            assert con.execute(f"select count(*) from marts.{table}").fetchone()[0] > 0, table
        # a market cap traces to its close (raw price response) and its share-count filing
        ticker, close, shares, mcap, accession, url, price_key = con.execute(
            "select ticker, close_usd, shares_outstanding, market_cap_usd, shares_source, "
            "shares_source_url, price_raw_key from marts.fct_miner_market_daily "
            "where date_day = (select max(date_day) from marts.fct_miner_market_daily) "
            "and ticker = 'MARA'"
        ).fetchone()
        assert mcap == pytest.approx(close * shares)
        assert price_key in lake_files
        assert accession.replace("-", "") in url
        filed = con.execute(
            "select count(*) from staging.stg_sec__share_counts where accession = ?", [accession]
        ).fetchone()[0]
        assert filed >= 1
        members = con.execute(
            "select miners_count, miners_tracked, missing_tickers from marts.fct_sector_daily "
            "order by date_day desc limit 1"
        ).fetchone()
        assert members == (14, 14, "")
        # the current periods' CIKs agree with SEC's map; ended periods are not compared
        checks = dict(
            con.execute(
                "select cik_check_status, count(*) from marts.dim_miners group by 1"
            ).fetchall()
        )
        current = con.execute(
            "select count(*) from marts.dim_miners where is_current_member"
        ).fetchone()[0]
        assert checks.get("ok") == current and set(checks) <= {"ok", "period_ended"}
    finally:
        con.close()


def _check_bi_connection(published):
    """As Superset / Metabase connect: SQLAlchemy with duckdb-engine, read-only."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(f"duckdb:///{published}", connect_args={"read_only": True})
    try:
        assert set(MARTS) <= set(inspect(engine).get_table_names(schema="marts"))
        with engine.connect() as c:
            for table in MARTS:
                n = c.execute(text(f"select count(*) from marts.{table}")).scalar()
                assert n > 0, table
            # persist_docs: the dbt descriptions reach the published tables and columns
            described = c.execute(
                text(
                    "select table_name, count(*) filter (where comment is null or comment = ''), "
                    "count(*) from duckdb_columns() where schema_name = 'marts' group by 1"
                )
            ).fetchall()
            assert {t for t, _, _ in described} >= set(MARTS)
            assert all(missing == 0 for _, missing, _ in described), described
            tables = c.execute(
                text(
                    "select count(*) from duckdb_tables() where schema_name = 'marts' "
                    "and (comment is null or comment = '')"
                )  # fmt: skip
            ).scalar()
            assert tables == 0
    finally:
        engine.dispose()


def _check_report_in_chromium(env, chromium):
    from PIL import Image

    report = env / "published" / "reports" / f"minerwatch-{DAY:%Y-%m}.html"
    assert (env / "lake" / "reports" / f"month={DAY:%Y-%m}" / "report.html").exists()
    shot = env / "report.png"
    headless(chromium, "--window-size=1000,2800", f"--screenshot={shot}", report.as_uri())
    img = Image.open(shot).convert("RGB")
    colors = img.getcolors(maxcolors=1 << 24)
    white = max(n for n, rgb in colors if rgb == (255, 255, 255))
    assert len(colors) > 100, "the screenshot is (nearly) blank"
    assert 1 - white / (img.width * img.height) > 0.03, "the screenshot is (nearly) blank"
    # the headline numbers, as the warehouse has them, are in the rendered page
    dom = headless(chromium, "--dump-dom", report.as_uri()).stdout
    con = duckdb.connect(str(env / "published" / "warehouse.duckdb"), read_only=True)
    try:
        mcap, hashprice, ratio = con.execute(
            "select sector_market_cap_usd, avg_hashprice_usd_per_ehs_day, "
            "mcap_to_four_year_reward from marts.fct_sector_monthly where month_start = ?",
            [DAY.replace(day=1)],
        ).fetchone()
    finally:
        con.close()
    assert f"${mcap / 1e9:,.1f} bn" in dom
    assert f"${hashprice:,.0f} /EH/s/day" in dom
    assert f"{ratio * 100:.1f} %" in dom
    assert "claims from sample_demo.yml" in dom and dom.count("<svg") >= 7
