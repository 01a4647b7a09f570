"""Claims check (parsing, resolution against the catalog, the three outcomes) and the report's
rendering, on a small warehouse built here with the marts' real column names."""

from __future__ import annotations

import datetime as dt
import json
import re
import stat
import textwrap
from pathlib import Path

import duckdb
import pytest

from minerwatch import charts, claims, report
from minerwatch.docs_site import DocsSite
from minerwatch.errors import ConfigurationError, MinerwatchError
from minerwatch.lake import Lake
from minerwatch.publish import MARTS, published_path
from minerwatch.settings import load

MONTH = dt.date(2024, 6, 1)


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("create schema marts")
    c.execute(
        """create table marts.fct_sector_monthly as select
            date '2024-06-01' as month_start, date '2024-06-28' as month_end_date,
            14 as miners_count, 49.7e9 as sector_market_cap_usd,
            -10.0 as sector_market_cap_change_pct, 580.0 as avg_hashrate_ehs,
            -2.5 as hashrate_change_pct, -3.7 as difficulty_change_pct,
            52964.0 as avg_hashprice_usd_per_ehs_day, -4.4 as hashprice_change_pct,
            cast(null as double) as sector_hashrate_share, 0 as hashrate_reporting_miners,
            cast(null as varchar) as hashrate_kinds, 0.65 as mcap_to_remaining_btc_value,
            1.299 as mcap_to_four_year_reward, 'BITF' as best_ticker, 15.7 as best_return_pct,
            'RIOT' as worst_ticker, -30.6 as worst_return_pct, -4.2 as btc_return_pct,
            true as is_month_complete, 14 as miners_tracked, '' as missing_tickers,
            '' as missing_reasons, cast(null as varchar) as hashrate_reporting_tickers,
            0.72 as mcap_to_four_year_reward_flat,
            cast(null as double) as mcap_to_proportional_four_year_reward,
            cast(null as double) as sector_realized_hashrate_share, 'test' as source"""
    )
    c.execute(
        """create table marts.fct_sector_daily as select
            d::date as date_day, 14 as miners_count, 4e10 + i * 1e8 as sector_market_cap_usd,
            6e10 as remaining_btc_value_usd, 0.6 + i / 1000 as mcap_to_remaining_btc_value,
            3e10 as four_year_reward_usd, 1.2 + i / 500 as mcap_to_four_year_reward,
            60000 + i * 10 as btc_price_usd, 0.7 + i / 1000 as mcap_to_four_year_reward_flat,
            14 as miners_tracked, '' as missing_tickers, '' as missing_reasons, 'test' as source
        from (select unnest(range(date '2024-01-01', date '2024-07-01', interval 1 day)) d,
                     unnest(range(182)) i)"""
    )
    c.execute(
        """create table marts.fct_network_daily as select date_day, 600.0 as hashrate_ehs_7d,
            50000.0 as hashprice_usd_per_ehs_day, 'coinmetrics' as source
        from marts.fct_sector_daily"""
    )
    c.execute(
        """create table marts.fct_miner_hashrate_monthly as select date '2024-05-01' as
            month_start, t as ticker, 20.0 as reported_hashrate_ehs, 'operating' as
            hashrate_kind, 'https://www.sec.gov/x' as source_url, 0.035 as hashrate_share,
            0.03 as realized_hashrate_share, 0.857 as realization_rate,
            2e8 as mcap_per_ehs_usd
        from (select unnest(['MARA', 'RIOT']) t)"""
    )
    c.execute(
        """create table marts.fct_miner_performance_monthly as select date '2024-06-01' as
            month_start, t as ticker, r as return_pct, -4.2 as btc_return_pct,
            r + 4.2 as excess_return_pct, 1 as rank
        from (select unnest(['BITF', 'RIOT']) t, unnest([15.7, -30.6]) r)"""
    )
    c.execute(
        """create table marts.fct_miner_market_daily as select date_day, 'MARA' as ticker,
            1e9 as market_cap_usd from marts.fct_sector_daily"""
    )
    yield c
    c.close()


def _write(tmp_path, text: str):
    path = tmp_path / "claims.yml"
    path.write_text(textwrap.dedent(text))
    return path


CLAIMS = """
claims:
  - id: hashprice
    figure: avg_hashprice_usd_per_ehs_day
    month: 2024-06
    value: 53000
    tolerance: 0.01
    published_by: Example
    source: p. 3
  - id: mcap-wrong
    figure: fct_sector_monthly.sector_market_cap_usd
    month: 2024-06
    value: 60.0e9
    tolerance: 0.02
    published_by: Example
    source: p. 1
  - id: share-missing
    figure: sector_hashrate_share
    month: 2024-06
    value: 0.25
    tolerance_abs: 0.01
    published_by: Example
    source: p. 2
  - id: mara-share
    figure: hashrate_share
    ticker: mara
    month: 2024-05
    value: 0.035
    tolerance_abs: 0.0005
    published_by: Example
    source: p. 4
  - id: future
    figure: mcap_to_four_year_reward
    date: 2030-01-02
    value: 1.3
    tolerance: 0.05
    published_by: Example
    source: p. 5
"""


def test_claims_have_three_outcomes_with_the_computed_value(tmp_path, con):
    results = {r.claim.id: r for r in claims.check(claims.load(_write(tmp_path, CLAIMS)), con)}
    assert results["hashprice"].status == claims.SUPPORTED
    assert results["hashprice"].computed == pytest.approx(52964.0)
    assert results["mcap-wrong"].status == claims.CONTRADICTED
    assert results["mcap-wrong"].difference == pytest.approx(49.7e9 - 60e9)
    assert results["share-missing"].status == claims.NOT_ENOUGH  # null: nobody reported
    assert results["mara-share"].status == claims.SUPPORTED
    assert results["mara-share"].table == "fct_miner_hashrate_monthly"
    assert results["future"].status == claims.NOT_ENOUGH
    assert results["future"].table == "fct_sector_daily"  # resolved by grain: a daily claim


@pytest.mark.parametrize(
    "body, message",
    [
        ("claims: {}", "top-level 'claims:' list"),
        (
            "claims:\n  - {id: a, figure: x, value: 1, published_by: p, month: 2024-06, "
            "tolerance: 0.1}",
            "'source' is required",
        ),  # fmt: skip
        (
            "claims:\n  - {id: a, figure: x, value: 1, published_by: p, source: s, tolerance: 1}",
            "exactly one of 'date'",
        ),  # fmt: skip
        (
            "claims:\n  - {id: a, figure: x, value: one, published_by: p, source: s, "
            "month: 2024-06, tolerance: 1}",
            "value 'one' is not a number",
        ),  # fmt: skip
        (
            "claims:\n  - {id: a, figure: x, value: 1, published_by: p, source: s, month: 2024-06}",
            "tolerance",
        ),  # fmt: skip
        ("claims: [", "cannot be read as YAML"),
    ],
)
def test_malformed_claims_files_say_what_is_wrong(tmp_path, body, message):
    with pytest.raises(ConfigurationError, match=message):
        claims.load(_write(tmp_path, body))


@pytest.mark.parametrize(
    "figure, extra, message",
    [
        ("no_such_column", "month: 2024-06", "in no mart"),
        ("marts_dropped.x", "month: 2024-06", "not a column of a claimable mart"),
        ("hashrate_share", "month: 2024-05", "needs 'ticker'"),
        ("fct_sector_monthly.sector_market_cap_usd", "date: 2024-06-03", "is monthly"),
        ('x" from marts.fct_sector_monthly; --', "month: 2024-06", "not a column"),
        ("drop table marts", "month: 2024-06", "in no mart"),
    ],
)
def test_figures_are_resolved_against_the_catalog_only(tmp_path, con, figure, extra, message):
    body = f"""
    claims:
      - id: a
        figure: '{figure}'
        {extra}
        value: 1
        tolerance: 0.1
        published_by: p
        source: s
    """
    with pytest.raises(ConfigurationError, match=message):
        claims.check(claims.load(_write(tmp_path, body)), con)


def test_the_shipped_example_file_parses():
    from minerwatch.settings import REPO_ROOT

    loaded = claims.load(REPO_ROOT / "claims" / "sample_demo.yml")
    assert len(loaded) >= 5 and all(c.source and c.published_by for c in loaded)


def test_report_is_self_contained_and_shows_headline_claims_and_sources(tmp_path, con):
    results = claims.check(claims.load(_write(tmp_path, CLAIMS)), con)
    docs = DocsSite(path="published/docs/index.html", lake_url=None, seconds=8.0)
    html = report.render(
        report.gather(con, MONTH), results, tmp_path / "claims.yml", sample=True, docs=docs
    )
    assert "June 2024" in html and "$49.7 bn" in html and "$52,964" in html
    assert "65.0 %" in html and "129.9 %" in html and "BITF" in html and "-4.2 %" in html
    assert "SAMPLE DATA" in html
    # five charts of the note + reported vs realized share and price to hash (May's releases)
    assert html.count("<svg") == 7 and html.count("Source:") == 7
    assert "Reported against realized share of network hash rate, May 2024" in html
    assert "Price to hash: market cap per reported EH/s, May 2024" in html
    assert "72.0 %" in html and "halving-aware 129.9 %" in html  # both four-year ratios
    assert "contradicted" in html and "supported" in html and "not enough data" in html
    # nothing fetched when opened: no scripts, external stylesheets, images or fonts
    for needle in ("<script", "<link", "src=", "url(", "@import"):
        assert needle not in html, needle
    # and exactly one link, relative, to the dbt docs site published beside the report (a
    # link is followed only when clicked; nothing points to another host)
    assert html.count("href=") == 1
    assert re.findall(r'<a href="([^"]*)">', html) == ["../docs/index.html"]


def test_report_without_market_data_says_so(con):
    con.execute("delete from marts.fct_sector_monthly")
    html = report.render(report.gather(con, MONTH))
    assert "Not enough data for this month" in html


def test_nice_ticks_cover_the_range():
    ticks = charts.nice_ticks(3.2, 97.5)
    assert ticks[0] <= 3.2 and ticks[-1] >= 97.5 and len(ticks) <= 7
    assert charts.nice_ticks(5.0, 5.0)[0] < 5.0 < charts.nice_ticks(5.0, 5.0)[-1]


def test_report_shows_pool_shares_when_the_mart_exists(con):
    con.execute(
        """create table marts.fct_pool_share_monthly as select date '2024-06-01' as month_start,
            p as pool_slug, p as pool_name, s as block_share, cast(null as bigint) as block_count,
            'test' as source
        from (select unnest(['foundryusa', 'antpool', 'tiny']) p, unnest([0.3, 0.2, 0.01]) s)"""
    )
    html = report.render(report.gather(con, MONTH))
    assert "Mining pools&#x27; share of blocks (pools are not companies)" in html or (
        "Mining pools' share of blocks (pools are not companies)" in html
    )
    assert html.count("<svg") == 8 and "foundryusa" in html


def test_coverage_banner_when_a_member_is_missing(con):
    con.execute(
        "update marts.fct_sector_monthly set miners_count = 13, missing_tickers = 'SDIG', "
        "missing_reasons = 'SDIG (no prices from the source)'"
    )
    html = report.render(report.gather(con, MONTH))
    assert "Coverage: 13 of 14 members" in html and "SDIG (no prices from the source)" in html
    assert "Combined market cap (13 of 14 members)" in html


# -- the data-quality section and the docs site ---------------------------------------------
RUN = dt.date(2024, 6, 29)


def _gx_result(suite: str, outcomes: list[tuple[str, str | None, bool]]) -> dict:
    """A validation result as publish.audit keeps it (GX 1.x to_json_dict, stable fields)."""
    results = [
        {
            "success": ok,
            "expectation_config": {
                "type": kind,
                "kwargs": {"column": column} if column else {},
                "meta": {"reason": "test"},
            },
            "result": {},
        }
        for kind, column, ok in outcomes
    ]
    passed = sum(ok for _, _, ok in outcomes)
    return {
        "success": passed == len(outcomes),
        "suite_name": suite,
        "results": results,
        "statistics": {
            "evaluated_expectations": len(outcomes),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(outcomes) - passed,
            "success_percent": 100.0 * passed / len(outcomes),
        },
        "meta": {},
    }


def _audited_lake(env) -> Lake:
    """Audit results for every mart but the last; one failing expectation; one quarantine."""
    lake = Lake(load())
    marts = list(MARTS)
    for table in marts[:-1]:
        outcomes = [("expect_table_row_count_to_be_between", None, True)]
        if table == "fct_network_daily":
            outcomes += [
                ("expect_column_values_to_be_between", "hashrate_ehs", False),
                ("expect_column_values_to_not_be_null", "date_day", True),
            ]
        lake.replace(
            report.audit_key(table, RUN), json.dumps(_gx_result(f"mart_{table}", outcomes)).encode()
        )
    lake.replace(  # another date's audit is not this run's
        report.audit_key(marts[-1], dt.date(2024, 6, 28)),
        json.dumps(_gx_result("x", [("expect_x", None, True)])).encode(),
    )
    import pandas as pd

    lake.quarantine("market", "prices_daily", RUN, pd.DataFrame({"v": [-1.0]}), {}, [])
    lake.quarantine("market", "prices_daily", "2024-06-28", pd.DataFrame({"v": [-2.0]}), {}, [])
    return lake


def test_data_quality_section_lists_each_marts_audit_for_the_run(env, con):
    quality = report.quality_summary(_audited_lake(env), RUN)
    rows = {m["table"]: m for m in quality["marts"]}
    assert list(rows) == list(MARTS)
    assert rows["fct_network_daily"]["evaluated"] == 3 and rows["fct_network_daily"]["passed"] == 2
    assert not rows[list(MARTS)[-1]]["found"]
    assert (
        len(quality["quarantined"]) == 1 and "logical_date=2024-06-29" in quality["quarantined"][0]
    )

    data = report.gather(con, MONTH)
    data["quality"] = quality
    html = report.render(data, generated_for=RUN)
    section = html.split("<h2>Data quality</h2>", 1)[1].split("<h2>", 1)[0]
    n = len(MARTS) - 1
    assert f"{n + 1} of {n + 2} expectations passed on {n} of {n + 1} marts" in section
    assert "failed: expect_column_values_to_be_between on hashrate_ehs" in section
    assert "no audit result for this date" in section
    assert "Batches quarantined for 2024-06-29: 1 — quarantine/market/prices_daily/" in section
    assert "audit/&lt;mart&gt;/logical_date=2024-06-29/validation_result.json" in section
    # GX's own Data Docs need CDNs: said, and why they are not published
    assert "Data Docs are not published" in section and "unusable offline" in section
    assert html.count("Source:") == 7  # the figures' footnotes are unchanged


def _published_warehouse(con, settings) -> None:
    target = published_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"attach '{target}' as pub")
    con.execute("copy from database memory to pub")
    con.execute("detach pub")


def test_build_publishes_the_docs_site_and_links_it(env, con, monkeypatch):
    settings = load()
    _published_warehouse(con, settings)
    _audited_lake(env)
    calls = []

    def fake_dbt(args, docs_settings):  # stands in for dbt: writes what `--static` writes
        calls.append((args, docs_settings.warehouse))
        target = Path(args[args.index("--target-path") + 1])
        target.mkdir(parents=True)
        (target / "static_index.html").write_text(
            '<html>dbt docs "send_anonymous_usage_stats": false</html>'
        )

    monkeypatch.setattr("minerwatch.warehouse.run_dbt", fake_dbt)
    out = report.build(RUN, settings)
    ((args, copy),) = calls
    assert args[:4] == ["--no-send-anonymous-usage-stats", "docs", "generate", "--static"]
    assert copy != settings.warehouse and copy != published_path(settings)  # a private copy
    assert out["docs"]["error"] is None and out["docs"]["size_bytes"] > 0
    docs = env / "published" / "docs" / "index.html"
    assert stat.S_IMODE(docs.stat().st_mode) == 0o644
    assert Lake(settings).read_bytes("reports/docs/index.html") == docs.read_bytes()
    page = env / "published" / "reports" / "minerwatch-2024-06.html"
    assert stat.S_IMODE(page.stat().st_mode) == 0o644
    html = page.read_text()
    assert 'href="../docs/index.html"' in html  # resolves from published/reports/ ...
    assert (page.parent / "../docs/index.html").resolve() == docs.resolve()
    # ... and from the lake's reports/month=YYYY-MM/report.html
    assert Lake(settings).exists("reports/month=2024-06/report.html")
    assert "<h2>Data quality</h2>" in html and "failed: expect_column_values" in html


def test_build_writes_the_report_when_the_docs_site_fails(env, con, monkeypatch, caplog):
    settings = load()
    _published_warehouse(con, settings)

    def failing_dbt(args, docs_settings):
        raise MinerwatchError("dbt docs generate --static failed (exit 2) on warehouse x:\nboom")

    monkeypatch.setattr("minerwatch.warehouse.run_dbt", failing_dbt)
    with caplog.at_level("WARNING"):
        out = report.build(RUN, settings)
    assert "dbt docs generate --static failed (exit 2)" in out["docs"]["error"]
    html = (env / "published" / "reports" / "minerwatch-2024-06.html").read_text()
    assert "The dbt docs site could not be generated for this build: dbt docs generate" in html
    assert "boom" in html and "href=" not in html  # no link to a page that was not written
    assert "dbt docs site could not be generated" in caplog.text
    assert not (env / "published" / "docs" / "index.html").exists()
    assert "No audit result was found for the run of 2024-06-29." in html


def test_the_report_says_when_the_two_hash_rate_sources_diverge(con):
    con.execute("drop table marts.fct_network_daily")
    con.execute(
        """create table marts.fct_network_daily as select d::date as date_day,
            600.0 as hashrate_ehs,
            case when d >= date '2024-05-01' then 630.0 else 601.0 end as hashrate_ehs_mempool
        from (select unnest(range(date '2024-01-01', date '2024-07-01', interval 1 day)) d)"""
    )
    agree = report._source_agreement(con, dt.date(2024, 7, 1))
    html = report._agreement_html(agree)
    assert "WARNING" in html and "diverge beyond 1%" in html
    assert "never silently preferred" in html and "+5.00%" in html
    con.execute("update marts.fct_network_daily set hashrate_ehs_mempool = 601.0")
    html = report._agreement_html(report._source_agreement(con, dt.date(2024, 7, 1)))
    assert "agree within 1%" in html
