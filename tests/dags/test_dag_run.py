"""`dag.test()` end to end on the replay server: extract → GX → stage → dbt build → headline.

Also the idempotency contract: the same date twice lands no new raw objects and leaves the mart
identical; the next day fetches only an overlap window and adds its day.
"""

import datetime as dt
import hashlib

import duckdb
import pytest

from minerwatch import universe
from minerwatch.cli import run_dag
from minerwatch.publish import MARTS
from minerwatch.settings import REPO_ROOT, load
from tests.support.services import headless

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


@pytest.fixture(autouse=True)
def _sec_user_agent(env, monkeypatch):
    monkeypatch.setenv("MINERWATCH_SEC_USER_AGENT", "minerwatch tests tests@example.invalid")


SECRET = "dummy-secret-cm-key-5150"


def test_daily_dag_end_to_end_is_idempotent_and_incremental(
    airflow_db, env, replay, monkeypatch, capfd, chromium
):
    monkeypatch.setenv("MINERWATCH_COINMETRICS_API_KEY", SECRET)
    monkeypatch.setenv("MINERWATCH_CLAIMS_FILE", str(REPO_ROOT / "claims" / "sample_demo.yml"))
    settings = load()
    lake_root = env / "lake"

    assert run_dag(DAY).endswith("success")
    assert replay.requests, "the DAG did not call the configured (replay) server"
    assert any("start_time=2009-01-03" in r for r in replay.requests)  # genesis on an empty lake
    first_files = _lake_files(lake_root)
    raw = [k for k in first_files if k.startswith("raw/") and not k.endswith(".meta.json")]
    # network 2, prices: each ticker with a membership period in the window + BTC-USD, SEC
    # company_tickers + each CIK of those periods × (submissions, companyfacts), and per
    # candidate filing its index and the exhibits 99.x it lists
    tickers = universe.price_tickers(start=settings.history_start, end=DAY)
    ciks = universe.ciks(settings.history_start, DAY)
    assert len(tickers) == 15 and len(ciks) == 15  # 14 tickers; HUT had two issuers
    indexes = [k for k in raw if "/filing_index/" in k]
    exhibits = [k for k in raw if "/exhibits/" in k]
    assert len(indexes) >= len(exhibits) > 14
    # network 4: Coin Metrics, mempool difficulty, daily hash rate and pool shares (the sample
    # has no pool statistics: that answer is a landed 404)
    assert len(raw) == 4 + len(tickers) + 1 + 2 * len(ciks) + len(indexes) + len(exhibits)
    digest, rows = _mart_digest(settings.warehouse)
    assert rows == (DAY - dt.date(2009, 1, 3)).days + 1

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    last = con.execute(
        "select block_height, subsidy_btc, hashrate_ehs, difficulty, source, raw_key "
        "from marts.fct_network_daily where date_day = ?",
        [DAY],
    ).fetchone()
    schemas = {
        r[0] for r in con.execute("select schema_name from information_schema.schemata").fetchall()
    }
    con.close()
    assert {"staging", "intermediate", "marts"} <= schemas
    assert last[0] > 0 and last[1] > 0 and last[2] > 0 and last[3] > 1
    assert last[5] in first_files  # the mart row points at the raw object it came from
    _check_market_marts(settings.warehouse, first_files)
    _check_bi_connection(env / "published" / "warehouse.duckdb")
    _check_report_in_chromium(env, chromium)

    # the same date again: no new raw objects, the same bytes everywhere, the same mart, and
    # byte-identical published Parquet marts
    published = {k: v for k, v in first_files.items() if k.startswith("marts/")}
    assert len(published) == 8
    replay.requests.clear()
    assert run_dag(DAY).endswith("success")
    assert _lake_files(lake_root) == first_files
    assert _mart_digest(settings.warehouse) == (digest, rows)

    # the next day: an overlap window only, one more day in the mart
    nxt = DAY + dt.timedelta(days=1)
    replay.requests.clear()
    assert run_dag(nxt).endswith("success")
    assert any(f"start_time={DAY - dt.timedelta(days=6)}" in r for r in replay.requests)
    now = _lake_files(lake_root)
    assert all(now[k] == v for k, v in first_files.items() if k.startswith("raw/"))  # none lost
    assert _mart_digest(settings.warehouse)[1] == rows + 1

    # the key was sent (redacted in every log line) but is nowhere in the lake, the published
    # marts, the task logs or the output
    assert any("api_key=REDACTED" in r for r in replay.requests)
    for path in env.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    for path in airflow_db.rglob("*.log"):
        assert SECRET not in path.read_text(errors="replace"), path
    out, err = capfd.readouterr()
    assert SECRET not in out and SECRET not in err


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
