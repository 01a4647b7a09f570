"""Claims at day level and over changes, rankings and coverage (src/minerwatch/claims.py), on a
small warehouse built here with the marts' contract column names; and the shipped claims files
(claims/jpmorgan_2024-06.yml, claims/sample_demo.yml) against the contract of DESIGN.md §6."""

from __future__ import annotations

import datetime as dt
import os
import re
import textwrap
from pathlib import Path

import duckdb
import pytest

from minerwatch import claims
from minerwatch.dates import is_trading_day
from minerwatch.errors import ConfigurationError

REPO = Path(__file__).resolve().parents[2]
DESIGN = REPO.parent / "shared" / "DESIGN.md"
PUBLISHED = REPO.parent / "shared" / "refdata" / "published_claims_2024-06.md"

FIRST, LAST = dt.date(2024, 4, 1), dt.date(2024, 6, 30)
MARKET_LAST = dt.date(2024, 6, 28)  # Friday: the market data ends here, the network on the 30th
SHARES = {"ARBK": 1e9, "CORZ": 1e8, "WULF": 3e8}
# adjusted closes on chosen days (others: the previous one)
CLOSES = {
    "CORZ": {FIRST: 3.0, dt.date(2024, 5, 14): 5.0, dt.date(2024, 5, 31): 10.0,
             dt.date(2024, 6, 14): 21.7, MARKET_LAST: 19.0},
    "ARBK": {FIRST: 1.2, dt.date(2024, 5, 31): 1.0, dt.date(2024, 6, 14): 0.93, MARKET_LAST: 0.83},
    "WULF": {FIRST: 2.0, dt.date(2024, 5, 31): 2.0, dt.date(2024, 6, 14): 2.5, MARKET_LAST: 4.34},
}  # fmt: skip


def _days(start: dt.date, end: dt.date):
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def _close(ticker: str, day: dt.date) -> float:
    return CLOSES[ticker][max(d for d in CLOSES[ticker] if d <= day)]


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("create schema marts")
    c.execute(
        "create table marts.dim_miners (ticker varchar, cik varchar, member_from date, "
        "member_to date)"
    )
    c.executemany(
        "insert into marts.dim_miners values (?, ?, ?, ?)",
        [("ARBK", "1", "2021-09-23", None), ("CORZ", "2", "2022-01-20", "2022-12-30"),
         ("CORZ", "2", "2024-01-24", None), ("WULF", "3", "2021-12-14", None)],
    )  # fmt: skip
    c.execute(
        "create table marts.fct_network_daily (date_day date, hashrate_ehs double, "
        "price_usd double, hashprice_usd_per_ehs_day double, source varchar)"
    )
    c.executemany(
        "insert into marts.fct_network_daily values (?, ?, ?, ?, 'test')",
        [(d, 600.0 if d.month == 5 else 594.0, 66000.0 if d.month == 6 else 70000.0, 52000.0)
         for d in _days(FIRST, LAST)],
    )  # fmt: skip
    c.execute(
        "create table marts.fct_miner_market_daily (ticker varchar, date_day date, "
        "adj_close_usd double, market_cap_usd double, is_member boolean)"
    )
    trading = [d for d in _days(FIRST, MARKET_LAST) if is_trading_day(d)]
    c.executemany(
        "insert into marts.fct_miner_market_daily values (?, ?, ?, ?, true)",
        [(t, d, _close(t, d), _close(t, d) * SHARES[t]) for t in SHARES for d in trading],
    )
    c.execute(
        """create table marts.fct_sector_daily as select date_day, 3 as miners_tracked,
            3 as miners_count, '' as missing_tickers, sum(market_cap_usd) as sector_market_cap_usd,
            sum(market_cap_usd) / 8e10 as mcap_to_remaining_btc_value
        from marts.fct_miner_market_daily group by date_day"""
    )
    # one day with a member missing
    c.execute(
        "update marts.fct_sector_daily set miners_count = 2, missing_tickers = 'ARBK', "
        "sector_market_cap_usd = sector_market_cap_usd - 1e9 where date_day = '2024-06-13'"
    )
    c.execute(
        """create table marts.fct_sector_monthly as select * from (values
            (date '2024-04-01', date '2024-04-30', 0.228, 3, 'ARBK,CORZ,WULF', 3, 3, '', 5.0e9,
             null, true),
            (date '2024-05-01', date '2024-05-31', 0.238, 3, 'ARBK,CORZ,WULF', 3, 3, '', 2.6e9,
             -48.0, true),
            (date '2024-06-01', date '2024-06-28', null, 0, null, 3, 3, '', 3.07e9, 18.1, true)
        ) t(month_start, month_end_date, sector_hashrate_share, hashrate_reporting_miners,
            hashrate_reporting_tickers, miners_tracked, miners_count, missing_tickers,
            sector_market_cap_usd, sector_market_cap_change_pct, is_month_complete)"""
    )
    c.execute(
        """create table marts.fct_miner_performance_monthly as select * from (values
            (date '2024-06-01', 'WULF', 117.0, true, true),
            (date '2024-06-01', 'CORZ', 90.0, true, true),
            (date '2024-06-01', 'ARBK', -17.0, true, true)
        ) t(month_start, ticker, return_pct, is_member, is_month_complete)"""
    )
    yield c
    c.close()


def _check(tmp_path, con, **fields):
    """One claim (defaults filled in) checked against ``con``."""
    item = {"id": "c", "value": 0, "tolerance_abs": 0.5, "published_by": "p", "source": "s"}
    item.update(fields)
    lines = "\n".join(f"    {k}: {v!r}" if isinstance(v, str) else f"    {k}: {v}"
                      for k, v in item.items())  # fmt: skip
    path = tmp_path / "claims.yml"
    path.write_text("claims:\n  -\n" + lines + "\n")
    (result,) = claims.check(claims.load(path), con)
    return result


# -- days ---------------------------------------------------------------------------------------
def test_a_weekend_reads_the_last_trading_day_and_says_so(tmp_path, con):
    on_friday = sum(_close(t, dt.date(2024, 6, 14)) * SHARES[t] for t in SHARES)
    r = _check(tmp_path, con, figure="fct_sector_daily.sector_market_cap_usd",
               date="2024-06-15", value=on_friday, tolerance=0.001)  # fmt: skip
    assert r.status == claims.SUPPORTED and r.computed == pytest.approx(on_friday)
    assert "2024-06-15 is not a trading day" in r.explanation and "2024-06-14" in r.explanation


def test_a_holiday_reads_the_day_before(tmp_path, con):
    r = _check(tmp_path, con, figure="market_cap_usd", ticker="CORZ", date="2024-06-19",
               value=21.7e8, tolerance=0.001)  # Juneteenth  # fmt: skip
    assert r.status == claims.SUPPORTED and "read on 2024-06-18" in r.explanation


def test_the_days_after_the_market_data_are_not_enough_data(tmp_path, con):
    # Saturday after the last Friday: the calendar says closed, the Friday is read
    r = _check(tmp_path, con, figure="market_cap_usd", ticker="CORZ", date="2024-06-29",
               value=19.0e8, tolerance=0.001)  # fmt: skip
    assert r.status == claims.SUPPORTED
    # Monday: a trading day the data does not reach yet
    r = _check(tmp_path, con, figure="market_cap_usd", ticker="CORZ", date="2024-07-01",
               value=19.0e8, tolerance=0.001)  # fmt: skip
    assert r.status == claims.NOT_ENOUGH and "ends on 2024-06-28" in r.explanation
    assert r.computed is None


def test_a_company_without_a_row_that_day_is_not_enough_data(tmp_path, con):
    con.execute(
        "delete from marts.fct_miner_market_daily where ticker = 'ARBK' and date_day = '2024-06-14'"
    )
    r = _check(tmp_path, con, figure="market_cap_usd", ticker="ARBK", date="2024-06-15",
               value=0.93e9, tolerance=0.01)  # fmt: skip
    assert r.status == claims.NOT_ENOUGH
    assert "no fct_miner_market_daily row for ARBK 2024-06-14" in r.explanation


# -- changes ------------------------------------------------------------------------------------
def test_a_return_between_two_days(tmp_path, con):
    kw = dict(figure="adj_close_usd", ticker="CORZ", since="2024-05-31", date="2024-06-14")
    r = _check(tmp_path, con, value=117, **kw)
    assert r.status == claims.SUPPORTED and r.computed == pytest.approx(117.0)
    assert "2024-05-31 → 2024-06-14" in r.explanation
    r = _check(tmp_path, con, value=297, tolerance_abs=1, **{**kw, "since": "2024-05-14"})
    assert r.status == claims.CONTRADICTED and r.computed == pytest.approx(334.0)


def test_a_change_in_points_between_months(tmp_path, con):
    r = _check(tmp_path, con, figure="sector_hashrate_share", month="2024-05", since="2024-04",
               change="points", value=0.01, tolerance_abs=0.005)  # fmt: skip
    assert r.status == claims.SUPPORTED and r.computed == pytest.approx(0.01)


def test_means_over_a_month_and_over_days(tmp_path, con):
    r = _check(tmp_path, con, figure="fct_network_daily.price_usd", month="2024-06",
               aggregate="mean", value=66000, tolerance_abs=500)  # fmt: skip
    assert r.status == claims.SUPPORTED and "mean of 30 days" in r.explanation
    kw = dict(figure="fct_network_daily.hashrate_ehs", aggregate="mean", since="2024-05",
              **{"from": "2024-06-01"}, date="2024-06-14")  # fmt: skip
    r = _check(tmp_path, con, value=-1, **kw)
    assert r.status == claims.SUPPORTED and r.computed == pytest.approx(-1.0)
    r = _check(tmp_path, con, value=-7, change="points", **kw)
    assert r.status == claims.CONTRADICTED and r.computed == pytest.approx(-6.0)
    con.execute("delete from marts.fct_network_daily where date_day = '2024-06-10'")
    r = _check(tmp_path, con, value=-1, **kw)
    assert r.status == claims.NOT_ENOUGH and "covers 13 of the 14 days" in r.explanation


# -- coverage -----------------------------------------------------------------------------------
def test_a_group_figure_over_fewer_members_is_not_the_groups(tmp_path, con):
    r = _check(tmp_path, con, figure="fct_sector_daily.sector_market_cap_usd",
               date="2024-06-13", value=3e9, tolerance=0.01)  # fmt: skip
    assert r.status == claims.NOT_ENOUGH and r.computed is None
    assert "covers 2 of 3 members, missing ARBK" in r.explanation and "over those:" in r.explanation


def test_a_hash_rate_share_from_fewer_reporters_names_the_missing(tmp_path, con):
    con.execute(
        "update marts.fct_sector_monthly set hashrate_reporting_miners = 2, "
        "hashrate_reporting_tickers = 'CORZ,WULF' where month_start = '2024-05-01'"
    )
    r = _check(tmp_path, con, figure="sector_hashrate_share", month="2024-05", value=0.238,
               tolerance_abs=0.0005)  # fmt: skip
    assert r.status == claims.NOT_ENOUGH
    assert "covers 2 of 3 members (reported hash rate), missing ARBK" in r.explanation


def test_a_claim_about_another_group_size_is_not_checked_as_ours(tmp_path, con):
    r = _check(tmp_path, con, figure="sector_market_cap_usd", month="2024-06", group_size=14,
               value=3.07e9, tolerance=0.01)  # fmt: skip
    assert r.status == claims.NOT_ENOUGH
    assert "tracks 3 miners, the claim is about 14" in r.explanation
    r = _check(tmp_path, con, figure="sector_market_cap_usd", month="2024-06", group_size=3,
               value=3.07e9, tolerance=0.01)  # fmt: skip
    assert r.status == claims.SUPPORTED


def test_a_change_needs_both_months_covered(tmp_path, con):
    con.execute("update marts.fct_sector_monthly set miners_count = 2, missing_tickers = 'CORZ' "
                "where month_start = '2024-05-01'")  # fmt: skip
    r = _check(tmp_path, con, figure="sector_market_cap_change_pct", month="2024-06",
               value=18, tolerance_abs=0.5)  # fmt: skip
    assert r.status == claims.NOT_ENOUGH and "covers 2 of 3 members in 2024-05" in r.explanation


def test_without_coverage_columns_the_figure_is_compared_with_a_caveat(tmp_path, con):
    con.execute("alter table marts.fct_sector_daily drop column miners_tracked")
    con.execute("alter table marts.fct_sector_daily drop column missing_tickers")
    con.execute("drop table marts.dim_miners")
    r = _check(tmp_path, con, figure="fct_sector_daily.sector_market_cap_usd",
               date="2024-06-13", value=3e9, tolerance=0.5)  # fmt: skip
    assert r.status == claims.SUPPORTED and "coverage not recorded" in r.explanation


# -- rankings -----------------------------------------------------------------------------------
def test_best_and_worst_over_a_month_and_between_days(tmp_path, con):
    r = _check(tmp_path, con, figure="return_pct", ticker="WULF", month="2024-06", rank="best",
               value=117, group_size=3)  # fmt: skip
    assert r.status == claims.SUPPORTED and "the best of the group" in r.explanation
    r = _check(tmp_path, con, figure="return_pct", ticker="CORZ", month="2024-06", rank="best",
               value=90)  # fmt: skip
    assert r.status == claims.CONTRADICTED and "not the best: WULF is, at 117" in r.explanation
    kw = dict(figure="adj_close_usd", since="2024-05-31", date="2024-06-14", rank="worst")
    r = _check(tmp_path, con, ticker="ARBK", value=-7, **kw)
    assert r.status == claims.SUPPORTED and r.computed == pytest.approx(-7.0)
    con.execute(
        "delete from marts.fct_miner_market_daily where ticker = 'WULF' and date_day = '2024-05-31'"
    )
    r = _check(tmp_path, con, ticker="ARBK", value=-7, **kw)
    assert r.status == claims.NOT_ENOUGH
    assert "ranked over 2 of 3 members, missing WULF" in r.explanation


# -- months and columns -------------------------------------------------------------------------
def test_an_incomplete_month_is_not_enough_data(tmp_path, con):
    con.execute(
        "update marts.fct_sector_monthly set is_month_complete = false "
        "where month_start = '2024-06-01'"
    )
    r = _check(tmp_path, con, figure="sector_market_cap_usd", month="2024-06", value=3.07e9,
               tolerance=0.01)  # fmt: skip
    assert r.status == claims.NOT_ENOUGH and "not complete" in r.explanation
    assert "data through 2024-06-28" in r.explanation


def test_a_contract_column_the_warehouse_lacks_is_not_enough_data(tmp_path, con):
    r = _check(tmp_path, con, figure="mcap_to_four_year_reward_flat", month="2024-06",
               value=0.55, tolerance_abs=0.005)  # fmt: skip
    assert r.status == claims.NOT_ENOUGH and "not in this warehouse yet" in r.explanation


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"month": "2024-06", "tolerence": 0.1}, "unknown field"),
        ({"date": "2024-06-14", "from": "2024-06-01"}, "'from' goes with 'date' and 'aggregate'"),
        ({"date": "2024-06-14", "aggregate": "mean"}, "'aggregate' needs 'month' or 'from'"),
        ({"date": "2024-06-14", "aggregate": "median", "from": "2024-06-01"}, "not one of mean"),
        ({"date": "2024-06-14", "since": "2024-06-14"}, "is not before"),
        ({"month": "2024-06", "since": "2024-05-31"}, "'since' is a month"),
        ({"month": "2024-06", "change": "points"}, "'change' needs 'since'"),
        ({"month": "2024-06", "rank": "best"}, "'rank' needs 'ticker'"),
        ({"month": "2024-06", "group_size": 13.5}, "whole number"),
    ],
)
def test_malformed_claims_say_what_is_wrong(tmp_path, extra, message):
    item = {"id": "a", "figure": "x", "value": 1, "tolerance": 0.1, "published_by": "p",
            "source": "s", **extra}  # fmt: skip
    path = tmp_path / "claims.yml"
    path.write_text("claims:\n  - " + repr(item).replace("'", '"') + "\n")
    with pytest.raises(ConfigurationError, match=message):
        claims.load(path)


@pytest.mark.parametrize(
    "figure, extra, message",
    [
        ("fct_sector_daily.sector_market_cap_usd", "month: 2024-06\naggregate: mean",
         "'aggregate' works on fct_network_daily"),
        ("fct_network_daily.price_usd", "month: 2024-06", "is daily"),
        ("return_pct", "ticker: WULF\nmonth: 2024-06\naggregate: mean", "is monthly"),
    ],
)  # fmt: skip
def test_windows_must_fit_the_mart(tmp_path, con, figure, extra, message):
    path = tmp_path / "claims.yml"
    body = f"claims:\n  - id: a\n    figure: {figure}\n" + textwrap.indent(extra, "    ")
    path.write_text(
        body + "\n    value: 1\n    tolerance: 0.1\n    published_by: p\n    source: s\n"
    )
    with pytest.raises(ConfigurationError, match=message):
        claims.check(claims.load(path), con)


# -- the shipped files --------------------------------------------------------------------------
def _contract_from_design() -> dict[str, set[str]]:
    """DESIGN.md §6: the column names listed under each mart."""
    text = DESIGN.read_text()
    section = text[text.index("## 6.") : text.index("## 7.")]
    out = {}
    for block in re.split(r"\n- `marts\.", section)[1:]:
        table = block.split("`", 1)[0]
        out[table] = set(re.findall(r"\b[a-z][a-z0-9_]*\b", block))
    return out


def test_the_contract_in_claims_matches_design_md():
    if not DESIGN.exists():
        pytest.skip(f"{DESIGN} not found")
    design = _contract_from_design()
    keys = {"date_day", "month_start", "ticker"}  # §6: "daily tables are keyed by date_day" ...
    for table, columns in claims.CONTRACT.items():
        assert columns <= design[table] | keys, (table, columns - design[table])


@pytest.mark.parametrize("name", ["jpmorgan_2024-06.yml", "sample_demo.yml"])
def test_every_shipped_claim_names_a_contract_column(name):
    path = REPO / "claims" / name
    loaded = claims.load(path)
    assert loaded
    empty = duckdb.connect()  # no marts: figures resolve against the contract alone
    empty.execute("create schema marts")
    for claim in loaded:
        table, column = claims._resolve(claim, {})
        assert column in claims.CONTRACT[table], claim.id
        assert claim.published_by and claim.source
        assert claim.tolerance is not None or claim.tolerance_abs is not None
    # nothing in the warehouse: every claim is "not enough data", none breaks the check
    results = claims.check(loaded, empty)
    assert {r.status for r in results} == {claims.NOT_ENOUGH}


def test_the_jpmorgan_file_covers_every_published_claim():
    path = REPO / "claims" / "jpmorgan_2024-06.yml"
    loaded = claims.load(path)
    not_checked = claims.load_not_checked(path)
    numbers = {int(m) for c in loaded for m in re.findall(r"^jpm-(\d\d)", c.id)}
    numbers |= {int(item["ref"]) for item in not_checked}
    expected = set(range(1, 17))
    if PUBLISHED.exists():
        expected = {int(n) for n in re.findall(r"^\| (\d+) \|", PUBLISHED.read_text(), re.M)}
    assert expected <= numbers
    assert any(item["ref"] == 8 for item in not_checked)  # Glassnode: paid data
    for c in loaded:
        assert ("Bitop" in c.published_by) != ("press summary" in c.published_by), c.id
        assert c.source.strip(), c.id
    # where the two summaries disagree (ARBK in June), both are in
    arbk = [c for c in loaded if c.ticker == "ARBK"]
    assert {c.value for c in arbk} >= {-7, -17}


def test_the_demo_data_of_a_day_do_not_depend_on_the_demo_date(tmp_path):
    """claims/sample_demo.yml holds for any DATE because June 2024 is the same month in every
    sample recording that reaches it (prices, share counts, production updates)."""
    import csv
    import json

    from minerwatch.demo import sample
    from minerwatch.demo.market import NOTE_PERIODS

    cut = "2024-07-31"
    short = sample.write_recording(tmp_path / "short", dt.date.fromisoformat(cut))
    long = sample.write_recording(tmp_path / "long", dt.date(2026, 3, 31))

    def rows(path):
        with path.open(newline="") as fh:
            return [r for r in csv.reader(fh) if r[0] <= cut]

    for path in sorted((short / "yahoo").glob("*.csv")) + [short / "coinmetrics" / "btc.csv"]:
        if path.name != "splits.csv":
            assert rows(path) == rows(long / path.relative_to(short)), path.name
    for path in sorted((short / "sec" / "companyfacts").glob("*.json")):

        def facts(p):
            units = json.loads(p.read_text())["facts"]
            units = units["dei"]["EntityCommonStockSharesOutstanding"]["units"] if units else {}
            return [f for f in units.get("shares", []) if f["filed"] <= cut]

        assert facts(path) == facts(long / path.relative_to(short)), path.name
    months = {f"{p:%B %Y}" for p in NOTE_PERIODS}
    updates = [
        p for p in (short / "sec" / "archives").rglob("*ex99_1.htm")
        if any(m in p.read_text() for m in months)
    ]  # fmt: skip
    assert len(updates) >= 14 * len(NOTE_PERIODS) - 14  # June's are filed in July, most by the 31st
    for path in updates:
        assert path.read_text() == (long / path.relative_to(short)).read_text(), path


def test_results_say_what_was_checked_over_which_days(tmp_path, con):
    r = _check(tmp_path, con, figure="adj_close_usd", ticker="ARBK", since="2024-05-31",
               date="2024-06-14", rank="worst", value=-7)  # fmt: skip
    assert r.claim.when == "2024-05-31 → 2024-06-14"
    assert r.figure == "ARBK adj_close_usd % change (worst)"
    r = _check(tmp_path, con, figure="fct_network_daily.hashrate_ehs", aggregate="mean",
               since="2024-05", change="points", date="2024-06-14", value=-6,
               **{"from": "2024-06-01"})  # fmt: skip
    assert r.claim.when == "2024-05 → 2024-06-01..2024-06-14 (mean)"
    assert r.figure == "hashrate_ehs change"


def test_make_run_checks_the_bank_note_and_make_demo_the_sample_claims(monkeypatch):
    from minerwatch import cli

    monkeypatch.setattr(cli, "run_dag", lambda day: "failed")
    monkeypatch.setenv("MINERWATCH_CLAIMS_FILE", "x")  # restored after the test
    monkeypatch.delenv("MINERWATCH_CLAIMS_FILE")
    assert cli.run(dt.date(2024, 7, 1)) == 1
    assert os.environ["MINERWATCH_CLAIMS_FILE"] == str(cli.RUN_CLAIMS)
    assert cli.RUN_CLAIMS.name == "jpmorgan_2024-06.yml" and cli.RUN_CLAIMS.exists()
    assert cli.DEMO_CLAIMS.name == "sample_demo.yml" and cli.DEMO_CLAIMS.exists()
