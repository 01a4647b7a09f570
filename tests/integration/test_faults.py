"""Fault injection: each case breaks one thing — through the replay server's fault modes, the
real SeaweedFS store or the warehouse — and asserts both what the user gets (a clear error, a
retried success, or a quarantined batch) and that nothing landed or published before is lost or
changed. The baseline lake (network, two tickers, one company's SEC documents, built and
published) is made once and copied for every case."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from minerwatch import publish, warehouse
from minerwatch.demo.replay import Fault, ReplayServer
from minerwatch.errors import ConfigurationError, MinerwatchError, SourceError, ValidationFailed
from minerwatch.lake import Lake, LakeKeyError
from minerwatch.pipeline import market, network, sec
from minerwatch.settings import load
from tests.helpers import cm_rows

pytestmark = pytest.mark.slow

DAY = dt.date(2024, 6, 29)
NEXT = DAY + dt.timedelta(days=1)
TICKERS = ["MARA", "GREE"]
CIK = "0001507605"
CM = "/v4/timeseries/asset-metrics"
UA = "minerwatch tests tests@example.invalid"


def _build_day(day: dt.date) -> None:
    network.stage_coinmetrics(day, network.extract_coinmetrics(day))
    network.stage_mempool_difficulty(day, network.extract_mempool_difficulty(day))
    market.stage_prices(day, [market.extract_prices(day, t) for t in TICKERS])
    sec.check_sec_ciks(day, sec.extract_sec_company_tickers(day))
    sec.stage_sec(day, [sec.extract_sec_company(day, CIK)])
    sec.stage_production_updates(day, [sec.extract_production_updates(day, CIK)])
    warehouse.build()
    publish.audit(day)
    publish.publish(day)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, sample_recording):
    root = tmp_path_factory.mktemp("fault-baseline")
    mp = pytest.MonkeyPatch()
    with ReplayServer(sample_recording) as server:
        _point(mp, root, server)
        _build_day(DAY)
    mp.undo()
    return root


def _point(mp, root: Path, server: ReplayServer) -> None:
    for k, v in server.env().items():
        mp.setenv(k, v)
    mp.setenv("MINERWATCH_LAKE_URL", f"file://{root / 'lake'}")
    mp.setenv("MINERWATCH_WAREHOUSE", str(root / "warehouse.duckdb"))
    mp.setenv("MINERWATCH_SEC_USER_AGENT", UA)
    mp.setenv("MINERWATCH_HTTP_BACKOFF", "0.01")
    mp.setenv("MINERWATCH_HTTP_TIMEOUT", "2")
    mp.setenv("MINERWATCH_HTTP_MAX_RETRIES", "3")
    mp.delenv("MINERWATCH_COINMETRICS_API_KEY", raising=False)
    mp.delenv("MINERWATCH_MARKET_PROVIDER", raising=False)
    # the lab prices 2 of the 14 members (to stay quick): coverage is not what it tests, except
    # in case_coverage_below_the_minimum
    mp.setenv("MINERWATCH_MIN_COVERAGE", "0")


@pytest.fixture
def lab(baseline, tmp_path, sample_recording, monkeypatch):
    """A copy of the baseline, a fresh replay server pointing at it, and the before-snapshot."""
    root = tmp_path / "case"
    shutil.copytree(baseline, root)
    with ReplayServer(sample_recording) as server:
        _point(monkeypatch, root, server)
        before = _files(root)
        yield server, root, before
    # the invariant of every case: nothing landed or published before is lost or changed
    after = _files(root)
    lost = [k for k in before if k not in after]
    changed = [k for k in before if k in after and after[k] != before[k] and not _replaceable(k)]
    assert not lost, f"objects lost: {lost[:5]}"
    assert not changed, f"objects changed: {changed[:5]}"


def _replaceable(key: str) -> bool:
    # staged partitions of a *rerun* date, the working warehouse and the audit results of the
    # rerun date may be rewritten; published marts may only change through a successful
    # publish, which the cases check themselves
    return key.startswith(
        ("lake/staged/", "warehouse.duckdb", "lake/marts/", "published/", "lake/audit/")
    )


def _files(root: Path) -> dict[str, bytes]:
    # not dbt's working state beside the warehouse (<warehouse>.dbt/: target, logs, the kept-build
    # record a build may drop): neither landed nor published
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file()
        and ".wal" not in p.name
        and not str(p.relative_to(root)).startswith("warehouse.duckdb.dbt/")
    }


def _published(root: Path) -> dict[str, bytes]:
    return {k: v for k, v in _files(root).items() if k.startswith(("lake/marts/", "published/"))}


def _serve_cm(server, mutate) -> None:
    rows = cm_rows(server.recording.directory, "2024-06-23", NEXT.isoformat())
    mutate(rows)
    server.set_fault(CM, Fault(status=200, body=json.dumps({"data": rows}).encode()))


def _stage_next():
    return network.stage_coinmetrics(NEXT, network.extract_coinmetrics(NEXT))


def _quarantined(root: Path) -> list[Path]:
    return list((root / "lake" / "quarantine").rglob("validation_result.json"))


# -- the cases ------------------------------------------------------------------------------
def case_429_retry_after(server, root):
    server.set_fault(CM, Fault(status=429, headers={"Retry-After": "0"}, times=2))
    assert _stage_next()
    return "retried success"


def case_500_persistent(server, root):
    server.set_fault(CM, Fault(status=500, times=10))
    with pytest.raises(SourceError, match="HTTP 500 after 4 attempt"):
        _stage_next()
    return "clear error"


def case_timeout_then_success(server, root):
    server.set_fault(CM, Fault(status=200, delay_s=3.0, times=1))
    assert _stage_next()
    return "retried success"


def case_connection_reset(server, root):
    server.set_fault(CM, Fault(reset=True, times=2))
    assert _stage_next()
    return "retried success"


def case_truncated_json(server, root):
    server.set_fault(CM, Fault(status=200, body=b'{"data": [{"asset": "btc", "ti'))
    with pytest.raises(SourceError, match="not valid JSON"):
        _stage_next()
    return "clear error"


def case_html_error_page_200(server, root):
    server.set_fault(
        CM,
        Fault(
            status=200, body=b"<html><h1>Service Unavailable</h1></html>", content_type="text/html"
        ),
    )
    with pytest.raises(SourceError, match="not valid JSON"):
        _stage_next()
    return "clear error"


def case_renamed_field(server, root):
    _serve_cm(server, lambda rows: [r.__setitem__("HashRateMean", r.pop("HashRate")) for r in rows])
    with pytest.raises(ValidationFailed, match="HashRate"):
        _stage_next()
    assert _quarantined(root)
    return "quarantined batch"


def case_missing_field(server, root):
    _serve_cm(server, lambda rows: [r.pop("SplyCur") for r in rows])
    with pytest.raises(ValidationFailed, match="SplyCur"):
        _stage_next()
    return "quarantined batch"


def case_negative_value(server, root):
    _serve_cm(server, lambda rows: rows[2].update(HashRate="-1000"))
    with pytest.raises(ValidationFailed, match="hashrate_ehs"):
        _stage_next()
    return "quarantined batch"


def case_zero_price(server, root):
    _serve_cm(server, lambda rows: rows[3].update(PriceUSD="0"))
    with pytest.raises(ValidationFailed, match="PriceUSD"):
        _stage_next()
    return "quarantined batch"


def case_nan_value(server, root):
    _serve_cm(server, lambda rows: rows[3].update(FeeTotNtv="NaN"))
    with pytest.raises(SourceError, match="FeeTotNtv on .* is 'NaN'"):
        _stage_next()
    return "clear error"


def case_duplicate_days(server, root):
    _serve_cm(server, lambda rows: rows.insert(3, dict(rows[3])))
    with pytest.raises(ValidationFailed, match="date_day"):
        _stage_next()
    return "quarantined batch"


def case_gap(server, root):
    _serve_cm(server, lambda rows: rows.pop(4))
    with pytest.raises(ValidationFailed, match="gap_days"):
        _stage_next()
    return "quarantined batch"


def case_out_of_order(server, root):
    _serve_cm(server, lambda rows: rows.reverse())
    key = _stage_next()
    assert Lake(load()).read_parquet(key)["date_day"].is_monotonic_increasing
    return "success (rows sorted)"


def case_revision_of_a_past_day(server, root):
    def revise(rows):
        rows[1]["PriceUSD"] = str(float(rows[1]["PriceUSD"]) * 1.02)

    _serve_cm(server, revise)
    _stage_next()
    warehouse.build(select="+fct_network_daily")
    con = duckdb.connect(str(load().warehouse), read_only=True)
    raw_key = con.execute(
        "select raw_key from marts.fct_network_daily where date_day = '2024-06-24'"
    ).fetchone()[0]
    con.close()
    assert f"ingest_date={NEXT}" in raw_key  # the latest revision, from the new raw object
    return "new raw object; mart shows the revision"


def case_yahoo_crumb_401(server, root):
    server.set_fault(
        "/v8/finance/chart/MARA",
        Fault(status=401, body=b'{"finance":{"error":{"description":"Invalid Crumb"}}}'),
    )
    assert market.stage_prices(NEXT, [market.extract_prices(NEXT, "MARA")])
    return "retried success"


def case_yahoo_unknown_ticker(server, root):
    # Yahoo's definitive 404 "No data found, symbol may be delisted": landed, not retried, and
    # the member is named in the coverage instead of failing the run
    server.requests.clear()
    batch = market.extract_prices(NEXT, "NOPE")
    assert batch["status"] == "no_data" and "symbol may be delisted" in batch["reason"]
    assert len([r for r in server.requests if "/chart/NOPE" in r]) == 1
    assert Lake(load()).exists(batch["keys"][0])
    market.stage_prices(NEXT, [batch])
    coverage = Lake(load()).read_parquet(
        Lake(load()).staged_key(market.MARKET_SOURCE, "coverage", NEXT)
    )
    assert coverage["status"].tolist() == ["no_data"]
    return "coverage record (not retried)"


def case_yahoo_404_without_the_no_data_answer(server, root):
    server.set_fault("/v8/finance/chart/MARA", Fault(status=404, body=b"<html>Not Found</html>"))
    with pytest.raises(SourceError, match="HTTP 404"):
        market.extract_prices(NEXT, "MARA")
    return "clear error"


def case_mempool_malformed(server, root):
    server.set_fault(
        "/api/v1/mining/difficulty-adjustments",
        Fault(status=200, body=b'[[1703311464, "822528", null]]'),
    )
    with pytest.raises(SourceError, match="element 0"):
        network.extract_mempool_difficulty(NEXT)
    return "clear error"


def case_missing_sec_user_agent(server, root, monkeypatch):
    monkeypatch.delenv("MINERWATCH_SEC_USER_AGENT")
    server.requests.clear()
    with pytest.raises(ConfigurationError, match="MINERWATCH_SEC_USER_AGENT"):
        sec.extract_sec_company(NEXT, CIK)
    assert not server.requests
    return "clear error, nothing sent"


def case_missing_api_key(server, root, monkeypatch):
    monkeypatch.setenv("MINERWATCH_MARKET_PROVIDER", "fmp")
    server.requests.clear()
    with pytest.raises(ConfigurationError, match="MINERWATCH_FMP_API_KEY"):
        market.extract_prices(NEXT, "MARA")
    assert not server.requests
    return "clear error, nothing sent"


def case_path_traversal(server, root):
    with pytest.raises(LakeKeyError):
        market.extract_prices(NEXT, "../../../etc/passwd")
    with pytest.raises(LakeKeyError):
        Lake(load()).put_raw("sec", "exhibits/../../x", NEXT, b"x", {})
    assert not (root.parent / "etc").exists()
    return "refused"


def case_implausible_share_count(server, root):
    doc = {"cik": 1507605, "facts": {"dei": {"EntityCommonStockSharesOutstanding": {"units": {"shares": [
        {"end": "2024-06-20", "val": 3, "accn": "0001507605-24-000099", "form": "10-Q", "filed": "2024-06-25"}]}}}}}  # fmt: skip
    server.set_fault(
        f"/api/xbrl/companyfacts/CIK{CIK}.json", Fault(status=200, body=json.dumps(doc).encode())
    )
    # the bad 10-Q is also a new filing in the submissions: companyfacts is fetched only then
    subs_path = server.recording.directory / "sec" / "submissions" / f"CIK{CIK}.json"
    subs = json.loads(subs_path.read_text())
    new = {"accessionNumber": "0001507605-24-000099", "form": "10-Q", "filingDate": "2024-06-25",
           "reportDate": "2024-06-20"}  # fmt: skip
    for col, values in subs["filings"]["recent"].items():
        values.insert(0, new.get(col, ""))
    server.set_fault(
        f"/submissions/CIK{CIK}.json", Fault(status=200, body=json.dumps(subs).encode())
    )
    with pytest.raises(ValidationFailed, match=CIK):
        sec.stage_sec(NEXT, [sec.extract_sec_company(NEXT, CIK)])
    return "quarantined batch"


def case_second_writer_in_flight(server, root):
    published = _published(root)
    holder = duckdb.connect(str(load().warehouse))  # a run in flight holds the writer lock
    try:
        with pytest.raises(MinerwatchError, match="dbt build"):
            warehouse.build(select="+fct_network_daily")
    finally:
        holder.close()
    assert _published(root) == published
    return "clear error; publication untouched"


def case_audit_fails_nothing_published(server, root):
    published = _published(root)
    # a source dating rows after every batch fetched so far (a clock or parsing error)
    con = duckdb.connect(str(load().warehouse))
    con.execute(
        "insert into marts.fct_sector_daily (date_day, miners_tracked, miners_count, "
        "missing_tickers, sector_market_cap_usd) values (date '2031-01-02', 1, 1, '', 1e9)"
    )
    con.close()
    with pytest.raises(ValidationFailed, match="nothing was published"):
        publish.audit(DAY)
    assert list((root / "lake" / "audit").rglob("validation_result.json"))
    assert _published(root) == published
    return "red run; publication untouched; result saved"


def case_coverage_below_the_minimum(server, root, monkeypatch):
    """Fewer members with a market cap than MINERWATCH_MIN_COVERAGE asks: red run, the missing
    members named, the last publication kept."""
    published = _published(root)
    monkeypatch.setenv("MINERWATCH_MIN_COVERAGE", "0.75")
    with pytest.raises(
        ValidationFailed,
        match=r"coverage on 2024-06-28: 1 of 14 .*RIOT \(no prices staged\).*below",
    ):
        publish.audit(DAY)
    assert _published(root) == published
    return "red run naming the missing members; publication untouched"


CASES = {name[5:]: fn for name, fn in dict(globals()).items() if name.startswith("case_")}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fault(case, lab, monkeypatch):
    server, root, _ = lab
    fn = CASES[case]
    args = (server, root, monkeypatch) if fn.__code__.co_argcount == 3 else (server, root)
    assert fn(*args)


def test_there_are_at_least_twenty_cases():
    assert len(CASES) >= 20


def test_a_reader_of_the_published_copy_is_not_blocked_by_a_publish(lab):
    """A BI connection holds the published DuckDB open read-only while a new publication
    replaces it: the reader keeps a whole, consistent old file; a new reader sees the new one."""
    server, root, _ = lab
    path = publish.published_path(load())
    reader = duckdb.connect(str(path), read_only=True)
    before = reader.execute(
        "select count(*), max(date_day) from marts.fct_network_daily"
    ).fetchone()
    _stage_next()
    warehouse.build(select="+fct_network_daily")
    publish.publish(NEXT)  # not blocked by the open reader
    assert (
        reader.execute("select count(*), max(date_day) from marts.fct_network_daily").fetchone()
        == before
    )
    reader.close()
    fresh = duckdb.connect(str(path), read_only=True)
    assert fresh.execute("select max(date_day) from marts.fct_network_daily").fetchone()[0] == NEXT
    fresh.close()
