"""The production-update parser on documents in eight real layouts (tests/fixtures/production)."""

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
