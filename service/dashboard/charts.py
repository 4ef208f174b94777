"""Chart specifications: aggregated rows -> the JSON that ``static/dashboard.js`` draws.

Three kinds: ``scatter`` (log-log predicted vs measured with the ±10% band, one series per
model family), ``lines`` (values over categorical x labels, one series each) and ``bars``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.dashboard.accuracy import ErrorStats

ChartSpec = dict[str, Any]


def scatter(points: Sequence[tuple[float, float, str]], unit: str) -> ChartSpec:
    """Predicted vs measured, coloured by family; ``points`` are (measured, predicted, family)."""
    by_family: dict[str, list[dict[str, float]]] = {}
    for actual, predicted, family in points:
        by_family.setdefault(family, []).append({"x": actual, "y": predicted})
    values = [v for a, p, _ in points for v in (a, p)]
    low, high = (min(values), max(values)) if values else (1.0, 10.0)
    return {
        "unit": unit,
        "range": [low * 0.9, high * 1.1],
        "series": [{"label": f, "points": pts} for f, pts in sorted(by_family.items())],
    }


def error_over_time(rows: Sequence[tuple[str, str, float, int]]) -> ChartSpec:
    """MAPE per day, one line per predictor version; rows are (version, day, MAPE %, n)."""
    days = sorted({day for _, day, _, _ in rows})
    versions = sorted({version for version, _, _, _ in rows})
    index = {day: i for i, day in enumerate(days)}
    values: dict[str, list[float | None]] = {v: [None] * len(days) for v in versions}
    for version, day, mape, _ in rows:
        values[version][index[day]] = round(mape, 3)
    return {
        "labels": days,
        "y_title": "MAPE (%)",
        "series": [{"label": v, "values": values[v]} for v in versions],
    }


def error_bars(stats: Sequence[ErrorStats]) -> ChartSpec:
    """Horizontal bars of MAPE, share within ±10% and share inside the 90% interval per group."""
    inside = [None if s.in_interval_pct is None else round(s.in_interval_pct, 3) for s in stats]
    return {
        "labels": [f"{s.key} (n={s.n})" for s in stats],
        "horizontal": True,
        "x_title": "%",
        "series": [
            {"label": "MAPE %", "values": [round(s.mape_pct, 3) for s in stats]},
            {"label": "within ±10% (%)", "values": [round(s.within_10_pct, 3) for s in stats]},
            {"label": "inside the 90% interval (%)", "values": inside},
        ],
    }


def histogram(buckets: Sequence[tuple[float, int]], width: float) -> ChartSpec:
    """Counts per residual bucket, labelled by the bucket's range in percent."""
    labels = [f"{100 * lo:+.0f}…{100 * (lo + width):+.0f}%" for lo, _ in buckets]
    return {
        "labels": labels,
        "y_title": "pairs",
        "x_title": "(predicted − measured) / measured",
        "series": [{"label": "pairs", "values": [n for _, n in buckets]}],
    }


def per_day(rows: Sequence[tuple[str, int]]) -> ChartSpec:
    """Bars of a count per day."""
    return {
        "labels": [day for day, _ in rows],
        "y_title": "measurements",
        "series": [{"label": "measurements", "values": [n for _, n in rows]}],
    }
