"""Charts drawn on the server as SVG, for PDF reports (WeasyPrint runs no JavaScript) — the
browser pages draw the same figures with ECharts."""
from __future__ import annotations

from django.utils.html import escape
from django.utils.translation import gettext as _

PALETTE = ("#1f6f8b", "#e07a1f", "#3a9d5d", "#b23a48", "#6c4f9c", "#8c6d1f", "#2b8cbe", "#333333")


def share_colour(share: float | None) -> str:
    """Red → amber → green by share; grey when there is nothing to count."""
    if share is None:
        return "#e8e8e8"
    if share < 0.25:
        return "#f4c7c3"
    if share < 0.5:
        return "#fbe3b4"
    if share < 0.75:
        return "#d9ead3"
    return "#a8d5a2"


def bar_chart(labels: list[str], shares: list[float | None], *, width: int = 640, bar_height: int = 22, goal: float | None = None) -> str:
    """Horizontal bars, one per label, of a share in 0..1 with its percentage written beside."""
    left, right = 150, 60
    plot = width - left - right
    height = bar_height * len(labels) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="Noto Sans CJK SC, sans-serif" font-size="12">']
    for i, (label, share) in enumerate(zip(labels, shares, strict=True)):
        y = 10 + i * bar_height
        w = 0 if share is None else plot * max(0.0, min(share, 1.0))
        parts.append(f'<text x="{left - 6}" y="{y + bar_height * 0.65:.1f}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{plot}" height="{bar_height - 6}" fill="#f0f0f0"/>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{bar_height - 6}" fill="{PALETTE[0]}"/>')
        text = "—" if share is None else f"{share * 100:.1f}%"
        parts.append(f'<text x="{left + plot + 6}" y="{y + bar_height * 0.65:.1f}">{text}</text>')
    if goal is not None:
        x = left + plot * goal
        parts.append(f'<line x1="{x:.1f}" y1="6" x2="{x:.1f}" y2="{height - 18}" stroke="#b23a48" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle" fill="#b23a48">{goal * 100:.0f}%</text>')
    parts.append("</svg>")
    return "".join(parts)


def line_chart(periods: list[int], series: list[tuple[str, list[float | None]]], *, width: int = 640, height: int = 260) -> str:
    """Shares (0..1) by school year, one line per series, with a legend below."""
    left, right, top, bottom = 40, 20, 10, 70
    pw, ph = width - left - right, height - top - bottom
    n = max(len(periods) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + pw * i / n, top + ph * (1 - v)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="Noto Sans CJK SC, sans-serif" font-size="11">']
    for v in (0, 0.25, 0.5, 0.75, 1):
        _, y = xy(0, v)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/><text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{v * 100:.0f}%</text>')
    for i, p in enumerate(periods):
        x, _ = xy(i, 0)
        parts.append(f'<text x="{x:.1f}" y="{top + ph + 14}" text-anchor="middle">{p}</text>')
    for k, (label, values) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        points = [xy(i, v) for i, v in enumerate(values) if v is not None]
        # A year without a figure breaks the line: a gap, never a drop to 0.
        segments, run = [], []
        for i, v in enumerate(values):
            if v is None:
                segments, run = segments + [run], []
            else:
                run.append(xy(i, v))
        for seg in [*segments, run]:
            if len(seg) > 1:
                parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="{3 if k == len(series) - 1 else 1.5}" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in seg) + '"/>')
        for x, y in points:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>')
        lx, ly = left + (k % 4) * (pw / 4), top + ph + 32 + (k // 4) * 16
        parts.append(f'<rect x="{lx:.1f}" y="{ly - 8}" width="10" height="10" fill="{colour}"/><text x="{lx + 14:.1f}" y="{ly + 1}">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


VA_COLOURS = {"above": "#3a9d5d", "below": "#b23a48", "as_expected": "#1f6f8b"}


def value_added_chart(rows, *, width: int = 640, row_height: int = 26) -> str:
    """增值性评价, one row per point: the range expected from last year (the 95 % prediction
    interval, grey), the expected value (a tick) and the actual value (a dot, green above the
    range, red below it). Each row on its own scale: the points have different units."""
    left, right = 200, 20
    plot = width - left - right
    height = row_height * len(rows) + 34
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="Noto Sans CJK SC, sans-serif" font-size="11">']
    for i, r in enumerate(rows):
        actual, expected = float(r.actual), float(r.expected)
        low, high = actual - float(r.upper), actual - float(r.lower)  # the expected range
        lo, hi = min(low, actual), max(high, actual)
        span = (hi - lo) or 1.0
        lo, hi = lo - span * 0.08, hi + span * 0.08

        def x(v: float, lo=lo, hi=hi) -> float:
            return left + plot * (v - lo) / (hi - lo)

        y = 12 + i * row_height
        label = f"{r.point_obj.code} {r.point_obj.name}"[:16] + f"（{r.stage_label}）"
        parts.append(f'<text x="{left - 6}" y="{y + row_height * 0.55:.1f}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{x(low):.1f}" y="{y + 5}" width="{max(x(high) - x(low), 1):.1f}" height="{row_height - 12}" fill="#dcdcdc"/>')
        parts.append(f'<line x1="{x(expected):.1f}" y1="{y + 2}" x2="{x(expected):.1f}" y2="{y + row_height - 4}" stroke="#333" stroke-width="2"/>')
        colour = VA_COLOURS.get(r.verdict, PALETTE[0])
        parts.append(f'<circle cx="{x(actual):.1f}" cy="{y + row_height / 2 - 1:.1f}" r="5" fill="{colour}"/>')
    legend_y = height - 8
    parts.append(f'<rect x="{left}" y="{legend_y - 9}" width="14" height="10" fill="#dcdcdc"/><text x="{left + 18}" y="{legend_y}">{escape(_("expected range (95%)"))}</text>')
    parts.append(f'<line x1="{left + 170}" y1="{legend_y - 10}" x2="{left + 170}" y2="{legend_y + 1}" stroke="#333" stroke-width="2"/><text x="{left + 176}" y="{legend_y}">{escape(_("expected"))}</text>')
    parts.append(f'<circle cx="{left + 260}" cy="{legend_y - 4}" r="5" fill="{PALETTE[0]}"/><text x="{left + 270}" y="{legend_y}">{escape(_("actual"))}</text>')
    parts.append("</svg>")
    return "".join(parts)
