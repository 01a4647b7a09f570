"""Monthly production updates furnished to the SEC (8-K items 7.01/8.01 or 6-K, exhibit 99.x):
the filing index reader that finds them (``parse_filing_index``, ``exhibits_99``; the fetching is
``minerwatch.pipeline.sec``), and a parser that reads them into cited figures (``parse_document``).

The exhibit is parsed as HTML with lxml (tables whose cells omit the optional ``</td>``/``</tr>``
end tags read like any other) or, when it has no markup, as plain text. Figures come from:

- tables with month columns ("Metric | June 2024 | May 2024 | June 2023"), as HTML tables or
  flattened to text (a row is its label then its month columns: "Deployed Hash Rate - Total3
  14.7 EH/s 12.6 EH/s", footnote digits glued to labels, cells separated by spaces or "|");
- prose: headlines, bullets and sentences ("Average operating hashrate of 5,510 PH/s", "Company
  mined 417 bitcoin", "Current hashrate: 17.97 EH/s", "10 EH/s operating").

Every figure keeps its metric, its kind (hash rate only, see ``KINDS``), the month it is for
(``Figure.period_month``), and the table cell or sentence it came from. A table's column for the
document's month gives the document's figures; the column of the month before (Riot's May release
carries April's) gives figures for that month, kept apart in ``other_month_figures``; year-ago
and older columns are not read. Targets, "from X to Y" old values, report-date asides ("now
expanded to 9.4 EH/s"), site rows, per-day and year-to-date counts are not figures. A document
with nothing recognisable yields no figure and the reason — never a guess.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field

from lxml import etree
from lxml import html as lxml_html

MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]  # fmt: skip
    )
    for m in names
}
_MONTH_WORD = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_YEAR = r"(?:19|20)\d\d"
MONTH_YEAR = re.compile(rf"\b({_MONTH_WORD})\.?[\s\-]+((?:19|20)\d\d|\d\d)\b", re.I)
# a month column heading: "May 2024", "May 20241,2" (footnotes glued to the year), "Apr-24"
MONTH_COLUMN = re.compile(
    rf"\b({_MONTH_WORD})\.?(?:\s+({_YEAR})(?:\d{{1,2}}(?:,\d{{1,2}})*)?|[-'’](\d\d))\b", re.I
)
NUMBER = r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
UNIT = r"(EH/s|PH/s|TH/s|exahash(?:es)?(?:\s+per\s+second)?|petahash(?:es)?(?:\s+per\s+second)?)"
HASH_VALUE = re.compile(rf"{NUMBER}\s*{UNIT}", re.I)
UNIT_IN_LABEL = re.compile(r"\((EH/s|PH/s|TH/s)\)", re.I)
FORWARD_LOOKING = re.compile(
    r"\b(target|targets|targeting|expect|expects|expected|guidance|plan|plans|planned|anticipat\w*|"
    r"goal|on track|by (?:the )?end of|by year[- ]end|by mid[- ]\d{4}|potential|forecast|projected|"
    r"will|path to|coming (?:weeks|months))\b",
    re.I,
)
# Hash-rate kinds, in the order a label is matched against them. Month figures: what was hashed
# over the month (average_operating), at month end (operating, active, current — a company's
# "current" figure in its month's update block), and capacity (energized and its self-mining /
# hosting / total split, deployed, installed); realized is hash rate implied by the bitcoin mined.
# operating_at_report_date is stated for the release date, not the month ("10 EH/s operating").
KINDS = (
    "average_operating",
    "operating",
    "active",
    "current",
    "realized",
    "self_mining_energized",
    "hosting_energized",
    "total_energized",
    "energized",
    "deployed",
    "installed",
    "operating_at_report_date",
)
METRICS = ("hashrate_ehs", "btc_mined", "btc_held")


def to_ehs(value: float, unit: str) -> float:
    u = unit.lower()
    if u.startswith("eh") or u.startswith("exa"):
        return value
    if u.startswith("ph") or u.startswith("peta"):
        return value / 1_000
    if u.startswith("th"):
        return value / 1_000_000
    raise ValueError(f"unknown hash rate unit {unit!r}")


def _kind_of_words(text: str) -> str | None:
    """The hash-rate kind named by qualifying words ("Self-Mining Energized", "Avg. Operating")."""
    t = text.lower()
    energized = re.search(r"energi[sz]ed", t)
    if re.search(r"\bavg\b|average", t) and re.search(r"operat", t):
        return "average_operating"
    if re.search(r"installed\s+(?:and|&)\s+operat", t):
        return "operating"  # "installed and operational capacity": what is hashing
    if energized and re.search(r"\bhost(?:ing|ed)\b", t):
        return "hosting_energized"
    if energized and re.search(r"self[- ]?min(?:ing|ed)", t):
        return "self_mining_energized"
    if energized and re.search(r"\btotal\b", t):
        return "total_energized"
    for kind, pattern in (
        ("realized", r"reali[sz]ed"), ("energized", r"energi[sz]ed"), ("deployed", r"deployed"),
        ("installed", r"installed"), ("active", r"\bactive\b"), ("operating", r"operat"),
        ("current", r"\bcurrent\b"),
    ):  # fmt: skip
        if re.search(pattern, t):
            return kind
    return None


def hashrate_kind(label: str) -> str | None:
    """The kind of a hash-rate label ("Avg. Operating Hash Rate - Total" → average_operating)."""
    t = label.lower()
    if not re.search(r"hash|capacity", t):
        return None
    return _kind_of_words(t)


def _num(text: str) -> float:
    return float(text.replace(",", "").rstrip("*"))


def month_of(name: str, year: str) -> dt.date:
    y = int(year)
    if y < 100:
        y += 2000
    return dt.date(y, MONTHS[name.lower().rstrip(".")], 1)


def _column_month(m: re.Match) -> dt.date:
    return month_of(m.group(1), m.group(2) or m.group(3))


def previous_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


@dataclass
class Figure:
    metric: str  # hashrate_ehs | btc_mined | btc_held
    value: float  # EH/s for hash rate, BTC otherwise
    hashrate_kind: str | None
    reported_value: float
    reported_unit: str | None
    evidence: str
    method: str  # table | prose
    period_month: dt.date | None = None  # the month the figure is for


@dataclass
class ParsedDocument:
    """``figures`` are the document's month's (``period_month``); ``other_month_figures`` come
    from the column of the month before in the same tables, each with its own period_month."""

    period_month: dt.date | None
    figures: list[Figure] = field(default_factory=list)
    unparsed_reason: str | None = None
    other_month_figures: list[Figure] = field(default_factory=list)

    @property
    def all_figures(self) -> list[Figure]:
        return self.figures + self.other_month_figures


Parsed = ParsedDocument


# -- document to tables and text ------------------------------------------------------------
_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "div", "dl",
    "dt", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "html", "li", "main", "nav", "ol", "p", "section", "table", "tbody", "tfoot", "thead",
    "title", "ul",
}  # fmt: skip
_HTML_MARKUP = re.compile(r"<(?:html|body|p|div|table|tr|td|br|span|font|li|b|h\d)\b", re.I)
_PAGE_DATE = re.compile(r"^\s*date\s+(\d{4})-(\d\d)-(\d\d)\s+")
_TABLE_HEADER_ROWS = 4


def _ws(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _cell_text(cell) -> str:
    """A cell's text: inline markup joined as is ("Held<sup>1</sup>" → "Held1", split digits
    stay one number), <br> and blocks inside the cell as spaces."""
    return " ".join(_render(cell, set()).split()).removeprefix("|").strip()


def _own_rows(table) -> list[list[str]]:
    """Rows of cell texts of one table (not of tables nested in it), empty rows dropped."""
    rows = []
    for tr in table.iter("tr"):
        if next(tr.iterancestors("table"), None) is not table:
            continue
        cells = [_cell_text(c) for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th")]
        if any(cells):
            rows.append(cells)
    return rows


def _header_months(rows: list[list[str]]) -> tuple[int, list[dt.date]] | None:
    """The first of the first rows whose cells are month headings, and its months in order."""
    for i, row in enumerate(rows[:_TABLE_HEADER_ROWS]):
        found = []
        for cell in row:
            m = MONTH_COLUMN.match(cell.strip())
            if m and re.fullmatch(r"[\s\d,*]*(?:\(\w+\))?[\s\d,*]*", cell.strip()[m.end() :]):
                found.append(_column_month(m))
        if found:
            return i, found
    return None


def _render(root, skip: set) -> str:
    """Text of an element: blank lines around blocks, a line break per <br> and table row,
    " | " before each cell; whitespace inside text collapsed (source line wraps are not breaks);
    tables in ``skip`` (read as data tables) left out."""
    out: list[str] = []
    stack = [(root, False)]
    while stack:
        el, closing = stack.pop()
        tag = el.tag.lower() if isinstance(el.tag, str) else None
        if closing:
            out.append("\n\n" if tag in _BLOCK_TAGS else "\n" if tag == "tr" else "")
        elif tag is None or el in skip:
            out.append("\n\n" if tag else "")
        elif tag == "pre":
            out.append("\n\n" + "".join(el.itertext()) + "\n\n")
        else:
            if tag in _BLOCK_TAGS:
                out.append("\n\n")
            elif tag in ("br", "tr"):
                out.append("\n")
            elif tag in ("td", "th"):
                out.append(" | ")
            out.append(_ws(el.text or ""))
            stack.append((el, True))
            stack.extend((child, False) for child in reversed(el))
            continue
        if el is not root and el.tail:
            out.append(_ws(el.tail))
    return "".join(out)


def _html_root(document: str):
    """The parsed document (libxml2's HTML parser, as browsers read tag soup), or None."""
    document = re.sub(r"^\s*<\?xml[^>]*\?>", "", document)  # lxml refuses it in a str
    try:  # huge_tree: no depth limit (libxml2 otherwise drops what is nested > 255 deep)
        return lxml_html.document_fromstring(document, parser=lxml_html.HTMLParser(huge_tree=True))
    except (etree.ParserError, ValueError):
        return None


def _html_document(document: str) -> tuple[list[list[list[str]]], str]:
    """Data tables (those with month columns) as rows of cells; everything else as text with
    line breaks where blocks end (a layout table's rows are lines, cells joined by " | ")."""
    root = _html_root(document)
    if root is None:
        return [], ""
    etree.strip_elements(root, etree.Comment, "script", "style", "head", with_tail=False)
    tables, data = [], set()
    for table in root.iter("table"):
        rows = _own_rows(table)
        if _header_months(rows) is not None and not any(a in data for a in table.iterancestors()):
            tables.append(rows)
            data.add(table)
    return tables, _render(root, data)


def _text_document(document: str) -> tuple[str, dt.date | None]:
    """Plain text (a capture, an EDGAR .txt exhibit) and its leading page date if any."""
    text = html.unescape(document).replace("\r\n", "\n").replace("\r", "\n")
    page_date = None
    m = _PAGE_DATE.match(text)
    if m:
        page_date = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        text = text[m.end() :]
    return text, page_date


def _logical_lines(paragraph: str) -> list[str]:
    """A paragraph's lines with hard-wrapped ones joined: a line continues the one before when
    it starts in lower case or with "(", or the one before ends with a comma or a connective."""
    lines: list[str] = []
    for raw in paragraph.split("\n"):
        line = raw.strip()
        if not line:
            continue
        if (
            lines
            and (
                re.match(r"[a-z(]", line)
                or re.search(
                    r"(?:[,;(–-]|\b(?:of|to|and|or|the|a|an|by|in|at|for|with))$", lines[-1]
                )
            )
            and not re.match(r"[•·▪]", line)
        ):
            lines[-1] += " " + line
        else:
            lines.append(line)
    return lines


def text_blocks(text: str) -> list[str]:
    """Prose blocks: paragraphs, table cells ("|") and lines, whitespace collapsed."""
    blocks = []
    for paragraph in re.split(r"\n\s*\n", text):
        for piece in paragraph.split("|"):
            for line in _logical_lines(piece):
                line = _ws(line).strip()
                if line:
                    blocks.append(line)
    return blocks


# -- the reporting month --------------------------------------------------------------------
_M = rf"({_MONTH_WORD})\.?"
_PERIOD_WITH_YEAR = [
    # "updates for May 2024", "update for the month of April 2024", "Highlights for April 2024"
    re.compile(
        rf"\b(?:updates?|results|production|report|highlights)\s+for\s+(?:the\s+month\s+of\s+)?"
        rf"{_M},?\s+({_YEAR})\b",
        re.I,
    ),
    # "for the month ending May 31, 2024"
    re.compile(rf"\bmonth\s+(?:ending|ended)\s+{_M}\s+\d{{1,2}},?\s+({_YEAR})\b", re.I),
    # "April 2024 Production and Operations Update", "May 2024 Monthly Investor Update"
    re.compile(
        rf"\b{_M}\s+({_YEAR})\s+(?:[A-Za-z]+\s+){{0,3}}(?:updates?|production|results)\b", re.I
    ),
    # "for the month of April 2024" (not a 6-K cover's "For the month of February, 2024")
    re.compile(
        rf"\b(?:during|for|in)\s+the\s+month\s+of\s+{_M},?\s+({_YEAR})\b"
        rf"(?!\s*\(?commission)",
        re.I,
    ),
    # "Produces 255 Bitcoin in June 2024", "In April 2024, the Company produced 119.3 BTC"
    re.compile(
        rf"\b(?:produced|produces|mined|mines|earned|earns)\b[^.|]{{0,60}}?\bin\s+{_M}\s+({_YEAR})\b",
        re.I,
    ),
    re.compile(
        rf"\bin\s+{_M}\s+({_YEAR}),?\s+(?:the\s+company\s+|we\s+)?(?:produced|mined|earned|self-mined)\b",
        re.I,
    ),
]
_PERIOD_NO_YEAR = [
    # "During the month of January, the Company mined", "progress ... during the month of May"
    re.compile(rf"\b(?:during|for|in)\s+the\s+month\s+of\s+{_M}(?![\w.]|,?\s+\d)", re.I),
    # "Self-mined 348 bitcoin in April", "358 Bitcoin mined in April"
    re.compile(
        rf"\b(?:(?:produced|mined|earned)\s+{NUMBER}\s+(?:bitcoin|btc)|{NUMBER}\s+(?:bitcoin|btc)\s+"
        rf"(?:produced|mined|earned))\s+in\s+{_M}(?![\w.]|,?\s+\d)",
        re.I,
    ),
]
_DATELINE = [
    re.compile(rf"\b{_M}\s+(\d{{1,2}}),\s+({_YEAR})\b", re.I),
    re.compile(rf"\b(\d{{1,2}})\s+{_M}\s+({_YEAR})\b", re.I),
]


def document_date(text: str) -> dt.date | None:
    """The first full date in the text (a release's dateline, "Date: May 6, 2024")."""
    best = None
    for i, pattern in enumerate(_DATELINE):
        m = pattern.search(text)
        if not m:
            continue
        try:
            if i == 0:
                d = dt.date(int(m.group(3)), MONTHS[m.group(1).lower()], int(m.group(2)))
            else:
                d = dt.date(int(m.group(3)), MONTHS[m.group(2).lower()], int(m.group(1)))
        except ValueError:
            continue
        if best is None or m.start() < best[0]:
            best = (m.start(), d)
    return best[1] if best else None


def find_period(
    blocks: list[str], tables: list[list[list[str]]], reference_date: dt.date | None = None
) -> dt.date | None:
    """The month a release reports on: its own words first ("updates for May 2024", "for the
    month ending May 31, 2024"); a month without a year ("during the month of May") takes the
    year that puts it at or before ``reference_date`` (filing or release date); then a table's
    first month column."""
    text = " ".join(blocks)
    for pattern in _PERIOD_WITH_YEAR:
        m = pattern.search(text)
        if m:
            return month_of(m.group(1), m.group(2))
    reference_date = reference_date or document_date(text)
    if reference_date is not None:
        for pattern in _PERIOD_NO_YEAR:
            m = pattern.search(text)
            if m:
                month = MONTHS[m.group(m.lastindex).lower()]
                year = reference_date.year - (month > reference_date.month)
                return dt.date(year, month, 1)
    for table in tables:
        header = _header_months(table)
        if header:
            return header[1][0]
    for months, *_where in _text_table_headers("\n".join(blocks)):
        return months[0]
    return None


# -- tables ---------------------------------------------------------------------------------
_HASH_LABEL = re.compile(
    r"(?:(?:total|avg\.?|average|monthly|month[- ]end|operating|operational|energi[sz]ed|deployed|"
    r"installed|reali[sz]ed|self[- ]?min(?:ing|ed)|hosting|hosted|active|current|and|bitcoin|"
    r"mining|fleet|company)\s+)*hash\s?rate(?:\s*\((?:EH|PH|TH)/s\))?(?:\s*[-–]\s*total)?",
    re.I,
)
_MINED_LABEL = re.compile(
    r"(?:total\s+)?(?:number\s+of\s+)?(?:self[- ]mining\s+)?(?:bitcoin|btc)\s+"
    r"(?:produced|mined|earned|self[- ]mined)(?:\s*\(btc\))?(?:\s+(?:in|during)\s+the\s+month)?"
    r"|self[- ]mined\s+(?:bitcoin|btc)",
    re.I,
)
_HELD_LABEL = re.compile(
    r"(?:total\s+)?(?:bitcoin|btc)\s+(?:held|holdings|balance)(?:\s*\(btc\))?"
    r"(?:\s+(?:at|as\s+of)\s+(?:the\s+)?(?:month[- ]end|end\s+of\s+(?:the\s+)?month))?",
    re.I,
)
_LABEL_JUNK = re.compile(r"\S*/\S*|metrics?|key|comparison|\(%\)|%|change|\(unaudited\)", re.I)
_VALUE_CELL = re.compile(
    rf"\(?[-–]?\$?{NUMBER}\)?\s*(EH/s|PH/s|TH/s|million|billion)?\d?\*?\s*%?|[-–—]|N/?A|NM", re.I
)


def _clean_label(label: str) -> str:
    """A label without footnote markers: glued digits ("Held3", "rate4"), "(1)", "*", "¹"."""
    label = re.sub(r"(?<=[a-z)])\d+(?:,\d+)*(?=\s|$)", "", label)
    label = re.sub(r"\s*(?:\(\d{1,2}\)|\[\d{1,2}\]|[*†‡¹²³⁴⁵⁶⁷⁸⁹⁰]+)(?=\s|$)", "", label)
    return re.sub(r"[\s\d,*]+$", "", label).strip()


def row_label(label: str) -> str:
    """A row's label without the column headings a flattened table runs into its first row
    ("Month/Month Year/Year Bitcoin Produced" → "Bitcoin Produced")."""
    words = label.split()
    while words and _LABEL_JUNK.fullmatch(words[0]):
        words = words[1:]
    return " ".join(words)


def classify_label(label: str) -> tuple[str, str | None] | None:
    """(metric, hashrate kind) of a table row's label, or None. Site rows ("Deployed Hash Rate
    - Rockdale", "Bitcoin Self-Mined Lake Mariner"), per-day and hosting customers' bitcoin do
    not match: the label must be one of the company-wide forms."""
    text = _clean_label(row_label(label))
    if _HASH_LABEL.fullmatch(text):
        kind = _kind_of_words(text)
        return ("hashrate_ehs", kind) if kind else None
    if _MINED_LABEL.fullmatch(text):
        return ("btc_mined", None)
    if _HELD_LABEL.fullmatch(text):
        return ("btc_held", None)
    return None


def _row_figures(
    label: str,
    cells: list[str],
    months: list[dt.date],
    period: dt.date | None,
    column_names: dict[dt.date, str],
) -> list[Figure]:
    """Figures of one table row: its cells for the document's month and the month before."""
    what = classify_label(label)
    if what is None:
        return []
    metric, kind = what
    values = [c for c in cells if c and c != "$" and "%" not in c]
    numeric = [c for c in values if _VALUE_CELL.fullmatch(c.strip())]
    if len(numeric) > len(months) and re.fullmatch(r"\d{1,2}", numeric[0]):
        numeric = numeric[1:]  # a footnote marker in its own cell
    main = period if period in months else months[0]
    targets = [main] + [m for m in months if m == previous_month(main)]
    figures = []
    for month in targets:
        col = months.index(month)
        if col >= len(numeric):
            continue
        cell = numeric[col]
        m = re.match(rf"\(?[-–]?\$?{NUMBER}\)?\s*{UNIT}?", cell, re.I)
        if not m or cell.strip().startswith(("-", "–", "(")):
            continue  # "-", "N/A" or a negative/bracketed number: nothing reported
        value = _num(m.group(1))
        evidence = f"table row '{row_label(label)}', column '{column_names[month]}': '{cell}'"
        if metric == "hashrate_ehs":
            unit = m.group(2) or (UNIT_IN_LABEL.search(label) or [None, None])[1]
            if not unit:
                if value >= 100:
                    continue  # no unit and too large to be EH/s: not guessed
                unit = "EH/s"
                evidence += " (no unit stated; read as EH/s)"
            figures.append(
                Figure(metric, to_ehs(value, unit), kind, value, unit, evidence, "table", month)
            )
        else:
            figures.append(Figure(metric, value, None, value, "BTC", evidence, "table", month))
    return figures


def _table_figures(tables, period: dt.date | None) -> list[Figure]:
    figures = []
    for table in tables:
        header = _header_months(table)
        if header is None:
            continue
        header_idx, months = header
        names = {}
        for cell in table[header_idx]:
            m = MONTH_COLUMN.match(cell.strip())
            if m:
                names.setdefault(_column_month(m), cell)
        for row in table[header_idx + 1 :]:
            cells = [c for c in row if c]
            if len(cells) >= 2:
                figures += _row_figures(cells[0], cells[1:], months, period, names)
    return figures


def _text_table_headers(text: str):
    """Month-column headings in flattened text: two or more month headings in a row, separated
    only by spaces or "|" ("May 20241,2 April 20242 May 2023", "Apr-24 | Mar-24 | Feb-24").
    Yields (months, where the heading starts, where the rows start, whether cells are separated
    by "|")."""
    run: list[re.Match] = []
    for m in [*MONTH_COLUMN.finditer(text), None]:
        gap = text[run[-1].end() : m.start()] if m is not None and run else "x"
        if re.fullmatch(r"[\s|]*", gap) and not re.search(r"\n[ \t]*\n", gap):
            run.append(m)
            continue
        if len(run) >= 2:
            heading = text[run[0].start() : run[-1].end()]
            pipe = "|" in heading or text[run[-1].end() :].lstrip(" \t").startswith("|")
            yield [_column_month(x) for x in run], run[0].start(), run[-1].end(), pipe
        run = [m] if m is not None else []


_SPACE_VALUE = re.compile(r"\(?[-–]?\$?\d[\d,]*(?:\.\d+)?\)?\*?%?|[-–—]|N/A|NM", re.I)
_SPACE_UNIT = re.compile(r"(?:EH/s|PH/s|TH/s)\d?|million|billion", re.I)


def _text_table_rows(region: str, pipe: bool) -> list[tuple[str, list[str]]]:
    """(label, value cells) rows of a flattened table."""
    rows: list[tuple[str, list[str]]] = []
    label: list[str] = []
    values: list[str] = []

    def close():
        if label and values:
            rows.append((" ".join(label), list(values)))

    if pipe:
        for cell in (_ws(c).strip() for c in region.split("|")):
            if not cell:
                continue
            if "•" in cell or len(cell.split()) > 12:
                break  # prose again: the table has ended
            if _VALUE_CELL.fullmatch(cell):
                values.append(cell)
            else:
                close()
                label, values = [cell], []
        close()
        return rows
    tokens = region.split()
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if tok == "•" or len(label) > 12:
            break
        if _SPACE_UNIT.fullmatch(tok) and values:
            values[-1] += " " + tok
        elif _SPACE_VALUE.fullmatch(tok) and not (
            re.fullmatch(r"[-–—]", tok) and nxt and not _SPACE_VALUE.fullmatch(nxt) and label
            and not values
        ):  # fmt: skip
            # a dash between words is part of the label ("Hash Rate - Total"), not a cell
            values.append(tok)
        else:
            if values:
                close()
                label, values = [], []
            label.append(tok)
    close()
    return rows


def _text_table_figures(text: str, period: dt.date | None) -> list[Figure]:
    figures = []
    headers = list(_text_table_headers(text))
    for n, (months, _heading, start, pipe) in enumerate(headers):
        blank = re.search(r"\n[ \t]*\n", text[start:])
        end = start + blank.start() if blank else len(text)
        if n + 1 < len(headers):
            end = min(end, headers[n + 1][1])
        names = {m: f"{m:%B %Y}" for m in months}
        for label, cells in _text_table_rows(text[start:end], pipe):
            figures += _row_figures(label, cells, months, period, names)
    return figures


# -- prose ----------------------------------------------------------------------------------
_NOT_A_SENTENCE_END = "".join(
    rf"(?<!\b{a}\.)"
    for a in ("vs", "Avg", "approx", "Appx", "Inc", "Corp", "Ltd", "Co", "No", "Mr", "Ms")
)
_SENTENCE = re.compile(rf"(?<=[.!?]){_NOT_A_SENTENCE_END}\s+(?=[A-Z“\"(•])|\s+[-•·▪]\s+|^[•·▪]\s*")
_MINED = [
    re.compile(
        rf"\b(?:produced|mined|earned)\s+(?:a\s+(?:record|total)\s+(?:of\s+)?)?(?:approximately\s+)?"
        rf"{NUMBER}\s*(?:bitcoin|btc)\b",
        re.I,
    ),
    re.compile(rf"\b{NUMBER}\s*(?:bitcoin|btc)\s+(?:mined|produced|earned|self[- ]mined)\b", re.I),
]
_HELD = [
    re.compile(rf"\b(?:held|holdings?|hodl)\b[^.]{{0,40}}?{NUMBER}\s*(?:bitcoin|btc)\b", re.I),
    # "total bitcoin holdings now at 6,154"
    re.compile(
        rf"\b(?:bitcoin|btc)\s+(?:holdings?|held|balance)\s+(?:now\s+)?(?:at|to|of|was|were|is|"
        rf"totaled|totaling|stood\s+at|reached)\s+(?:approximately\s+|~)?{NUMBER}"
        rf"(?!\s*(?:%|million|billion|m\b|bn\b|[.,]\d))",
        re.I,
    ),
    # "Treasury holdings … of BTC and ETH were 992.4 and 20,241.7": the first is bitcoin's
    re.compile(
        rf"\bholdings?\b.{{0,200}}?\bof\s+(?:BTC|bitcoin)\s+and\s+\w+\s+(?:were|was|of)\s+"
        rf"(?:approximately\s+)?{NUMBER}\s+and\s+{NUMBER}",
        re.I,
    ),
]
_NOT_MONTHLY = re.compile(
    r"^\s*(?:\([^)]*\)\s*)?,?\s*(?:representing\s+)?(?:year[- ]to[- ]date|ytd|in\s+q[1-4]|in\s+the\s+(?:first|second|third|fourth)?\s*quarter|per\s+day|a\s+day)",
    re.I,
)
_NOT_MONTHLY_BEFORE = re.compile(
    r"\b(?:year[- ]to[- ]date|ytd|quarter|q[1-4]|fiscal|since|compared\s+(?:to|with)|vs\.?|from)"
    r"\W*(?:\w+\W+){0,6}$",
    re.I,
)
# words that may stand between "hash rate" and its value ("Hash Rate Increases 2% M/M to 26.3")
_GAP = re.compile(
    rf"(?:\s|,|:|–|-|\((?:EH|PH|TH)/s\)|\d+(?:\.\d+)?\s?%|m/m|y/y|mom|yoy|of|was|is|were|at|to|"
    rf"reached|reaching|totaled|totaling|totalled|totalling|stood|approximately|approx\.|about|~|"
    rf"increased|increases|increase|increasing|grew|grows|rose|rises|decreased|decreases|"
    rf"declined|declines|fell|by|an|a|from\s+{NUMBER}\s*{UNIT}|{_MONTH_WORD}|(?:19|20)\d\d|in|for|"
    rf"during|the|month)*",
    re.I,
)
_FUTURE_AFTER = re.compile(
    rf"^\s*(?:in|by)\s+(?:the\s+)?(?:(?:[1-4]Q|Q[1-4]|[12]H|H[12])\b|(?:mid[- ]|early\s+|late\s+|"
    rf"end\s+of\s+)?(?:19|20)\d\d\b|({_MONTH_WORD})\b\.?(?:\s+((?:19|20)\d\d))?)",
    re.I,
)
_REPORT_DATE_CUE = re.compile(r"\b(?:now|currently|presently|today|to date)\b", re.I)
_MONTH_END_CUE = re.compile(
    rf"^\s*(?:operating|operational)\s+(?:as\s+of|at)\s+(?:the\s+)?(?:end\s+of|month[- ]end|"
    rf"{_MONTH_WORD}\.?\s+\d)",
    re.I,
)


def _is_future(after: str, period: dt.date | None) -> bool:
    """A hash rate followed by "in 3Q", "by mid-2024", "in 2024" or a later month's name."""
    m = _FUTURE_AFTER.match(after)
    if not m:
        return False
    if m.group(1) is None:
        return True
    if period is None:
        return False
    month = MONTHS[m.group(1).lower()]
    year = int(m.group(2)) if m.group(2) else period.year
    return dt.date(year, month, 1) > period


def _prose_hashrate(s: str, period: dt.date | None) -> list[tuple[re.Match, str]]:
    """(value match, kind) of the hash rates a sentence states for the month (or, kind
    operating_at_report_date, for the release date)."""
    found = []
    previous_end = 0
    for m in HASH_VALUE.finditer(s):
        start = max(previous_end, m.start() - 150)
        previous_end = m.end()
        window, after = s[start : m.start()], s[m.end() :]
        if re.search(
            r"\b(?:from|nearly|up\s+to|over|more\s+than|beyond|exceed\w*)\s*~?$", window, re.I
        ):
            continue
        kind = None
        keywords = list(re.finditer(r"hash\s?rate|hashrate", window, re.I))
        if keywords:
            k = keywords[-1]
            if _GAP.fullmatch(window[k.end() :]):
                words = re.search(r"((?:[\w.’'-]+\s+){0,4})$", window[: k.start()]).group(1)
                kind = _kind_of_words(words)
        if kind is None:
            post = re.match(
                r"\s*(?:of|in)\s+((?:[\w-]+\s+){0,5}?)(?:hash\s?rate|hashrate|capacity)\b",
                after,
                re.I,
            )
            if post:
                kind = _kind_of_words(post.group(1) + " hash rate")
            elif re.match(r"\s*(?:operating|operational)\b", after, re.I):
                month_end = _MONTH_END_CUE.match(after)
                kind = "operating" if month_end else "operating_at_report_date"
        if kind is None:
            continue
        if kind != "operating_at_report_date" and _REPORT_DATE_CUE.search(window[-40:]):
            continue  # a figure for the release date, not the month
        found.append((m, kind))
    return found


def _prose_figures(blocks: list[str], period: dt.date | None = None) -> list[Figure]:
    figures = []
    for block in blocks:
        for sentence in _SENTENCE.split(block):
            s = (sentence or "").strip()
            if not s or FORWARD_LOOKING.search(s):
                continue
            if any(_is_future(s[m.end() :], period) for m in HASH_VALUE.finditer(s)):
                continue  # "9.4 EH/s operating, 10 EH/s in May": an expansion schedule
            for m, kind in _prose_hashrate(s, period):
                value, unit = _num(m.group(1)), m.group(2)
                ehs = to_ehs(value, unit)
                figures.append(
                    Figure("hashrate_ehs", ehs, kind, value, unit, s[:300], "prose", period)
                )
            for metric, patterns in (("btc_mined", _MINED), ("btc_held", _HELD)):
                for pattern in patterns:
                    for m in pattern.finditer(s):
                        if metric == "btc_mined" and _NOT_MONTHLY.match(s[m.end() :]):
                            continue
                        if _NOT_MONTHLY_BEFORE.search(s[max(0, m.start() - 60) : m.start()]):
                            continue
                        later = re.match(rf"\s+in\s+({_MONTH_WORD})\b", s[m.end() :], re.I)
                        if (
                            later
                            and period is not None
                            and MONTHS[later.group(1).lower()] != period.month
                        ):
                            continue  # a figure for another month ("358 bitcoin in April")
                        v = _num(m.group(1))
                        figures.append(Figure(metric, v, None, v, "BTC", s[:300], "prose", period))
    return figures


# -- the document ---------------------------------------------------------------------------
def parse_document(
    document: str | bytes, filed_date: dt.date | str | None = None
) -> ParsedDocument:
    """Figures of one exhibit: tables first, prose fills what tables do not have; one figure per
    month, metric and kind (a figure stated twice — "8.2 EH/s" in prose, "8,238" PH/s in the
    table — is kept once, from the table). ``filed_date`` (a date or "YYYY-MM-DD") places a
    month named without a year ("during the month of December" filed in January)."""
    if isinstance(filed_date, str):
        filed_date = dt.date.fromisoformat(filed_date[:10])
    if isinstance(document, bytes):
        try:
            document = document.decode("utf-8")
        except UnicodeDecodeError:
            document = document.decode("cp1252", "replace")
    page_date = None
    if _HTML_MARKUP.search(document):
        tables, text = _html_document(document)
    else:
        text, page_date = _text_document(document)
        tables = []
    blocks = text_blocks(text)
    period = find_period(blocks, tables, filed_date or page_date)
    if period is None:
        return ParsedDocument(None, [], "no reporting month found")
    chosen: dict[tuple[dt.date | None, str, str | None], Figure] = {}
    candidates = (
        _table_figures(tables, period)
        + _text_table_figures(text, period)
        + _prose_figures(blocks, period)
    )
    for fig in candidates:
        chosen.setdefault((fig.period_month, fig.metric, fig.hashrate_kind), fig)
    figures = [f for f in chosen.values() if f.period_month == period]
    others = [f for f in chosen.values() if f.period_month != period]
    if not figures:
        return ParsedDocument(
            period,
            [],
            f"no hash rate, bitcoin mined or held figure recognised for {period:%B %Y}",
            others,
        )
    return ParsedDocument(period, figures, None, others)


# -- EDGAR filing index ---------------------------------------------------------------------
@dataclass
class IndexEntry:
    seq: str
    description: str
    document: str
    href: str
    type: str


def parse_filing_index(document: str | bytes) -> list[IndexEntry]:
    """The rows of an EDGAR filing index page's document table ("tableFile")."""
    if isinstance(document, bytes):
        document = document.decode("utf-8", "replace")
    root = _html_root(document)
    if root is None:
        return []
    entries = []
    for table in root.iter("table"):
        if "tablefile" not in (table.get("class") or "").lower():
            continue
        for tr in table.iter("tr"):
            cells = [c for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th")]
            if len(cells) < 4:
                continue
            texts = [_cell_text(c) for c in cells]
            if texts[0].lower() == "seq":
                continue
            link = cells[2].find(".//a")
            href = link.get("href") if link is not None else None
            doc = texts[2]
            entries.append(
                IndexEntry(texts[0], texts[1], doc.split()[0] if doc else "", href or "", texts[3])
            )
    return entries


def exhibits_99(entries: list[IndexEntry]) -> list[IndexEntry]:
    return [
        e
        for e in entries
        if re.match(r"EX-99(\.\d+)?\b", e.type, re.I)
        and e.document.lower().endswith((".htm", ".html", ".txt"))
    ]
