"""Monthly production updates furnished to the SEC (8-K items 7.01/8.01 or 6-K, exhibit 99.x):
discovery through each filing's index, and a parser that reads tables ("Metric | June 2024 |
May 2024 …") and prose ("average operating hashrate of 5,510 PH/s") into cited figures.

Every figure keeps its kind (average_operating, operating, energized, deployed, installed,
realized), the period it refers to, and the table cell or sentence it came from. A document with
nothing recognisable yields no figure and an "unparsed" record with the reason — never a guess.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

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
MONTH_YEAR = re.compile(rf"\b({_MONTH_WORD})\.?[\s\-]+((?:19|20)\d\d|\d\d)\b", re.I)
NUMBER = r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
UNIT = r"(EH/s|PH/s|TH/s|exahash(?:es)?(?:\s+per\s+second)?|petahash(?:es)?(?:\s+per\s+second)?)"
HASH_VALUE = re.compile(rf"{NUMBER}\s*{UNIT}", re.I)
UNIT_IN_LABEL = re.compile(r"\((EH/s|PH/s|TH/s)\)", re.I)
FORWARD_LOOKING = re.compile(
    r"\b(target|targets|targeting|expect|expects|expected|guidance|plan|plans|planned|anticipat\w*|"
    r"goal|on track|by (?:the )?end of|by year[- ]end|potential|forecast|projected|will)\b",
    re.I,
)
KINDS = ("average_operating", "operating", "energized", "deployed", "installed", "realized")


def to_ehs(value: float, unit: str) -> float:
    u = unit.lower()
    if u.startswith("eh") or u.startswith("exa"):
        return value
    if u.startswith("ph") or u.startswith("peta"):
        return value / 1_000
    if u.startswith("th"):
        return value / 1_000_000
    raise ValueError(f"unknown hash rate unit {unit!r}")


def hashrate_kind(label: str) -> str | None:
    t = label.lower()
    if "hash" not in t and "exahash" not in t:
        return None
    if re.search(r"\bavg\b|average", t) and re.search(r"operat", t):
        return "average_operating"
    for kind, pattern in (
        ("realized", r"reali[sz]ed"), ("energized", r"energi[sz]ed"), ("deployed", r"deployed"),
        ("installed", r"installed"), ("operating", r"operat"),
    ):  # fmt: skip
        if re.search(pattern, t):
            return kind
    return None


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def month_of(name: str, year: str) -> dt.date:
    y = int(year)
    if y < 100:
        y += 2000
    return dt.date(y, MONTHS[name.lower().rstrip(".")], 1)


@dataclass
class Figure:
    metric: str  # hashrate_ehs | btc_mined | btc_held
    value: float
    hashrate_kind: str | None
    reported_value: float
    reported_unit: str | None
    evidence: str
    method: str  # table | prose


@dataclass
class ParsedDocument:
    period_month: dt.date | None
    figures: list[Figure] = field(default_factory=list)
    unparsed_reason: str | None = None


class _Extractor(HTMLParser):
    """Tables as rows of cell texts; everything outside tables as text blocks."""

    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.blocks: list[str] = []
        self._depth = 0
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "table":
            self._flush()
            self._depth += 1
            if self._depth == 1:
                self.tables.append([])
        elif tag == "tr" and self._depth:
            self._row = []
        elif tag in ("td", "th") and self._depth:
            self._cell = []
        elif tag in self.BLOCK and not self._depth:
            self._flush()

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag == "table" and self._depth:
            self._depth -= 1
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if any(c for c in self._row) and self.tables:
                self.tables[-1].append(self._row)
            self._row = None
        elif tag in self.BLOCK and not self._depth:
            self._flush()

    def handle_data(self, data):
        if self._skip:
            return
        if self._depth and self._cell is not None:
            self._cell.append(data)
        elif not self._depth:
            self._text.append(data)

    def _flush(self):
        text = " ".join("".join(self._text).split())
        if text:
            self.blocks.append(text)
        self._text = []

    def close(self):
        super().close()
        self._flush()


def extract(document: str) -> tuple[list[list[list[str]]], list[str]]:
    p = _Extractor()
    p.feed(document)
    p.close()
    return p.tables, p.blocks


def find_period(blocks: list[str], tables: list[list[list[str]]]) -> dt.date | None:
    text = " ".join(blocks)
    m = re.search(
        rf"(?:updates?|results|production|report)\s+for\s+(?:the\s+month\s+of\s+)?({_MONTH_WORD})\.?\s+((?:19|20)\d\d)",
        text,
        re.I,
    )
    if m:
        return month_of(m.group(1), m.group(2))
    m = re.search(
        rf"\b({_MONTH_WORD})\.?\s+((?:19|20)\d\d)\s+(?:[A-Za-z]+\s+){{0,3}}(?:updates?|production|results)\b",
        text,
        re.I,
    )
    if m:
        return month_of(m.group(1), m.group(2))
    for table in tables:
        for row in table[:3]:
            for cell in row:
                mm = MONTH_YEAR.fullmatch(cell.strip().rstrip("0123456789, ")) or MONTH_YEAR.match(
                    cell.strip()
                )
                if mm:
                    return month_of(mm.group(1), mm.group(2))
    return None


def _clean_label(label: str) -> str:
    return re.sub(r"[\s\d,]+$", "", label).strip()


def _table_figures(tables, period: dt.date | None) -> list[Figure]:
    figures = []
    for table in tables:
        header_idx, months = None, []
        for i, row in enumerate(table[:4]):
            cells = [c for c in row if c]
            found = []
            for c in cells:
                m = MONTH_YEAR.match(c.strip())
                if m:
                    found.append(month_of(m.group(1), m.group(2)))
            if found:
                header_idx, months = i, found
                break
        if header_idx is None:
            continue
        col = months.index(period) if period in months else 0
        column_name = f"{months[col]:%B %Y}"
        for row in table[header_idx + 1 :]:
            cells = [c for c in row if c and c not in ("$",)]
            if len(cells) < 2:
                continue
            label = _clean_label(cells[0])
            lowered = label.lower()
            values = [c for c in cells[1:] if "%" not in c]
            numeric = [
                c
                for c in values
                if re.fullmatch(rf"\$?{NUMBER}\s*{UNIT}?\s*\d?", c, re.I) or c in ("-", "—", "N/A")
            ]
            if len(numeric) > len(months) and re.fullmatch(r"\d{1,2}", numeric[0]):
                numeric = numeric[1:]  # a footnote marker in its own cell
            if col >= len(numeric):
                continue
            cell = numeric[col]
            m = re.match(rf"\$?{NUMBER}\s*{UNIT}?", cell, re.I)
            if not m:
                continue  # "-" or "N/A": nothing reported
            value = _num(m.group(1))
            evidence = f"table row '{cells[0]}', column '{column_name}': '{cell}'"
            kind = hashrate_kind(label)
            if kind:
                if " - " in label and "total" not in lowered:
                    continue  # a site's figure, not the company's
                unit = m.group(2) or (UNIT_IN_LABEL.search(label) or [None, None])[1]
                if not unit:
                    continue
                figures.append(
                    Figure(
                        "hashrate_ehs", to_ehs(value, unit), kind, value, unit, evidence, "table"
                    )
                )
            elif (
                re.search(r"(bitcoin|btc)\s+(produced|mined|earned)", lowered)
                and "per day" not in lowered
            ):
                figures.append(Figure("btc_mined", value, None, value, "BTC", evidence, "table"))
            elif re.search(r"(bitcoin|btc)\s+(held|holdings)", lowered):
                figures.append(Figure("btc_held", value, None, value, "BTC", evidence, "table"))
    return figures


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"(])|\s+[-•·]\s+")
_MINED = [
    re.compile(
        rf"\b(?:produced|mined|earned)\s+(?:a\s+(?:record|total)\s+(?:of\s+)?)?{NUMBER}\s*(?:bitcoin|btc)\b",
        re.I,
    ),
    re.compile(rf"\b{NUMBER}\s*(?:bitcoin|btc)\s+(?:mined|produced|earned)\b", re.I),
]
_HELD = re.compile(rf"\b(?:held|holdings?|hodl)\b[^.]{{0,40}}?{NUMBER}\s*(?:bitcoin|btc)\b", re.I)
_NOT_MONTHLY = re.compile(
    r"^\s*(?:\([^)]*\)\s*)?,?\s*(?:representing\s+)?(?:year[- ]to[- ]date|ytd|in\s+q[1-4]|in\s+the\s+(?:first|second|third|fourth)?\s*quarter|per\s+day|a\s+day)",
    re.I,
)


def _prose_figures(blocks: list[str]) -> list[Figure]:
    figures = []
    for block in blocks:
        for sentence in _SENTENCE.split(block):
            s = sentence.strip()
            if not s or FORWARD_LOOKING.search(s):
                continue
            for m in HASH_VALUE.finditer(s):
                before = s[max(0, m.start() - 120) : m.start()]
                if re.search(r"\bfrom\s*$", before, re.I) or re.search(
                    r"\bfrom\s+$", s[: m.start()][-6:], re.I
                ):
                    continue
                kind = None
                for kw in re.finditer(r"[A-Za-z. ]{0,30}hash ?rate|exahash|petahash", before, re.I):
                    kind = hashrate_kind(kw.group(0)) or kind
                if kind is None:
                    kind = hashrate_kind(before[-80:])
                if kind is None:
                    continue
                value = _num(m.group(1))
                figures.append(
                    Figure(
                        "hashrate_ehs",
                        to_ehs(value, m.group(2)),
                        kind,
                        value,
                        m.group(2),
                        s[:300],
                        "prose",
                    )
                )
            for pattern in _MINED:
                for m in pattern.finditer(s):
                    if _NOT_MONTHLY.match(s[m.end() :]):
                        continue
                    v = _num(m.group(1))
                    figures.append(Figure("btc_mined", v, None, v, "BTC", s[:300], "prose"))
            for m in _HELD.finditer(s):
                v = _num(m.group(1))
                figures.append(Figure("btc_held", v, None, v, "BTC", s[:300], "prose"))
    return figures


def parse_document(document: str | bytes) -> ParsedDocument:
    """Figures of one exhibit: tables first; prose fills what tables do not have."""
    if isinstance(document, bytes):
        document = document.decode("utf-8", "replace")
    tables, blocks = extract(html.unescape(document) if "<" not in document else document)
    period = find_period(blocks, tables)
    if period is None:
        return ParsedDocument(None, [], "no reporting month found")
    chosen: dict[tuple[str, str | None], Figure] = {}
    for fig in _table_figures(tables, period) + _prose_figures(blocks):
        chosen.setdefault((fig.metric, fig.hashrate_kind), fig)  # first wins: tables, then prose
    figures = list(chosen.values())
    if not figures:
        return ParsedDocument(period, [], "no hash rate, bitcoin mined or held figure recognised")
    return ParsedDocument(period, figures)


# -- EDGAR filing index ---------------------------------------------------------------------
@dataclass
class IndexEntry:
    seq: str
    description: str
    document: str
    href: str
    type: str


class _IndexParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[list[tuple[str, str | None]]] = []
        self._in_table = False
        self._row: list[tuple[str, str | None]] | None = None
        self._cell: list[str] | None = None
        self._href: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "tablefile" in (a.get("class") or "").lower():
            self._in_table = True
        elif self._in_table and tag == "tr":
            self._row = []
        elif self._in_table and tag in ("td", "th"):
            self._cell, self._href = [], None
        elif self._in_table and tag == "a" and self._cell is not None:
            self._href = a.get("href")

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = False
        elif (
            self._in_table
            and tag in ("td", "th")
            and self._cell is not None
            and self._row is not None
        ):
            self._row.append((" ".join("".join(self._cell).split()), self._href))
            self._cell = None
        elif self._in_table and tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse_filing_index(document: str | bytes) -> list[IndexEntry]:
    if isinstance(document, bytes):
        document = document.decode("utf-8", "replace")
    p = _IndexParser()
    p.feed(document)
    entries = []
    for row in p.rows:
        if len(row) < 4 or row[0][0].lower() == "seq":
            continue
        doc, href = row[2]
        entries.append(
            IndexEntry(row[0][0], row[1][0], doc.split()[0] if doc else "", href or "", row[3][0])
        )
    return entries


def exhibits_99(entries: list[IndexEntry]) -> list[IndexEntry]:
    return [
        e
        for e in entries
        if re.match(r"EX-99(\.\d+)?\b", e.type, re.I)
        and e.document.lower().endswith((".htm", ".html", ".txt"))
    ]
