"""Realized hash rate on real figures: the April/May 2024 production releases of
../shared/refdata/production_updates, parsed by the pipeline's own code, against Coin Metrics'
real network rewards (../shared/refdata, served through the replay server and staged by the
pipeline). The expected values are computed here from the two files: realized share = BTC mined
/ Σ (IssTotNtv + FeeTotNtv) of the month; realized EH/s = that × the month's mean HashRate.

Market and SEC share counts come from the SAMPLE recording (no real recording of those here), so
only the production and network figures are real. The releases are press-release captures, not
EDGAR exhibits: their figures are staged directly (the pipeline's parse, not its sec.gov URL
gate), each citing the page it was captured from (refdata README).
"""

import csv
import datetime as dt
import statistics

import duckdb
import pytest

from minerwatch import universe, warehouse
from minerwatch.demo.refdata import write_recording as real_network_recording
from minerwatch.demo.replay import ReplayServer
from minerwatch.lake import Lake
from minerwatch.pipeline import market, network
from minerwatch.pipeline import sec as sec_tasks
from minerwatch.settings import load
from minerwatch.sources import sec

pytestmark = pytest.mark.slow

DAY = dt.date(2024, 5, 31)
GENESIS_CSV = "coinmetrics_btc_2009-01-03_2024-05-31.csv"
MEMPOOL_JSON = "mempool_hashrate_all_2009-01-03_2024-05-31.json"
# the page each capture came from (../shared/refdata/README.md) and its release date
RELEASES = {
    "riot_2024-05_globenewswire_via_finanznachrichten.txt": (
        "RIOT",
        "2024-06-04",
        "https://www.finanznachrichten.de/nachrichten-2024-06/62406892-riot-platforms-inc-riot"
        "-announces-may-2024-production-and-operations-updates-399.htm",
    ),
    "clsk_2024-05_prnewswire.txt": (
        "CLSK",
        "2024-06-04",
        "https://www.prnewswire.com/news-releases/cleanspark-releases-may-2024-bitcoin-mining-"
        "update-302162961.html",
    ),
    "corz_2024-05_businesswire.txt": (
        "CORZ",
        "2024-06-05",
        "https://www.businesswire.com/news/home/20240605022520/en/Core-Scientific-Announces-"
        "May-2024-Production-and-Operations-Updates/",
    ),
    "iren_2024-04_6k_ex99-1_via_gcs-web.txt": (
        "IREN",
        "2024-05-08",
        "https://irisenergy.gcs-web.com/node/9536/html",
    ),
    "iren_2024-05_6k_ex99-1_via_gcs-web.txt": (
        "IREN",
        "2024-06-06",
        "https://irisenergy.gcs-web.com/node/9686/html",
    ),
    "wulf_2024-04_globenewswire_via_terawulf-ir.txt": (
        "WULF",
        "2024-05-02",
        "https://investors.terawulf.com/news-events/press-releases/detail/77/terawulf-announces-"
        "april-2024-production-and-operations",
    ),
    "btbt_2024-04_prnewswire_via_bit-digital-site.txt": (
        "BTBT",
        "2024-05-06",
        "https://bit-digital.com/press-releases/bit-digital-inc-announces-monthly-production-"
        "update-for-april-2024",
    ),
}


@pytest.fixture
def recording(refdata, tmp_path):
    """Real network files (as published) + SAMPLE market and SEC files."""
    rec = real_network_recording(tmp_path / "recording", refdata)
    return rec


def _network_months(refdata):
    months: dict[str, dict[str, list[float]]] = {}
    with open(refdata / GENESIS_CSV, newline="") as fh:
        for r in csv.DictReader(fh):
            if r["time"][:7] in ("2024-04", "2024-05"):
                m = months.setdefault(r["time"][:7], {"rewards": [], "ehs": []})
                m["rewards"].append(float(r["IssTotNtv"]) + float(r["FeeTotNtv"]))
                m["ehs"].append(float(r["HashRate"]) / 1e6)
    return {k: (sum(v["rewards"]), statistics.fmean(v["ehs"])) for k, v in months.items()}


def _expected_btc_mined(refdata):
    out = {}
    with open(refdata / "production_updates" / "expected_figures.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["metric_kind"] in ("btc_mined", "btc_mined_self") and r["month"] >= "2024-04":
                out[(r["ticker"], r["month"])] = float(r["value"])
    return out


def test_realized_hashrate_of_the_real_releases(env, recording, refdata, monkeypatch, capsys):
    monkeypatch.setenv("MINERWATCH_SEC_USER_AGENT", "minerwatch tests tests@example.invalid")
    lake = Lake(load())
    ciks = {m["ticker"]: m["cik"] for m in universe.periods_overlapping(DAY, DAY)}
    with ReplayServer(recording) as server:
        for k, v in server.env().items():
            monkeypatch.setenv(k, v)
        network.stage_coinmetrics(DAY, network.extract_coinmetrics(DAY))
        network.stage_mempool_difficulty(DAY, network.extract_mempool_difficulty(DAY))
        tickers = universe.price_tickers(start=load().history_start, end=DAY)
        market.stage_prices(DAY, [market.extract_prices(DAY, t) for t in tickers])
        sec_tasks.check_sec_ciks(DAY, sec_tasks.extract_sec_company_tickers(DAY))
        batches = [sec_tasks.extract_sec_company(DAY, c) for c in sorted(set(ciks.values()))]
        sec_tasks.stage_sec(DAY, batches)

    # the real releases, landed and parsed by the pipeline's own code, one batch per company
    by_cik: dict[str, list[dict]] = {}
    for name, (ticker, filed, url) in RELEASES.items():
        body = (refdata / "production_updates" / name).read_bytes()
        key = lake.put_raw(sec.SOURCE, "exhibits", DAY, body, {"url": url, "capture": name}).key
        by_cik.setdefault(ciks[ticker], []).append(
            {"accession": f"capture-{name[:-4]}", "form": "press release", "filed_date": filed,
             "document": name, "url": url, "raw_key": key}
        )  # fmt: skip
    for cik, documents in by_cik.items():
        figures, docs = sec_tasks.production_frames(lake, {"cik": cik, "documents": documents})
        lake.write_staged(sec.SOURCE, "production_documents", DAY, docs, {"cik": cik})
        lake.write_staged(sec.SOURCE, "production_updates", DAY, figures, {"cik": cik})
    warehouse.build()

    con = duckdb.connect(str(load().warehouse), read_only=True)
    try:
        rows = con.execute(
            "select ticker, strftime(month_start, '%Y-%m'), btc_mined, network_rewards_btc, "
            "network_hashrate_ehs, realized_hashrate_share, realized_hashrate_ehs, "
            "reported_hashrate_ehs, hashrate_kind, realization_rate, hashrate_share "
            "from marts.fct_miner_hashrate_monthly where month_start between '2024-04-01' and "
            "'2024-05-01' order by 2, 1"
        ).fetchall()
    finally:
        con.close()
    got = {(r[0], r[1]): r for r in rows}
    network_months = _network_months(refdata)
    expected = _expected_btc_mined(refdata)
    assert len(expected) == 9
    lines = ["ticker month  BTC mined  reported (kind)            realized  share rep/real"]
    for (ticker, month), btc in sorted(expected.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        rewards, ehs = network_months[month]
        r = got[(ticker, month)]
        assert r[2] == pytest.approx(btc), (ticker, month)
        assert r[3] == pytest.approx(rewards, rel=1e-12)
        assert r[4] == pytest.approx(ehs, rel=1e-12)
        assert r[5] == pytest.approx(btc / rewards, rel=1e-12)
        assert r[6] == pytest.approx(btc / rewards * ehs, rel=1e-12)
        if r[7] is not None:
            assert r[9] == pytest.approx(btc / rewards * ehs / r[7], rel=1e-12)
        rep = "n/a" if r[7] is None else f"{r[7]:5.2f} EH/s ({r[8]})"
        share = "n/a" if r[10] is None else f"{r[10]:.2%}"
        lines.append(
            f"{ticker:6} {month} {btc:9.1f}  {rep:26} {r[6]:5.2f} EH/s  {share} / {r[5]:.2%}"
        )
    with capsys.disabled():
        print("\nrealized vs reported, real April/May 2024 releases:\n" + "\n".join(lines))
