"""Small line charts as SVG markup, drawn on the server for PDF reports (no JavaScript)."""

from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from core.templatetags.formats import nombre

WIDTH, HEIGHT = 520, 180
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 20, 28


def line_chart(points: list[tuple[int, Decimal]], *, unit: str = "") -> SafeString:
    """A line chart of (year, value) points; labels are escaped, numbers in French format."""
    points = [(int(year), float(value)) for year, value in points if value is not None]
    if not points:
        return mark_safe("")
    years = [year for year, _ in points]
    values = [value for _, value in points]
    low, high = min(0.0, min(values)), max(values)
    if high == low:
        high = low + 1
    first, last = min(years), max(years)
    span = max(last - first, 1)

    def x(year):
        return LEFT + (year - first) * (WIDTH - LEFT - RIGHT) / span

    def y(value):
        return TOP + (high - value) * (HEIGHT - TOP - BOTTOM) / (high - low)

    path = " ".join(f"{x(year):.1f},{y(value):.1f}" for year, value in points)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graphique" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img">',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" '
        'stroke="#999" stroke-width="1"/>',
    ]
    for tick in (low, (low + high) / 2, high):
        parts.append(
            f'<text x="{LEFT - 6}" y="{y(tick) + 3:.1f}" font-size="8" text-anchor="end" '
            f'fill="#555">{escape(nombre(round(tick, 1)))}</text>'
        )
    parts.append(f'<polyline points="{path}" fill="none" stroke="#0d6efd" stroke-width="2"/>')
    for year, value in points:
        parts.append(f'<circle cx="{x(year):.1f}" cy="{y(value):.1f}" r="2.5" fill="#0d6efd"/>')
        parts.append(
            f'<text x="{x(year):.1f}" y="{HEIGHT - BOTTOM + 12}" font-size="8" '
            f'text-anchor="middle" fill="#555">{year}</text>'
        )
    if unit:
        parts.append(f'<text x="{LEFT}" y="9" font-size="8" fill="#555">{escape(unit)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every label above is escaped.
