"""Small inline-SVG charts for the self-contained report: no JavaScript, no fonts or files
fetched, so the HTML opens offline anywhere (and in a mail client)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#ad494a",
    "#637939",
    "#843c39",
    "#5254a3",
]
BTC_COLOR = "#f7931a"

Fmt = Callable[[float], str]


@dataclass
class Series:
    name: str
    values: Sequence[float | None]
    color: str = PALETTE[0]
    right_axis: bool = False


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering lo..hi."""
    if not math.isfinite(lo) or not math.isfinite(hi):
        return [0.0, 1.0]
    if hi == lo:
        hi, lo = hi + (abs(hi) or 1) * 0.5, lo - (abs(lo) or 1) * 0.5
    raw = (hi - lo) / max(count - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    v = start
    while v < hi + step * 0.999:
        ticks.append(round(v, 10))
        v += step
    return ticks


def _finite(values) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


class _Frame:
    """Plot area and scales; builds the SVG elements."""

    def __init__(self, width: int, height: int, left: int = 70, right: int = 70):
        self.w, self.h = width, height
        self.left, self.right, self.top, self.bottom = left, right, 16, 44
        self.parts: list[str] = []

    @property
    def pw(self) -> float:
        return self.w - self.left - self.right

    @property
    def ph(self) -> float:
        return self.h - self.top - self.bottom

    def y_scale(self, ticks: list[float]) -> Callable[[float], float]:
        lo, hi = ticks[0], ticks[-1]
        return lambda v: self.top + self.ph * (1 - (v - lo) / (hi - lo))

    def y_axis(self, ticks, fmt: Fmt, right: bool, color: str = "#444") -> None:
        y = self.y_scale(ticks)
        x = self.w - self.right if right else self.left
        anchor, dx = ("start", 6) if right else ("end", -6)
        for t in ticks:
            if not right:
                self.parts.append(
                    f'<line x1="{self.left}" x2="{self.w - self.right}" y1="{y(t):.1f}" '
                    f'y2="{y(t):.1f}" stroke="#e5e5e5"/>'
                )
            self.parts.append(
                f'<text x="{x + dx}" y="{y(t) + 4:.1f}" text-anchor="{anchor}" '
                f'fill="{color}">{escape(fmt(t))}</text>'
            )

    def svg(self, title: str) -> str:
        body = "\n".join(self.parts)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.w} {self.h}" '
            f'width="100%" role="img" aria-label="{escape(title)}" font-family="sans-serif" '
            f'font-size="11">\n<title>{escape(title)}</title>\n{body}\n</svg>'
        )


def _legend(frame: _Frame, items: list[tuple[str, str]], y: float | None = None) -> None:
    """Colour keys from ``y`` (default: the bottom line), wrapping onto new rows."""
    x, y = frame.left, frame.h - 10 if y is None else y
    for name, color in items:
        if x > frame.left and x + 24 + 7 * len(name) > frame.w:
            x, y = frame.left, y + 16
        frame.parts.append(
            f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{color}"/>'
            f'<text x="{x + 14}" y="{y}">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)


def _category_label(frame: _Frame, cx: float, slot: float, label: str) -> None:
    frame.parts.append(
        f'<text x="{cx + slot / 2:.1f}" y="{frame.top + frame.ph + 14}" '
        f'text-anchor="middle">{escape(label)}</text>'
    )


def line_chart(
    title: str,
    days: Sequence[dt.date],
    series: list[Series],
    left_fmt: Fmt,
    right_fmt: Fmt | None = None,
    width: int = 900,
    height: int = 300,
) -> str:
    """Lines over days; series with ``right_axis`` use a second y axis."""
    frame = _Frame(width, height, right=70 if right_fmt else 20)
    if not days:
        frame.parts.append(f'<text x="{width / 2}" y="{height / 2}">no data</text>')
        return frame.svg(title)
    t0, t1 = days[0].toordinal(), max(days[-1].toordinal(), days[0].toordinal() + 1)

    def x(d: dt.date) -> float:
        return frame.left + frame.pw * (d.toordinal() - t0) / (t1 - t0)

    for right in (False, True):
        group = [s for s in series if s.right_axis == right]
        vals = [v for s in group for v in _finite(s.values)]
        if not vals:
            continue
        ticks = nice_ticks(min(vals), max(vals))
        frame.y_axis(ticks, right_fmt if right and right_fmt else left_fmt, right, "#444")
        y = frame.y_scale(ticks)
        for s in group:
            path, pen = [], "M"
            for d, v in zip(days, s.values, strict=True):
                if v is None or not math.isfinite(float(v)):
                    pen = "M"
                    continue
                path.append(f"{pen}{x(d):.1f},{y(float(v)):.1f}")
                pen = "L"
            frame.parts.append(
                f'<path d="{" ".join(path)}" fill="none" stroke="{s.color}" stroke-width="1.6"/>'
            )
    # x axis: a label per year (or per month on short ranges)
    span = t1 - t0
    step_months = 12 if span > 500 else 3 if span > 120 else 1
    d = dt.date(days[0].year, days[0].month, 1)
    while d <= days[-1]:
        if d >= days[0] and (d.month - 1) % step_months == 0:
            label = str(d.year) if step_months == 12 else d.strftime("%b %Y")
            frame.parts.append(
                f'<line x1="{x(d):.1f}" x2="{x(d):.1f}" y1="{frame.top + frame.ph}" '
                f'y2="{frame.top + frame.ph + 4}" stroke="#444"/>'
                f'<text x="{x(d):.1f}" y="{frame.top + frame.ph + 16}" '
                f'text-anchor="middle">{label}</text>'
            )
        d = dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)
    _legend(frame, [(s.name + (" (right)" if s.right_axis else ""), s.color) for s in series])
    return frame.svg(title)


def bar_chart(
    title: str,
    categories: Sequence[str],
    values: Sequence[float | None],
    fmt: Fmt,
    reference: tuple[str, float] | None = None,
    colors: Sequence[str] | None = None,
    width: int = 900,
    height: int = 300,
) -> str:
    """One bar per category (negative bars go down), with an optional reference line."""
    frame = _Frame(width, height, right=20)
    vals = _finite(values) + ([reference[1]] if reference else []) + [0.0]
    ticks = nice_ticks(min(vals), max(vals))
    frame.y_axis(ticks, fmt, right=False)
    y = frame.y_scale(ticks)
    n = max(len(categories), 1)
    slot = frame.pw / n
    for i, (cat, v) in enumerate(zip(categories, values, strict=True)):
        cx = frame.left + slot * i
        if v is not None and math.isfinite(float(v)):
            top, bottom = sorted((y(float(v)), y(0.0)))
            color = colors[i] if colors else (PALETTE[0] if v >= 0 else PALETTE[3])
            frame.parts.append(
                f'<rect x="{cx + slot * 0.15:.1f}" y="{top:.1f}" width="{slot * 0.7:.1f}" '
                f'height="{max(bottom - top, 0.5):.1f}" fill="{color}">'
                f"<title>{escape(cat)}: {escape(fmt(float(v)))}</title></rect>"
            )
        _category_label(frame, cx, slot, cat)
    if reference:
        ry = y(reference[1])
        frame.parts.append(
            f'<line x1="{frame.left}" x2="{frame.w - frame.right}" y1="{ry:.1f}" y2="{ry:.1f}" '
            f'stroke="{BTC_COLOR}" stroke-width="2" stroke-dasharray="6 3"/>'
        )
        _legend(frame, [(f"{reference[0]} {fmt(reference[1])}", BTC_COLOR)])
    return frame.svg(title)


def stacked_bar_chart(
    title: str,
    categories: Sequence[str],
    stacks: dict[str, Sequence[float | None]],
    fmt: Fmt,
    width: int = 900,
    height: int = 320,
) -> str:
    """Stacked positive bars (e.g. each company's share of the network, by month)."""
    frame = _Frame(width, height, right=20)
    frame.bottom = 64
    totals = [
        sum(float(s[i]) for s in stacks.values() if s[i] is not None and math.isfinite(s[i]))
        for i in range(len(categories))
    ]
    if not any(totals):
        frame.parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="#8a6d00">'
            "no figures reported for these months</text>"
        )
        return frame.svg(title)
    ticks = nice_ticks(0.0, max(totals))
    frame.y_axis(ticks, fmt, right=False)
    y = frame.y_scale(ticks)
    n = max(len(categories), 1)
    slot = frame.pw / n
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(stacks)}
    for i, cat in enumerate(categories):
        cx, base = frame.left + slot * i, 0.0
        for name, vals in stacks.items():
            v = vals[i]
            if v is None or not math.isfinite(v) or v <= 0:
                continue
            top, bottom = y(base + v), y(base)
            frame.parts.append(
                f'<rect x="{cx + slot * 0.15:.1f}" y="{top:.1f}" width="{slot * 0.7:.1f}" '
                f'height="{bottom - top:.1f}" fill="{colors[name]}">'
                f"<title>{escape(name)} {escape(cat)}: {escape(fmt(v))}</title></rect>"
            )
            base += v
        _category_label(frame, cx, slot, cat)
    _legend(frame, list(colors.items()), y=frame.h - 30)  # room for a second row
    return frame.svg(title)


def grouped_bar_chart(
    title: str,
    categories: Sequence[str],
    groups: dict[str, Sequence[float | None]],
    fmt: Fmt,
    width: int = 900,
    height: int = 320,
) -> str:
    """Side-by-side bars per category (e.g. reported against realized share by company); a
    missing value leaves its bar out."""
    frame = _Frame(width, height, right=20)
    frame.bottom = 60
    vals = [v for g in groups.values() for v in _finite(g)]
    if not vals:
        frame.parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="#8a6d00">'
            "no figures for these companies</text>"
        )
        return frame.svg(title)
    ticks = nice_ticks(min([*vals, 0.0]), max(vals))
    frame.y_axis(ticks, fmt, right=False)
    y = frame.y_scale(ticks)
    n = max(len(categories), 1)
    slot = frame.pw / n
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(groups)}
    bar = slot * 0.8 / max(len(groups), 1)
    for i, cat in enumerate(categories):
        cx = frame.left + slot * i
        for j, (name, values) in enumerate(groups.items()):
            v = values[i]
            if v is None or not math.isfinite(float(v)):
                continue
            top, bottom = sorted((y(float(v)), y(0.0)))
            frame.parts.append(
                f'<rect x="{cx + slot * 0.1 + bar * j:.1f}" y="{top:.1f}" width="{bar:.1f}" '
                f'height="{max(bottom - top, 0.5):.1f}" fill="{colors[name]}">'
                f"<title>{escape(cat)} {escape(name)}: {escape(fmt(float(v)))}</title></rect>"
            )
        _category_label(frame, cx, slot, cat)
    _legend(frame, list(colors.items()), y=frame.h - 24)
    return frame.svg(title)
