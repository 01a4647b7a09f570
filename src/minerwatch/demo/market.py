"""SAMPLE DATA for the market and SEC parts of the demo — not real prices or share counts.

Built on the sample network data: BTC-USD follows the sample bitcoin price; each miner's price is
a beta to bitcoin plus its own random walk, from a rough listing date; two miners take a 1-for-10
reverse split (GREE and SDIG, as the real companies did in 2023, on sample dates). Share counts
grow by issuance and are reported on sample 10-Q/10-K cover pages (domestic filers, quarterly) or
20-F/40-F (foreign private issuers, yearly); BTDR reports two share classes. Every value is
seeded and deterministic, and a day's values do not depend on the end date of the recording:
each series (BTC-USD, each miner's prices, each filing) draws from its own generator, seeded by
what it is, so a recording through 2026 holds the same June 2024 as one through June 2024 (the
demo's claims, claims/sample_demo.yml, are about June 2024 whatever DATE the demo runs for).

Output beside the network recording:
    yahoo/<TICKER>.csv   as-traded daily OHLCV (the replay server applies Yahoo's adjustments)
    yahoo/splits.csv     ticker,date,numerator,denominator
    sec/company_tickers.json, sec/submissions/CIK##########.json,
    sec/companyfacts/CIK##########.json   in SEC's formats
    sec/archives/<cik>/<accession>/       8-K/6-K filing folders: the -index.htm page, the form
                                          and its exhibit 99.1 (a monthly production update)
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import random
import zlib
from pathlib import Path

from minerwatch import universe
from minerwatch.dates import is_trading_day

# rough first trading days on a US exchange (sample data)
LISTED = {
    "MARA": "2012-01-03", "RIOT": "2012-01-03", "CLSK": "2016-01-04", "CORZ": "2022-01-20",
    "CIFR": "2021-08-30", "WULF": "2021-12-14", "IREN": "2021-11-17", "BTDR": "2023-04-14",
    "HUT": "2021-06-15", "BITF": "2021-06-21", "ARBK": "2021-09-23", "GREE": "2021-09-15",
    "SDIG": "2021-10-20", "BTBT": "2018-03-19",
}  # fmt: skip
REVERSE_SPLITS = {"GREE": "2023-05-16", "SDIG": "2023-03-21"}
START_PRICE = {
    "MARA": 1.2, "RIOT": 1.6, "CLSK": 2.5, "CORZ": 10.0, "CIFR": 9.0, "WULF": 9.5, "IREN": 25.0,
    "BTDR": 10.0, "HUT": 8.0, "BITF": 5.0, "ARBK": 15.0, "GREE": 3.5, "SDIG": 2.0, "BTBT": 1.0,
}  # fmt: skip
START_SHARES = {
    "MARA": 8.5e6, "RIOT": 26e6, "CLSK": 20e6, "CORZ": 320e6, "CIFR": 250e6, "WULF": 100e6,
    "IREN": 55e6, "BTDR": 110e6, "HUT": 160e6, "BITF": 200e6, "ARBK": 470e6, "GREE": 40e6,
    "SDIG": 50e6, "BTBT": 48e6,
}  # fmt: skip
BETA = 1.6


def profile(ticker: str) -> dict:
    """A company's sample parameters: the table above for the tracked 14; for any other ticker
    (the benchmark's 10x universe) invented but fixed by the ticker, with a small hash-rate
    share so that a large group still stays below the network."""
    if ticker in START_PRICE:
        return {
            "listed": LISTED[ticker],
            "price": START_PRICE[ticker],
            "shares": START_SHARES[ticker],
            "hash_share": HASH_SHARE[ticker],
        }
    rng = random.Random(zlib.crc32(ticker.encode()))
    return {
        "listed": f"{rng.choice([2018, 2019, 2020, 2021])}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        "price": round(rng.uniform(1.0, 20.0), 2),
        "shares": float(rng.randint(20, 300)) * 1e6,
        "hash_share": rng.uniform(0.0005, 0.002),
    }


def _rng(seed: int, *parts: object) -> random.Random:
    """A generator for one series, seeded by what the series is (a string seed is hashed with
    SHA-512, the same on every machine and run): no series' draws depend on another's length."""
    return random.Random(":".join([str(seed), *map(str, parts)]))


def _accession(filer: int, filed: dt.date, kind: int) -> str:
    """An accession number fixed by the filer, the filing day and the kind of filing (0 periodic
    report, 1 production update, 2 other 8-K/6-K): the same filing has the same number in every
    recording."""
    return f"{filer:010d}-{filed.year % 100:02d}-{filed.timetuple().tm_yday * 10 + kind:06d}"


def write_market_recording(
    directory: Path, network_rows: list[dict], end: dt.date, seed: int = 7
) -> None:
    btc = {
        dt.date.fromisoformat(r["time"]): float(r["PriceUSD"])
        for r in network_rows
        if r["PriceUSD"] and dt.date.fromisoformat(r["time"]) >= dt.date(2012, 1, 1)
    }
    yahoo = directory / "yahoo"
    yahoo.mkdir(parents=True, exist_ok=True)
    split_rows = []
    # BTC-USD trades every day
    rng = _rng(seed, "BTC-USD")
    with open(yahoo / "BTC-USD.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["date", "open", "high", "low", "close", "volume"])
        prev = None
        for day in sorted(btc):
            if day > end:
                break
            close = btc[day] * math.exp(rng.gauss(0, 0.002))
            opn = prev or close
            hi, lo = (
                max(opn, close) * (1 + abs(rng.gauss(0, 0.01))),
                min(opn, close) * (1 - abs(rng.gauss(0, 0.01))),
            )
            w.writerow(
                [
                    day,
                    f"{opn:.2f}",
                    f"{hi:.2f}",
                    f"{lo:.2f}",
                    f"{close:.2f}",
                    int(2e10 * rng.uniform(0.5, 1.5)),
                ]
            )
            prev = close
    rows = universe.miners()  # one row per membership period
    shares_history: dict[str, list[tuple[dt.date, float]]] = {}
    for t in dict.fromkeys(r["ticker"] for r in rows):
        rng = _rng(seed, t, "prices")
        # paths start no earlier than mid-2019 so a beta to bitcoin keeps prices in a sane range
        listed = max(dt.date.fromisoformat(profile(t)["listed"]), dt.date(2019, 6, 3))
        split_day = dt.date.fromisoformat(REVERSE_SPLITS[t]) if t in REVERSE_SPLITS else None
        price, idio, shares = profile(t)["price"], 0.0, profile(t)["shares"]
        prev_btc, prev_close = None, None
        history = []
        with open(yahoo / f"{t}.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["date", "open", "high", "low", "close", "volume"])
            day = listed
            while day <= end:
                if is_trading_day(day) and day in btc:
                    if prev_btc is not None:
                        # beta to bitcoin, own noise, and a pull back toward the start price
                        idio = rng.gauss(0, 0.03) - 0.002 * math.log(price / profile(t)["price"])
                        price *= math.exp(BETA * math.log(btc[day] / prev_btc) + idio)
                    if split_day and day == split_day:
                        price *= 10  # 1-for-10 reverse split: as traded, the price jumps 10x
                        shares /= 10
                        split_rows.append([t, day, 1, 10])
                    price = max(price, 0.05)
                    opn = (
                        prev_close * math.exp(rng.gauss(0, 0.01))
                        if prev_close and day != split_day
                        else price
                    )
                    hi = max(opn, price) * (1 + abs(rng.gauss(0, 0.015)))
                    lo = min(opn, price) * (1 - abs(rng.gauss(0, 0.015)))
                    w.writerow(
                        [
                            day,
                            f"{opn:.4f}",
                            f"{hi:.4f}",
                            f"{lo:.4f}",
                            f"{price:.4f}",
                            int(shares * rng.uniform(0.01, 0.05)),
                        ]
                    )
                    prev_btc, prev_close = btc[day], price
                    shares *= 1 + max(0.0, rng.gauss(0.0012, 0.001))  # issuance (ATM dilution)
                    history.append((day, shares))
                day += dt.timedelta(days=1)
        shares_history[t] = history
    with open(yahoo / "splits.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ticker", "date", "numerator", "denominator"])
        w.writerows(split_rows)
    monthly = _network_months(network_rows)
    _write_sec(directory / "sec", rows, shares_history, end, seed, monthly)


def _network_months(network_rows) -> dict[dt.date, tuple[float, float]]:
    """Monthly (mean hash rate EH/s, issuance BTC) of the sample network."""
    sums: dict[dt.date, list[float]] = {}
    for r in network_rows:
        day = dt.date.fromisoformat(r["time"])
        acc = sums.setdefault(day.replace(day=1), [0.0, 0.0, 0.0])
        acc[0] += float(r["HashRate"]) / 1e6
        acc[1] += float(r["IssTotNtv"])
        acc[2] += 1
    return {m: (a[0] / a[2], a[1]) for m, a in sums.items()}


def _row_on(periods: list[dict], day: dt.date) -> dict:
    """The seed row (membership period) in force on ``day``: the latest one started by then,
    else the first (a company files before its listing)."""
    started = [r for r in periods if dt.date.fromisoformat(r["member_from"]) <= day]
    return started[-1] if started else periods[0]


def _write_sec(sec: Path, rows, shares_history, end: dt.date, seed: int, monthly) -> None:
    """SEC's files per company (CIK): a ticker can change CIK (a merger into a new company) and a
    CIK can change filer type (foreign private issuer to domestic) between seed rows."""
    (sec / "submissions").mkdir(parents=True, exist_ok=True)
    (sec / "companyfacts").mkdir(parents=True, exist_ok=True)
    companies: dict[int, list[dict]] = {}
    current: dict[str, dict] = {}  # ticker -> its latest row (SEC maps a ticker to one CIK)
    for r in sorted(rows, key=lambda r: r["member_from"]):
        companies.setdefault(int(r["cik"]), []).append(r)
        current[r["ticker"]] = r
    tickers = {str(i): {"cik_str": int(m["cik"]), "ticker": m["ticker"], "title": m["company_name"]}
               for i, m in enumerate(current.values())}  # fmt: skip
    tickers[str(len(current))] = {"cik_str": 320193, "ticker": "AAPL", "title": "Apple Inc."}
    (sec / "company_tickers.json").write_text(json.dumps(tickers))
    # EDGAR's daily indexes of the recording's filings, published through its last day
    (sec / "daily-index.json").write_text(json.dumps({"published_through": end.isoformat()}))
    # production updates for the last UPDATE_MONTHS before the end, and always for NOTE_PERIODS
    first_update = (end.replace(day=1) - dt.timedelta(days=31 * UPDATE_MONTHS)).replace(day=1)
    for cik, periods in companies.items():
        m = periods[-1]
        t = m["ticker"]
        last_day = end
        if periods[-1]["member_to"]:  # a company that left the group files nothing here after
            last_day = min(end, dt.date.fromisoformat(periods[-1]["member_to"]))
        history = dict(shares_history[t])
        days = sorted(history)
        facts, filings = [], []
        for year in range(2020, end.year + 1):
            for fp, period_end in (
                ("Q1", dt.date(year, 3, 31)), ("Q2", dt.date(year, 6, 30)),
                ("Q3", dt.date(year, 9, 30)), ("FY", dt.date(year, 12, 31)),
            ):  # fmt: skip
                filer = _row_on(periods, period_end)
                foreign = filer["filer_type"] == "foreign_private_issuer"
                if foreign and fp != "FY":  # foreign private issuers report yearly
                    continue
                lag = 100 if foreign else (70 if fp == "FY" else 40)
                as_of = period_end + dt.timedelta(days=lag)
                rng = _rng(seed, cik, "report", period_end)
                filed = as_of + dt.timedelta(days=rng.randint(0, 3))
                known = [d for d in days if d <= as_of]
                if filed > last_day or not known:
                    continue
                accn = _accession(cik, filed, 0)
                form = (
                    ("20-F" if t != "BITF" else "40-F")
                    if foreign
                    else ("10-K" if fp == "FY" else "10-Q")
                )
                total = round(history[known[-1]])
                values = (
                    [total] if t != "BTDR" else [round(total * 0.45), total - round(total * 0.45)]
                )
                for v in values:
                    facts.append({"end": as_of.isoformat(), "val": v, "accn": accn, "fy": year, "fp": fp,
                                  "form": form, "filed": filed.isoformat()})  # fmt: skip
                filings.append((accn, form, filed, period_end))
            # monthly production updates (8-K or 6-K, exhibit 99.1), filed early the next month
            for month in range(1, 13):
                period = (dt.date(year, month, 1) - dt.timedelta(days=1)).replace(day=1)
                rng = _rng(seed, cik, "production", period)
                filed = dt.date(year, month, 1) + dt.timedelta(days=rng.randint(2, 6))
                wanted = filed >= first_update or period in NOTE_PERIODS
                if filed > last_day or not wanted or (days and filed < days[0]):
                    continue
                filer = _row_on(periods, filed)
                form = "6-K" if filer["filer_type"] == "foreign_private_issuer" else "8-K"
                accn = _accession(cik, filed, 1)
                filings.append((accn, form, filed, filed))
                held = _held_before(t, period, monthly)
                doc = _production_document(filer, period, monthly.get(period), rng, held)
                _write_archive(sec, cik, accn, form, t, doc)
                # now and then another 8-K/6-K the same week: nothing to parse in its exhibit
                other = filed + dt.timedelta(days=2)
                if rng.random() < 1 / 7 and other <= last_day:
                    accn = _accession(cik, other, 2)
                    filings.append((accn, form, other, other))
                    _write_archive(sec, cik, accn, form, t, _unrelated_document(filer))
        companyfacts = {
            "cik": cik,
            "entityName": m["company_name"],
            "facts": {"dei": {"EntityCommonStockSharesOutstanding": {
                "label": "Entity Common Stock, Shares Outstanding",
                "description": "SAMPLE DATA",
                "units": {"shares": facts},
            }}} if facts else {},
        }  # fmt: skip
        (sec / "companyfacts" / f"CIK{cik:010d}.json").write_text(json.dumps(companyfacts))
        filings.sort(key=lambda f: f[2], reverse=True)
        recent = {
            "accessionNumber": [f[0] for f in filings],
            "filingDate": [f[2].isoformat() for f in filings],
            "reportDate": [f[3].isoformat() for f in filings],
            "form": [f[1] for f in filings],
            "items": ["7.01,9.01" if f[1] == "8-K" else "" for f in filings],
            "primaryDocument": [f"{m['ticker'].lower()}-{f[2]:%Y%m%d}.htm" for f in filings],
        }
        submissions = {
            "cik": f"{cik:010d}", "name": m["company_name"], "tickers": [m["ticker"]],
            "exchanges": [m["exchange"]], "filings": {"recent": recent, "files": []},
        }  # fmt: skip
        (sec / "submissions" / f"CIK{cik:010d}.json").write_text(json.dumps(submissions))


UPDATE_MONTHS = 3
# the months claims/sample_demo.yml is about: their updates are in every recording that reaches
# their filing dates, whatever its end (the others only in the last UPDATE_MONTHS, which keeps
# the demo's SEC traffic small)
NOTE_PERIODS = frozenset(dt.date(2024, m, 1) for m in (4, 5, 6))
HELD_FROM = dt.date(2024, 1, 1)  # bitcoin held: a starting stack, then 60 % of what is mined
# each company's sample share of the network's hash rate (the group lands near a quarter)
HASH_SHARE = {
    "MARA": 0.045, "RIOT": 0.035, "CLSK": 0.04, "CORZ": 0.03, "CIFR": 0.018, "WULF": 0.015,
    "IREN": 0.02, "BTDR": 0.015, "HUT": 0.008, "BITF": 0.015, "ARBK": 0.004, "GREE": 0.003,
    "SDIG": 0.004, "BTBT": 0.004,
}  # fmt: skip
LAYOUT = {
    "RIOT": "riot_table",
    "MARA": "mara_prose",
    "IREN": "iren_table",
    "BITF": "bitf_prose",
    "CLSK": "clsk_prose",
}


def _held_before(ticker: str, period: dt.date, monthly) -> float:
    """Bitcoin held at the start of ``period``: a starting stack plus 60 % of the nominal
    production of every month from HELD_FROM (a function of the month, not of the recording)."""
    share = profile(ticker)["hash_share"]
    mined = sum(
        issued * share * 0.97
        for month, (_, issued) in monthly.items()
        if HELD_FROM <= month < period
    )
    return share * 40_000 + 0.6 * mined


def _unrelated_document(m) -> str:
    return (f"<html><body><p>{m['company_name']} Announces Results of Annual Meeting of Shareholders"
            "</p><p>All proposals were approved. SAMPLE DATA.</p></body></html>")  # fmt: skip


def _production_document(m, period, network, rng, held) -> str:
    """A sample exhibit 99.1 in the layout the company uses (see tests/fixtures/production)."""
    name = m["company_name"]
    if network is None:
        return _unrelated_document(m)
    net_ehs, issued = network
    share = profile(m["ticker"])["hash_share"] * rng.uniform(0.93, 1.07)
    avg = net_ehs * share
    mined = round(issued * share * 0.97)
    held = round(held + mined * 0.6)
    month = f"{period:%B %Y}"
    layout = LAYOUT.get(m["ticker"], "generic_table")
    if layout == "riot_table":
        deployed = avg * 1.45
        body = (f"<p>{name} announces unaudited production and operations updates for {month}. SAMPLE DATA.</p>"
                "<table><tr><td>Metric</td><td>" + month + "</td><td>1</td><td>Prior month</td></tr>"
                f"<tr><td>Bitcoin Produced</td><td>{mined:,}</td><td>-</td></tr>"
                f"<tr><td>Bitcoin Held</td><td>2</td><td>{held:,}</td><td>-</td></tr>"
                f"<tr><td>Deployed Hash Rate - Total</td><td>2</td><td>{deployed:.1f} EH/s</td><td>-</td></tr>"
                f"<tr><td>Avg. Operating Hash Rate - Total</td><td>3</td><td>{avg:.1f} EH/s</td><td>-</td></tr></table>")  # fmt: skip
    elif layout == "mara_prose":
        body = (f"<p><b>{name} Announces Bitcoin Production and Mining Operation Updates for {month}</b></p>"
                f"<ul><li>Average Operational Hash Rate Increases to {avg:.1f} EH/s</li>"
                f"<li>Increased BTC Holdings to {held:,} BTC</li></ul>"
                f"<p>In the month we produced {mined:,} bitcoin. SAMPLE DATA.</p>")  # fmt: skip
    elif layout == "iren_table":
        body = (f"<p>{name}, {month} Monthly Investor Update. SAMPLE DATA.</p>"
                f"<table><tr><td>Key metrics</td><td>{period:%b-%y}</td></tr>"
                f"<tr><td>Average operating hashrate (PH/s)</td><td>{avg * 1000:,.0f}</td></tr>"
                f"<tr><td>Bitcoin mined</td><td>{mined:,}</td></tr></table>")  # fmt: skip
    elif layout == "bitf_prose":
        body = (f"<p>{name} Provides {month} Production and Operations Update</p>"
                f"<ul><li>Earned {mined:,} BTC.</li><li>Operating hashrate of {avg * 1.1:.1f} EH/s as of month end.</li>"
                f"<li>Held {held:,} BTC at month end.</li></ul><p>SAMPLE DATA.</p>")  # fmt: skip
    elif layout == "clsk_prose":
        body = (f"<p>{name} Releases {month} Bitcoin Mining Update</p>"
                f"<p>During the month, the company mined {mined:,} bitcoin and held {held:,} bitcoin at month end. "
                f"Its energized hashrate reached {avg * 1.25:.1f} exahashes per second. SAMPLE DATA.</p>")  # fmt: skip
    else:
        body = (f"<p>{name} reports production results for {month}. SAMPLE DATA.</p>"
                f"<table><tr><th>Metric</th><th>{month}</th></tr>"
                f"<tr><td>Average operating hash rate</td><td>{avg:.2f} EH/s</td></tr>"
                f"<tr><td>Bitcoin mined</td><td>{mined:,}</td></tr>"
                f"<tr><td>Bitcoin held</td><td>{held:,}</td></tr></table>")  # fmt: skip
    return f"<html><body>{body}</body></html>"


def _write_archive(sec: Path, cik: int, accn: str, form: str, ticker: str, exhibit: str) -> None:
    """A filing folder as EDGAR serves it: the -index.htm page and the documents it lists."""
    folder = sec / "archives" / str(cik) / accn.replace("-", "")
    folder.mkdir(parents=True, exist_ok=True)
    primary, ex = f"{ticker.lower()}-{form.lower()}.htm", f"{ticker.lower()}-ex99_1.htm"
    base = f"/Archives/edgar/data/{cik}/{accn.replace('-', '')}"
    (folder / primary).write_text(f"<html><body><p>FORM {form}. SAMPLE DATA.</p></body></html>")
    (folder / ex).write_text(exhibit)
    rows = "".join(
        f'<tr><td scope="row">{i}</td><td scope="row">{desc}</td><td scope="row"><a href="{base}/{doc}">{doc}</a></td>'
        f'<td scope="row">{typ}</td><td scope="row">{size}</td></tr>'
        for i, (desc, doc, typ, size) in enumerate(
            [(form, primary, form, 1000), ("EX-99.1", ex, "EX-99.1", len(exhibit))], 1
        )
    )
    (folder / f"{accn}-index.htm").write_text(
        '<html><body><div id="formDiv"><table class="tableFile" summary="Document Format Files">'
        '<tr><th scope="col">Seq</th><th scope="col">Description</th><th scope="col">Document</th>'
        f'<th scope="col">Type</th><th scope="col">Size</th></tr>{rows}</table></div></body></html>'
    )
