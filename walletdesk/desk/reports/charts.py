"""Server-rendered SVG charts: no JavaScript, no CDN, escaped labels, fixed viewBox."""

from __future__ import annotations

from collections.abc import Sequence

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


def line_chart(
    points: Sequence[tuple[str, float]], *, title: str, width: int = 640, height: int = 180
) -> SafeString:
    """A line over evenly spaced points (e.g. tickets per day), with first/last labels."""
    if not points:
        return mark_safe("")
    pad, top = 30, max(v for _, v in points) or 1
    step = (width - 2 * pad) / max(1, len(points) - 1)
    coords = [
        (pad + i * step, height - pad - (height - 2 * pad) * v / top) for i, (_, v) in enumerate(points)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" class="dot"><title>{escape(label)}: {escape(_num(v))}</title></circle>'
        for (x, y), (label, v) in zip(coords, points, strict=True)
    )
    return mark_safe(  # noqa: S308 - every interpolated text is escaped
        f'<svg class="chart line" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" class="axis"/>'
        f'<polyline points="{path}" class="line"/>{dots}'
        f'<text x="{pad}" y="{height - 8}" class="label">{escape(points[0][0])}</text>'
        f'<text x="{width - pad}" y="{height - 8}" text-anchor="end" class="label">{escape(points[-1][0])}</text>'
        f'<text x="{pad}" y="{pad - 10}" class="value">max {escape(_num(top))}</text></svg>'
    )


def _short(label: str, limit: int = 26) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _num(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
