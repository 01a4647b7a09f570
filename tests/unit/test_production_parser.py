"""The production-update parser: documents in real layouts (tests/fixtures/production), layouts
of the real captures in our own words, and the captures themselves with the figures a careful
reader lists (../shared/refdata/production_updates, read at test time): precision and recall."""

import datetime as dt
from pathlib import Path

import pytest

from minerwatch.sources import production as p

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "production"


def parsed(name):
    doc = p.parse_document((FIXTURES / name).read_bytes())
    return doc, {(f.metric, f.hashrate_kind): f for f in doc.figures}


def test_riot_table_with_site_rows_and_footnote_cells():
    doc, f = parsed("riot_2024-06_table.htm")
    assert doc.period_month == dt.date(2024, 6, 1)
    assert f[("hashrate_ehs", "deployed")].value == 22.0  # the Total row, not a site
    assert f[("hashrate_ehs", "average_operating")].value == 11.4
    assert f[("btc_mined", None)].value == 255  # not "per Day"
    assert f[("btc_held", None)].value == 9334
    assert "Deployed Hash Rate - Total" in f[("hashrate_ehs", "deployed")].evidence
    assert "June 2024" in f[("hashrate_ehs", "deployed")].evidence
    assert all(fig.method == "table" for fig in doc.figures)
    assert len(doc.figures) == 4  # the 31 EH/s target is not a figure


def test_riot_table_with_footnotes_glued_to_labels_and_values():
    doc, f = parsed("riot_2023-11_table_inline_notes.htm")
    assert doc.period_month == dt.date(2023, 11, 1)
    assert f[("hashrate_ehs", "deployed")].value == 12.4
    assert f[("btc_held", None)].value == 7358
    assert f[("btc_mined", None)].value == 552


def test_mara_prose_headline_bullets():
    doc, f = parsed("mara_2024-06_prose.htm")
    assert doc.period_month == dt.date(2024, 6, 1)
    assert f[("hashrate_ehs", "average_operating")].value == 26.3
    assert f[("btc_held", None)].value == 18536
    assert f[("btc_mined", None)].value == 590
    assert ("hashrate_ehs", "operating") not in f  # "target of 50 EH/s" is forward-looking
    assert f[("hashrate_ehs", "average_operating")].method == "prose"


def test_mara_prose_two_kinds_in_one_sentence_and_ytd_ignored():
    doc, f = parsed("mara_2023-04_prose_installed.htm")
    assert doc.period_month == dt.date(2023, 4, 1)
    assert f[("hashrate_ehs", "operating")].value == 14.0
    assert f[("hashrate_ehs", "installed")].value == 17.9
    assert f[("btc_mined", None)].value == 702  # not the 2,896 year-to-date
    assert f[("btc_held", None)].value == 11568


def test_iren_6k_table_with_unit_in_the_label_converts_phs():
    doc, f = parsed("iren_2023-08_6k_table_phs.htm")
    assert doc.period_month == dt.date(2023, 8, 1)
    fig = f[("hashrate_ehs", "average_operating")]
    assert fig.reported_value == 5493 and fig.reported_unit == "PH/s"
    assert fig.value == pytest.approx(5.493)
    assert f[("btc_mined", None)].value == 410


def test_iren_6k_prose_takes_the_new_value_not_the_old_or_the_target():
    doc, f = parsed("iren_2023-05_6k_prose_phs.htm")
    assert doc.period_month == dt.date(2023, 5, 1)
    fig = f[("hashrate_ehs", "average_operating")]
    assert fig.value == pytest.approx(5.51)  # 5,510 PH/s comes first in the document
    assert f[("btc_mined", None)].value == 508


def test_bitfarms_6k_prose():
    doc, f = parsed("bitf_2024-06_6k_prose.htm")
    assert doc.period_month == dt.date(2024, 6, 1)
    assert f[("hashrate_ehs", "operating")].value == 11.9
    assert f[("btc_mined", None)].value == 190
    assert f[("btc_held", None)].value == 905
    assert len([x for x in doc.figures if x.metric == "hashrate_ehs"]) == 1  # 21 EH/s is a target


def test_cleanspark_exahashes_spelled_out():
    doc, f = parsed("clsk_2024-06_8k_prose_exahash.htm")
    assert f[("hashrate_ehs", "energized")].value == 20.4
    assert f[("btc_mined", None)].value == 445
    assert f[("btc_held", None)].value == 6154


def test_unrelated_document_is_unparsed_with_a_reason():
    doc, f = parsed("unrelated_8k.htm")
    assert doc.figures == []
    assert doc.unparsed_reason


def test_units():
    assert p.to_ehs(9316, "PH/s") == pytest.approx(9.316)
    assert p.to_ehs(26.3, "exahashes per second") == 26.3
    assert p.to_ehs(5_000_000, "TH/s") == 5.0


def test_filing_index_lists_exhibit_99():
    html = """<table class="tableFile" summary="Document Format Files">
    <tr><th scope="col">Seq</th><th scope="col">Description</th><th scope="col">Document</th><th scope="col">Type</th><th scope="col">Size</th></tr>
    <tr><td scope="row">1</td><td scope="row">8-K</td><td scope="row"><a href="/Archives/edgar/data/1167419/000116741924000093/riot-20240703.htm">riot-20240703.htm</a></td><td scope="row">8-K</td><td scope="row">38123</td></tr>
    <tr><td scope="row">2</td><td scope="row">EX-99.1</td><td scope="row"><a href="/Archives/edgar/data/1167419/000116741924000093/riot-ex99_1.htm">riot-ex99_1.htm</a></td><td scope="row">EX-99.1</td><td scope="row">91022</td></tr>
    <tr><td scope="row">3</td><td scope="row">GRAPHIC</td><td scope="row"><a href="/x/img.jpg">img.jpg</a></td><td scope="row">GRAPHIC</td><td scope="row">1022</td></tr>
    </table>"""
    ex = p.exhibits_99(p.parse_filing_index(html))
    assert [e.document for e in ex] == ["riot-ex99_1.htm"]
    assert ex[0].href.endswith("/riot-ex99_1.htm")


# -- layouts of real releases, in our own minimal documents -----------------------------------
def test_table_without_optional_end_tags_yields_its_figures():
    """lxml reads <td>/<th>/<tr> without end tags (valid HTML) like any table."""
    doc, f = parsed("omitted_end_tags_table.htm")
    assert doc.period_month == dt.date(2024, 3, 1)
    assert f[("btc_mined", None)].value == 301
    assert f[("btc_held", None)].value == 1204  # "Bitcoin Held<sup>1</sup>": footnote glued
    assert f[("hashrate_ehs", "average_operating")].value == 6.3  # the Total row, not Site A
    assert f[("hashrate_ehs", "deployed")].value == pytest.approx(7.45)  # 7,450 PH/s
    assert len(doc.figures) == 4  # the 10 EH/s target is not a figure
    assert all(x.period_month == dt.date(2024, 3, 1) for x in doc.figures)
    february = {(x.metric, x.hashrate_kind): x.value for x in doc.other_month_figures}
    assert february == {
        ("btc_mined", None): 287, ("btc_held", None): 1050,
        ("hashrate_ehs", "average_operating"): 5.9, ("hashrate_ehs", "deployed"): 7.1,
    }  # fmt: skip
    assert {x.period_month for x in doc.other_month_figures} == {dt.date(2024, 2, 1)}
    assert {x.period_month for x in doc.all_figures} == {dt.date(2024, 3, 1), dt.date(2024, 2, 1)}


def by_month(doc):
    return {(x.period_month, x.metric, x.hashrate_kind): x.value for x in doc.all_figures}


def test_flattened_text_table_reads_the_month_and_the_month_before():
    text = (
        "Example Miner announces unaudited production and operations updates for May 2024.\n\n"
        "Comparison (%) Metric May 20241,2 April 20242 May 2023 Month/Month Year/Year "
        "Bitcoin Produced 200 300 400 -33% -50% Average Bitcoin Produced per Day 6.5 10.0 12.9 "
        "-35% -50% Bitcoin Held3 1,000 900 800 11% 25% Bitcoin Sold - - 50 N/A N/A "
        "Deployed Hash Rate - Site A3 5.0 EH/s 4.0 EH/s 3.0 EH/s 25% 67% "
        "Deployed Hash Rate - Total3 9.5 EH/s 8.0 EH/s 6.0 EH/s 19% 58%\n\n"
        "Example Miner is targeting 20 EH/s by the end of the year.\n"
    )
    doc = p.parse_document(text.encode())
    may, april = dt.date(2024, 5, 1), dt.date(2024, 4, 1)
    assert by_month(doc) == {
        (may, "btc_mined", None): 200, (may, "btc_held", None): 1000,
        (may, "hashrate_ehs", "deployed"): 9.5,
        (april, "btc_mined", None): 300, (april, "btc_held", None): 900,
        (april, "hashrate_ehs", "deployed"): 8.0,
    }  # fmt: skip
    held = next(x for x in doc.figures if x.metric == "btc_held")
    assert held.evidence == "table row 'Bitcoin Held3', column 'May 2024': '1,000'"


def test_flattened_table_without_units_and_self_mining_split():
    text = (
        "Example Miner posts its production updates for May 2024.\n\n"
        "Monthly figures\n\n"
        "Metric May 2024 April 2024 Self-Mining Bitcoin Earned1 400 700 Hosting Bitcoin Earned by "
        "Customers2 100 200 Average Self-Mined Bitcoin Earned/Day 12.9 23.3 Self-Mining Energized "
        "Hash rate3 20.0 19.5 Hosting Energized Hash rate4 5.0 6.0 Total Energized Hash rate "
        "25.0 25.5\n"
    )
    doc = p.parse_document(text.encode())
    may = dt.date(2024, 5, 1)
    got = by_month(doc)
    assert got[(may, "btc_mined", None)] == 400  # not the hosting customers' 100
    assert got[(may, "hashrate_ehs", "self_mining_energized")] == 20.0
    assert got[(may, "hashrate_ehs", "hosting_energized")] == 5.0
    assert got[(may, "hashrate_ehs", "total_energized")] == 25.0
    assert got[(dt.date(2024, 4, 1), "btc_mined", None)] == 700
    fig = next(x for x in doc.figures if x.hashrate_kind == "total_energized")
    assert fig.reported_unit == "EH/s" and "no unit stated" in fig.evidence


def test_pipe_separated_table_and_report_date_bullets():
    text = (
        "Example Miner Ltd – May 2024 Monthly Update (June 5, 2024)\n|\n"
        "• 150 Bitcoin mined in May\n• 5 EH/s operating\n• 7 EH/s in 3Q, 9 EH/s in 4Q\n|\n"
        "Figures\n|\nMay-24\n|\nApr-24\n|\nMar-24\n|\nMining1\n|\n|||\n"
        "Average operating hashrate (PH/s)\n|\n4,120\n|\n3,900\n|\n3,500\n|\n"
        "Bitcoin mined\n|\n150\n|\n170\n|\n160\n|\n"
        "Operations in May\n• Average operating hashrate of 4.1 EH/s\n(now expanded to 5 EH/s)\n"
    )
    doc = p.parse_document(text.encode())
    may, april = dt.date(2024, 5, 1), dt.date(2024, 4, 1)
    assert by_month(doc) == {
        (may, "hashrate_ehs", "average_operating"): 4.12,  # the table's 4,120 PH/s, not 4.1
        (may, "btc_mined", None): 150,
        (may, "hashrate_ehs", "operating_at_report_date"): 5,  # "5 EH/s operating": release date
        (april, "hashrate_ehs", "average_operating"): 3.9,
        (april, "btc_mined", None): 170,
    }  # fmt: skip


def test_an_expansion_schedule_bullet_is_not_a_figure():
    text = (
        "Example Miner Ltd – April 2024 Monthly Update (May 3, 2024)\n"
        "• 120 Bitcoin mined in April\n• 3.1 EH/s operating, 4 EH/s in May\n"
    )
    doc = p.parse_document(text.encode())
    assert by_month(doc) == {(dt.date(2024, 4, 1), "btc_mined", None): 120}


def test_month_wording_and_years_from_context():
    ending = " date 2024-06-04 Example Miner released its update for the month ending May 31, 2024."
    assert p.parse_document(ending.encode()).period_month == dt.date(2024, 5, 1)
    no_year = "The Company mined 98 Bitcoin during the month of December."
    doc = p.parse_document(no_year.encode(), filed_date=dt.date(2024, 1, 5))
    assert doc.period_month == dt.date(2023, 12, 1)  # the December before the filing
    assert by_month(doc) == {(dt.date(2023, 12, 1), "btc_mined", None): 98}
    assert p.parse_document(no_year, filed_date="2024-01-05").period_month == dt.date(2023, 12, 1)
    assert p.parse_document(no_year.encode()).unparsed_reason == "no reporting month found"
    headline = "Example Miner Produces 140 Bitcoin in June 2024"
    assert p.parse_document(headline.encode()).period_month == dt.date(2024, 6, 1)
    cover = (  # a 6-K cover names the month of the filing, not the month reported on
        "FORM 6-K\nFor the month of February, 2024\nCommission File Number: 001-00000\n"
        "Press Release 5 February 2024. Example Miner mined 124 Bitcoin during the month of January."
    )
    doc = p.parse_document(cover.encode())
    assert doc.period_month == dt.date(2024, 1, 1)
    assert by_month(doc) == {(dt.date(2024, 1, 1), "btc_mined", None): 124}


def test_prose_wording_of_real_releases():
    text = (
        "Example Miner Reports April 2024 Production Update\n"
        "6.5 EH/s of installed and operational self-mining capacity\n"
        "- Self-mined 210 bitcoin in April, or 7.0 bitcoin per day.\n"
        "In April 2024, the Company produced 210 BTC. Example Miner's active hash rate was "
        "approximately 1.9 EH/s as of April 30, 2024. Current hashrate: 7.2 EH/s\n\n"
        "Company mined 210 bitcoin; total bitcoin holdings now at 3,050\n\n"
        "Our fleet briefly peaked at nearly 9 exahashes per second."
    )
    got = by_month(p.parse_document(text.encode()))
    april = dt.date(2024, 4, 1)
    assert got == {
        (april, "hashrate_ehs", "operating"): 6.5, (april, "btc_mined", None): 210,
        (april, "hashrate_ehs", "active"): 1.9, (april, "hashrate_ehs", "current"): 7.2,
        (april, "btc_held", None): 3050,
    }  # fmt: skip


def test_kinds_agree_with_the_gx_suite_and_the_preference_seed():
    """Every kind the parser names is allowed by the GX suite and ranked in each company's
    preference, except those never to be chosen as a company's month figure."""
    import csv
    import json

    repo = Path(__file__).resolve().parents[2]
    suite = json.loads((repo / "expectations" / "sec_production_updates.json").read_text())
    (kinds,) = [
        e["kwargs"]["value_set"]
        for e in suite["expectations"]
        if e["type"] == "expect_column_values_to_be_in_set"
        and e["kwargs"]["column"] == "hashrate_kind"
    ]
    assert set(kinds) == set(p.KINDS)
    never = {"hosting_energized", "total_energized", "operating_at_report_date"}
    seed = repo / "dbt_project" / "seeds" / "hashrate_kind_preference.csv"
    with seed.open(newline="") as fh:
        for row in csv.DictReader(fh):
            ranked = [k.strip() for k in row["kind_preference"].split(">")]
            assert set(ranked) <= set(p.KINDS), row["ticker"]
            assert set(ranked) | never == set(p.KINDS), row["ticker"]
            assert ranked.index("average_operating") < ranked.index("energized")
            assert ranked.index("energized") < ranked.index("deployed")


# -- the real corpus: captures of eight releases (../shared/refdata/production_updates) --------
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "refdata" / "production_updates"
EXPECTED_CSV = CORPUS / "expected_figures.csv"
# the CSV's metric_kind (the company's own naming) as the parser's (metric, hashrate_kind)
CSV_KINDS = {
    "hashrate_deployed": ("hashrate_ehs", "deployed"),
    "hashrate_avg_operating": ("hashrate_ehs", "average_operating"),
    "hashrate_current_month_end": ("hashrate_ehs", "current"),
    "hashrate_self_mining_energized": ("hashrate_ehs", "self_mining_energized"),
    "hashrate_hosting_energized": ("hashrate_ehs", "hosting_energized"),
    "hashrate_total_energized": ("hashrate_ehs", "total_energized"),
    "hashrate_operating_at_report_date": ("hashrate_ehs", "operating_at_report_date"),
    "hashrate_installed_and_operational": ("hashrate_ehs", "operating"),
    "hashrate_active": ("hashrate_ehs", "active"),
    "btc_mined": ("btc_mined", None),
    "btc_mined_self": ("btc_mined", None),
    "btc_held": ("btc_held", None),
}
# Figures the parser emits that are in the text but not in the CSV, each checked by reading the
# file: previous-month table columns the CSV lists for Riot and (but for this row) Core Scientific
# and not for the others. Each entry must still be emitted and still be missing from the CSV.
CSV_OMISSIONS = {
    ("corz_2024-05_businesswire.txt", "2024-04", "hashrate_ehs", "hosting_energized", 6.3):
        "April column of the 'Hosting Energized Hash rate' row; the CSV lists the row's other "
        "April neighbours (self-mining and total energized)",
    ("iren_2024-04_6k_ex99-1_via_gcs-web.txt", "2024-03", "hashrate_ehs", "average_operating",
     7.107): "Mar-24 column of the key metrics table (7,107 PH/s)",
    ("iren_2024-04_6k_ex99-1_via_gcs-web.txt", "2024-03", "btc_mined", None, 353.0):
        "Mar-24 column of the key metrics table",
    ("wulf_2024-04_globenewswire_via_terawulf-ir.txt", "2024-03", "hashrate_ehs",
     "average_operating", 7.6): "March 2024 column of the key metrics table",
}  # fmt: skip
CORPUS_METRICS = {"hashrate_ehs": "hash rate", "btc_mined": "BTC mined", "btc_held": "BTC held"}


def _expected_rows():
    import csv

    rows = []
    with EXPECTED_CSV.open(newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            assert r["metric_kind"] in CSV_KINDS, f"unmapped metric_kind {r['metric_kind']!r}"
            metric, kind = CSV_KINDS[r["metric_kind"]]
            value = float(r["value"]) / (1000 if r["unit"] == "PH/s" else 1)
            rows.append((r["source_file"], r["ticker"], r["month"], metric, kind, round(value, 6)))
    return rows


@pytest.fixture(scope="module")
def corpus():
    """Every file parsed, and each figure judged against the CSV: a figure is right when the
    CSV lists the same company, month, metric, kind and value (from any of the company's files:
    IREN's May table repeats April's 8,238 PH/s); a CSV row is found when its own file yields it."""
    if not EXPECTED_CSV.exists():
        pytest.skip(f"real production updates not found at {CORPUS} (../shared/refdata)")
    rows = _expected_rows()
    tickers = {r[0]: r[1] for r in rows}
    emitted, periods = {}, {}
    for name in sorted(tickers):
        doc = p.parse_document((CORPUS / name).read_bytes())
        periods[name] = doc.period_month
        emitted[name] = {
            (f"{f.period_month:%Y-%m}", f.metric, f.hashrate_kind, round(f.value, 6)): f
            for f in doc.all_figures
        }
    listed = {(r[1], *r[2:]) for r in rows}
    judged = []  # (file, key, verdict)
    for name, figs in emitted.items():
        for key in figs:
            if (tickers[name], *key) in listed:
                verdict = "right"
            elif (name, *key) in CSV_OMISSIONS:
                verdict = "csv_omission"
            else:
                verdict = "wrong"
            judged.append((name, key, verdict))
    found = [(r, r[2:] in emitted[r[0]]) for r in rows]
    return {"rows": rows, "periods": periods, "emitted": emitted, "judged": judged, "found": found}


def corpus_table(c) -> str:
    lines = [
        f"{'metric':<10} {'expected':>8} {'found':>5} {'recall':>7} {'emitted':>7} {'right':>5} "
        f"{'csv-omit':>8} {'wrong':>5} {'precision':>9} {'strict':>7}"
    ]
    for metric, title in CORPUS_METRICS.items():
        exp = [ok for r, ok in c["found"] if r[3] == metric]
        verdicts = [v for _, key, v in c["judged"] if key[1] == metric]
        right, omit, wrong = (verdicts.count(v) for v in ("right", "csv_omission", "wrong"))
        recall = sum(exp) / len(exp) if exp else 1.0
        precision = right / (right + wrong) if right + wrong else 1.0
        strict = right / len(verdicts) if verdicts else 1.0
        lines.append(
            f"{title:<10} {len(exp):>8} {sum(exp):>5} {recall:>7.0%} {len(verdicts):>7} {right:>5} "
            f"{omit:>8} {wrong:>5} {precision:>9.0%} {strict:>7.0%}"
        )
    missed = [r for r, ok in c["found"] if not ok]
    wrong = [(n, k) for n, k, v in c["judged"] if v == "wrong"]
    lines.append("precision: right / (right + wrong), figures listed in CSV_OMISSIONS left out;")
    lines.append("strict: right / emitted (CSV as it is)")
    lines += [f"missed: {r}" for r in missed] + [f"not in the CSV: {n} {k}" for n, k in wrong]
    return "\n".join(lines)


def recall_of(c, metric) -> float:
    exp = [ok for r, ok in c["found"] if r[3] == metric]
    return sum(exp) / len(exp)


def test_real_corpus_precision_and_recall(corpus, capsys):
    table = corpus_table(corpus)
    with capsys.disabled():
        print("\nproduction updates, real corpus (precision and recall per metric):\n" + table)
    wrong = [(n, k) for n, k, v in corpus["judged"] if v == "wrong"]
    assert not wrong, f"figures the CSV does not list:\n{table}"
    assert recall_of(corpus, "hashrate_ehs") >= 0.9, table
    assert recall_of(corpus, "btc_mined") >= 0.9, table
    assert recall_of(corpus, "btc_held") >= 0.75, table


def test_real_corpus_documented_omissions_are_still_real(corpus):
    listed = {(r[1], *r[2:]) for r in corpus["rows"]}
    tickers = {r[0]: r[1] for r in corpus["rows"]}
    for name, *key in CSV_OMISSIONS:
        assert tuple(key) in corpus["emitted"][name], f"no longer emitted: {name} {key}"
        assert (tickers[name], *key) not in listed, f"now in the CSV, drop it: {name} {key}"


CORPUS_FILES = sorted(x.name for x in CORPUS.glob("*.txt")) or [
    pytest.param(None, marks=pytest.mark.skip(reason=f"no production updates at {CORPUS}"))
]


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_real_corpus_file(corpus, name):
    """Each real release: its month, and no figure the CSV does not list (or CSV_OMISSIONS)."""
    rows = [r for r in corpus["rows"] if r[0] == name]
    assert rows, f"{name} has no row in expected_figures.csv"
    period = corpus["periods"][name]
    assert period is not None and f"{period:%Y-%m}" == max(r[2] for r in rows), period
    wrong = [k for n, k, v in corpus["judged"] if n == name and v == "wrong"]
    missed = [r[2:] for r, ok in corpus["found"] if r[0] == name and not ok]
    assert not wrong, f"{name}: figures the CSV does not list: {wrong} (missed: {missed})"
    for key, fig in corpus["emitted"][name].items():
        assert fig.evidence and fig.method in ("table", "prose"), key
        assert fig.hashrate_kind in (p.KINDS if fig.metric == "hashrate_ehs" else (None,)), key
