"""The reviewed universe seed (dbt_project/seeds/miners.csv) and the period helpers over it."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import defaultdict
from pathlib import Path

import pytest

from minerwatch import universe
from minerwatch.lake import LakeKeyError

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "dbt_project" / "seeds" / "miners.csv"
COLUMNS = [
    "ticker", "cik", "company_name", "exchange", "filer_type", "listing_type", "ads_ratio",
    "member_from", "member_to", "membership_source", "cik_source", "note",
]  # fmt: skip
# JPMorgan's "14 US-listed miners" (mid-2024), the group the seed reproduces
GROUP_OF_14 = {
    "MARA", "RIOT", "CLSK", "CORZ", "CIFR", "WULF", "IREN", "BTDR", "HUT", "BITF", "ARBK",
    "GREE", "SDIG", "BTBT",
}  # fmt: skip
HISTORY_START = dt.date(2020, 1, 1)
URL = re.compile(r"https?://\S+\Z")


def rows() -> list[dict[str, str]]:
    return universe.miners(SEED)


def bounds(row):
    end = dt.date.fromisoformat(row["member_to"]) if row["member_to"] else None
    return dt.date.fromisoformat(row["member_from"]), end


def by_ticker() -> dict[str, list[dict[str, str]]]:
    out = defaultdict(list)
    for r in rows():
        out[r["ticker"]].append(r)
    return out


def write_seed(path: Path, periods) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for ticker, cik, start, end in periods:
            w.writerow(
                {c: "" for c in COLUMNS}
                | {"ticker": ticker, "cik": cik, "member_from": start, "member_to": end}
            )
    return path


# -- the seed -----------------------------------------------------------------------------------
def test_seed_has_exactly_the_documented_columns():
    with SEED.open(newline="") as fh:
        assert csv.DictReader(fh).fieldnames == COLUMNS


def test_seed_parses_and_tracks_the_14():
    assert {r["ticker"] for r in rows()} == GROUP_OF_14


def test_every_row_has_a_10_digit_cik_and_sources():
    for r in rows():
        assert re.fullmatch(r"\d{10}", r["cik"]), r
        assert URL.match(r["membership_source"]), r
        assert URL.match(r["cik_source"]), r
        assert r["cik_source"].startswith(("https://www.sec.gov/", "https://sec.gov/")), r
        assert r["note"].strip(), r


def test_values_are_in_their_domains():
    for r in rows():
        start, end = bounds(r)
        assert start >= HISTORY_START, r
        assert end is None or end >= start, r
        assert r["exchange"] == "Nasdaq"
        assert r["filer_type"] in {"domestic", "foreign_private_issuer"}
        assert r["listing_type"] in {"common", "ads"}
        assert (r["listing_type"] == "ads") == (r["ads_ratio"] != ""), r
        if r["ads_ratio"]:
            assert float(r["ads_ratio"]) > 0


def test_periods_of_a_ticker_do_not_overlap():
    for ticker, periods in by_ticker().items():
        spans = sorted(bounds(p) for p in periods)
        for (_, prev_end), (next_start, _) in zip(spans, spans[1:], strict=False):
            assert prev_end is not None, f"{ticker}: an open period is followed by another"
            assert next_start > prev_end, f"{ticker}: {prev_end} overlaps {next_start}"


def test_ticker_and_member_from_are_unique():
    keys = [(r["ticker"], r["member_from"]) for r in rows()]
    assert len(keys) == len(set(keys))


def test_a_cik_belongs_to_one_ticker():
    owners = defaultdict(set)
    for r in rows():
        owners[r["cik"]].add(r["ticker"])
    assert all(len(t) == 1 for t in owners.values()), owners


def test_unconfirmed_dates_say_so():
    """A row with a conservative (not documented) date starts its note with 'unconfirmed:',
    and no other row uses the word."""
    flagged = {(r["ticker"], r["member_from"]) for r in rows() if "unconfirmed" in r["note"]}
    assert all(r["note"].startswith("unconfirmed: ") for r in rows() if "unconfirmed" in r["note"])
    assert flagged == {
        ("CLSK", "2020-03-04"),
        ("CORZ", "2022-01-20"),
        ("IREN", "2025-07-01"),
        ("HUT", "2021-06-15"),
        ("HUT", "2023-12-01"),
        ("BITF", "2021-06-21"),
        ("ARBK", "2025-12-12"),
        ("SDIG", "2021-10-20"),
        ("BTBT", "2020-10-01"),
        ("BTBT", "2025-01-01"),
    }


def test_clipped_rows_say_so():
    for r in rows():
        if r["member_from"] == HISTORY_START.isoformat():
            assert "clipped to the history start" in r["note"], r["ticker"]


def test_the_reviewed_changes():
    t = by_ticker()
    corz = sorted(bounds(p) for p in t["CORZ"])
    assert corz == [
        (dt.date(2022, 1, 20), dt.date(2022, 12, 30)),
        (dt.date(2024, 1, 24), None),
    ]
    assert {p["cik"] for p in t["CORZ"]} == {"0001839341"}
    hut = sorted((bounds(p), p["cik"], p["filer_type"]) for p in t["HUT"])
    assert hut == [
        ((dt.date(2021, 6, 15), dt.date(2023, 11, 30)), "0001731805", "foreign_private_issuer"),
        ((dt.date(2023, 12, 1), None), "0001964789", "domestic"),
    ]
    (sdig,) = t["SDIG"]
    assert bounds(sdig) == (dt.date(2021, 10, 20), dt.date(2025, 3, 14))
    assert {p["cik"] for p in t["ARBK"]} == {"0001841675"}  # not the old seed's 0001708187
    arbk = sorted((bounds(p)[0], float(p["ads_ratio"])) for p in t["ARBK"])
    assert arbk == [(dt.date(2021, 9, 23), 10.0), (dt.date(2025, 12, 12), 2160.0)]


def test_split_rows_are_contiguous():
    """Rows cut only by a filer-status or ADS-ratio change leave no gap."""
    for ticker in ("IREN", "BTBT", "ARBK"):
        spans = sorted(bounds(p) for p in by_ticker()[ticker])
        for (_, prev_end), (next_start, _) in zip(spans, spans[1:], strict=False):
            assert next_start == prev_end + dt.timedelta(days=1), ticker


# -- members_on ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "ticker", "member"),
    [
        ("2022-01-19", "CORZ", False),  # XPDI, the SPAC, is not tracked
        ("2022-01-20", "CORZ", True),
        ("2022-12-30", "CORZ", True),
        ("2023-01-03", "CORZ", False),  # OTC (CORZQ) during chapter 11
        ("2023-07-03", "CORZ", False),
        ("2024-01-23", "CORZ", False),
        ("2024-01-24", "CORZ", True),
        ("2024-02-01", "CORZ", True),
        ("2025-03-14", "SDIG", True),
        ("2025-03-17", "SDIG", False),  # acquired by Bitfarms
        ("2026-12-01", "SDIG", False),
        ("2021-06-14", "HUT", False),
        ("2023-11-30", "HUT", True),
        ("2023-12-01", "HUT", True),
        ("2023-04-13", "BTDR", False),
        ("2023-04-14", "BTDR", True),
        ("2020-06-30", "BTBT", False),  # still DNJR (Golden Bull)
        ("2020-01-02", "MARA", True),
        (dt.date(2026, 6, 1), "BITF", False),  # KEEL since the redomicile
    ],
)
def test_members_on_around_changes(day, ticker, member):
    assert (ticker in universe.members_on(day, SEED)) is member


def test_the_group_of_14_on_mid_2024():
    assert set(universe.members_on("2024-06-30", SEED)) == GROUP_OF_14


def test_members_on_lists_a_ticker_once():
    # IREN has two contiguous rows; the day after the split it is listed once
    on = universe.members_on("2025-07-01", SEED)
    assert on.count("IREN") == 1 and len(on) == len(set(on))


def test_members_on_2020_start():
    assert universe.members_on("2020-01-02", SEED) == ["MARA", "RIOT"]


# -- windows: periods_overlapping, ciks, price_tickers -----------------------------------------
def test_window_bounds_are_inclusive(tmp_path):
    seed = write_seed(
        tmp_path / "m.csv",
        [("AAA", "1", "2021-01-10", "2021-01-20"), ("BBB", "2", "2021-01-21", "")],
    )
    assert [r["ticker"] for r in universe.periods_overlapping("2021-01-20", "2021-01-20", seed)] == ["AAA"]  # fmt: skip
    assert [r["ticker"] for r in universe.periods_overlapping("2021-01-21", None, seed)] == ["BBB"]
    assert [r["ticker"] for r in universe.periods_overlapping(None, "2021-01-09", seed)] == []
    assert [r["ticker"] for r in universe.periods_overlapping(path=seed)] == ["AAA", "BBB"]
    with pytest.raises(ValueError, match="before its start"):
        universe.periods_overlapping("2021-02-01", "2021-01-01", seed)


def test_ciks_by_window():
    everything = universe.ciks(path=SEED)
    assert len(everything) == len(set(everything)) == len({r["cik"] for r in rows()})
    assert all(re.fullmatch(r"\d{10}", c) for c in everything)
    y2022 = universe.ciks("2022-01-01", "2022-12-31", SEED)
    assert "0001731805" in y2022 and "0001964789" not in y2022  # Hut 8 Mining, not Hut 8 Corp
    assert y2022.count("0001839341") == 1
    y2025 = universe.ciks("2025-06-01", "2025-12-31", SEED)
    assert "0001964789" in y2025 and "0001731805" not in y2025
    assert "0001856028" not in y2025  # Stronghold left in March 2025
    assert universe.ciks("2019-01-01", "2019-12-31", SEED) == []


def test_ciks_are_zero_padded(tmp_path):
    seed = write_seed(tmp_path / "m.csv", [("AAA", "827876", "2021-01-01", "")])
    assert universe.ciks(path=seed) == ["0000827876"]


def test_price_tickers():
    every = universe.price_tickers(SEED)
    assert every[-1] == universe.BITCOIN_TICKER
    assert set(every[:-1]) == GROUP_OF_14 and len(every) == 15
    h1_2020 = universe.price_tickers(SEED, start="2020-01-01", end="2020-06-30")
    assert h1_2020 == ["MARA", "RIOT", "CLSK", universe.BITCOIN_TICKER]
    assert "SDIG" not in universe.price_tickers(SEED, start="2025-06-01")
    assert "SDIG" in universe.price_tickers(SEED, start="2025-03-01", end="2025-03-31")


def test_bad_rows_are_refused(tmp_path):
    with pytest.raises(LakeKeyError):
        universe.miners(write_seed(tmp_path / "a.csv", [("A/B", "1", "2021-01-01", "")]))
    with pytest.raises(ValueError, match="before member_from"):
        universe.miners(write_seed(tmp_path / "b.csv", [("A", "1", "2021-01-02", "2021-01-01")]))
    with pytest.raises(ValueError, match="not a YYYY-MM-DD"):
        universe.miners(write_seed(tmp_path / "c.csv", [("A", "1", "2021-13-01", "")]))
    with pytest.raises(ValueError, match="digits"):
        universe.ciks(path=write_seed(tmp_path / "d.csv", [("A", "12a", "2021-01-01", "")]))


def test_default_path_is_the_project_seed(env):
    assert universe.seed_path() == SEED
    assert universe.miners() == rows()


def test_chunks_keep_order_and_cover_every_item():
    items = [f"T{i:03d}" for i in range(141)]
    parts = universe.chunks(items, 25)
    assert [len(p) for p in parts] == [25, 25, 25, 25, 25, 16]
    assert [x for p in parts for x in p] == items
    assert universe.chunks(items[:15], 25) == [items[:15]]
    assert universe.chunks([], 25) == []
    with pytest.raises(ValueError):
        universe.chunks(items, 0)
