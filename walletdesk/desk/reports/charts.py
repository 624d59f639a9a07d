"""Server-rendered SVG charts: no JavaScript, no CDN, escaped labels, fixed viewBox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def bar_chart(
    items: Sequence[tuple[str, float]], *, title: str, width: int = 480, bar: int = 22
) -> SafeString:
    """Horizontal bars, one per (label, value)."""
    if not items:
        return mark_safe("")
    top = max(v for _, v in items) or 1
    label_w, gap = 190, 6
    height = len(items) * (bar + gap) + gap
    parts = [
        f'<svg class="chart bar" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(items):
        y = gap + i * (bar + gap)
        w = max(1.0, (width - label_w - 60) * value / top)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar * 0.7:.1f}" text-anchor="end" class="label">'
            f"<title>{escape(label)}</title>{escape(_short(label))}</text>"
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar}" rx="3" class="bar"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + bar * 0.7:.1f}" class="value">{escape(_num(value))}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def daily_chart(
    days: Sequence[tuple[date, int]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    width: int = 960,
    height: int = 260,
    ticks: int = 6,
    size: str = "wide",
) -> SafeString:
    """A line over every day of a period (the caller zero-fills days without tickets), with a
    y axis (0, half, top), up to `ticks` date ticks and both axis titles. `size` names the
    variant for the stylesheet: the page draws a wide one for a desktop and a narrow one for a
    phone (a viewBox scales its text with it, so one drawing cannot be legible on both).

    The polyline has one point per day; a one-day period is drawn as a level line across the
    plot (a lone point would draw nothing). The circles carry a tooltip per day; the page puts
    a table of the same figures next to it for screen readers."""
    if not days:
        return mark_safe("")
    left, right, top_pad, bottom = 52, 16, 16, 48
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    peak = max(n for _, n in days)
    top = _nice(peak)
    span = len(days)
    step = plot_w / (span - 1) if span > 1 else 0.0

    def x(i: int) -> float:
        return left + i * step

    def y(value: float) -> float:
        return top_pad + plot_h - plot_h * value / top

    coords = [(x(i), y(n)) for i, (_, n) in enumerate(days)]
    line = coords if span > 1 else [(left, coords[0][1]), (left + plot_w, coords[0][1])]
    parts = [
        f'<svg class="chart line" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet" data-days="{span}" data-size="{escape(size)}">'
        f"<title>{escape(title)}</title>"
    ]
    for value in sorted({0, top // 2, top}):
        parts.append(
            f'<line x1="{left}" y1="{y(value):.1f}" x2="{left + plot_w}" y2="{y(value):.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" class="tick">{value}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" class="axis"/>'
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" class="axis"/>'
    )
    for i in _ticks(span, ticks):
        anchor = "start" if span > 1 and i == 0 else "end" if i == span - 1 and span > 1 else "middle"
        tick_x = x(i) if span > 1 else left + plot_w / 2
        parts.append(
            f'<text x="{tick_x:.1f}" y="{top_pad + plot_h + 16}" text-anchor="{anchor}" class="tick">'
            f"{escape(_day(days[i][0], days))}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" class="axis-title">'
        f"{escape(x_label)}</text>"
        f'<text x="14" y="{top_pad + plot_h / 2:.1f}" text-anchor="middle" class="axis-title" '
        f'transform="rotate(-90 14 {top_pad + plot_h / 2:.1f})">{escape(y_label)}</text>'
        f'<polyline points="{" ".join(f"{px:.1f},{py:.1f}" for px, py in line)}" class="line" '
        f'data-points="{span}"/>'
    )
    radius = 3 if span <= 45 else 2
    for (px, py), (day, n) in zip(
        coords if span > 1 else [(left + plot_w / 2, coords[0][1])], days, strict=True
    ):
        parts.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{radius}" class="dot">'
            f"<title>{day.isoformat()}: {n}</title></circle>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped or a number


def _nice(peak: int) -> int:
    """The top of the y axis: the peak rounded up to an even number (so half is a whole
    number), at least 2."""
    return max(2, peak + peak % 2)


def _ticks(span: int, most: int = 6) -> list[int]:
    """Indexes of the days to label: the first, the last and evenly spaced ones between."""
    if span <= most:
        return list(range(span))
    return sorted({round(i * (span - 1) / (most - 1)) for i in range(most)})


def _day(day: date, days: Sequence[tuple[date, int]]) -> str:
    """A tick's date: month-day when the period lies in one year, else the full date."""
    return day.strftime("%m-%d") if days[0][0].year == days[-1][0].year else day.isoformat()


def _short(label: str, limit: int = 26) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _num(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
