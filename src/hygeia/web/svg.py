"""Server-rendered SVG charts: no chart library, no script, readable by screen readers (role=img + title).

Every number and label is escaped; the charts show the service's values as given, nothing smoothed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import count

from markupsafe import Markup, escape

_ids = count(1)


def _uid(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def _nice_ticks(low: float, high: float, n: int = 5) -> list[float]:
    if not math.isfinite(low) or not math.isfinite(high) or high <= low:
        high = low + 1.0
    raw = (high - low) / max(n, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 0.5:
        ticks.append(round(value, 10))
        value += step
    return ticks


def bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    highlight: str | None = None,
    max_value: float = 1.0,
    percent: bool = True,
    label_width: int = 170,
) -> Markup:
    """Horizontal bars, one per (label, value); `highlight` draws that bar darker."""
    row, bar_area, width = 28, 250, label_width + 250 + 70
    height = row * len(items) + 10
    title_id = _uid("chart-title")
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="{title_id}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(title)}</title>',
    ]
    scale = bar_area / max_value if max_value > 0 else 0
    for index, (label, value) in enumerate(items):
        y = 5 + index * row
        length = max(0.0, min(value, max_value)) * scale
        css = "bar-top" if label == highlight else "bar"
        shown = f"{value * 100:.1f}%" if percent else f"{value:.3g}"
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 18}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="{css}" x="{label_width}" y="{y + 4}" width="{length:.1f}" height="18" rx="2"/>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 18}">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def trend_chart(points: Sequence[dict[str, float | int | str]], *, title: str) -> Markup:
    """Cumulative IC and its lower 2.5% bound per period, over bars of new reports per period."""
    width, height = 680, 280
    left, right, top, bottom = 52, 52, 16, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    ic = [float(p["ic"]) for p in points]
    lower = [float(p["ic025"]) for p in points]
    counts = [int(p["n"]) for p in points]
    ticks = _nice_ticks(min([0.0, *lower]), max([0.0, *ic]))
    y_low, y_high = ticks[0], ticks[-1]
    max_n = max([1, *counts])
    step = plot_w / max(len(points), 1)

    def x(index: int) -> float:
        return left + step * (index + 0.5)

    def y(value: float) -> float:
        return top + plot_h * (1 - (value - y_low) / (y_high - y_low))

    title_id = _uid("trend-title")
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="{title_id}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(title)}</title>',
    ]
    for tick in ticks:
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>'
        )
    for index, n in enumerate(counts):
        bar_h = plot_h * n / max_n * 0.9
        parts.append(
            f'<rect class="count-bar" x="{x(index) - step * 0.35:.1f}" y="{top + plot_h - bar_h:.1f}" '
            f'width="{step * 0.7:.1f}" height="{bar_h:.1f}"><title>{escape(str(points[index]["period"]))}: '
            f"{n} new reports</title></rect>"
        )
    parts.append(
        f'<line class="axis" x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}"/>'
        f'<text x="{width - right + 6}" y="{top + 10}">n</text>'
        f'<text x="{width - right + 6}" y="{top + 26}">{max_n}</text>'
        f'<text x="14" y="{top + plot_h / 2:.1f}" transform="rotate(-90 14 {top + plot_h / 2:.1f})" '
        'text-anchor="middle">IC (bits)</text>'
    )
    for css, series in (("line-lower", lower), ("line-ic", ic)):
        path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(series))
        parts.append(f'<polyline class="{css}" points="{path}"/>')
    label_every = max(1, math.ceil(len(points) / 10))
    for index, point in enumerate(points):
        parts.append(f'<circle class="dot" cx="{x(index):.1f}" cy="{y(ic[index]):.1f}" r="3"/>')
        if index % label_every == 0:
            label_x, label_y = f"{x(index):.1f}", height - bottom + 16
            parts.append(
                f'<text x="{label_x}" y="{label_y}" text-anchor="end" '
                f'transform="rotate(-35 {label_x} {label_y})">{escape(str(point["period"]))}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
