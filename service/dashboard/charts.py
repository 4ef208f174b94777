"""Chart specifications: aggregated rows -> the JSON that ``static/dashboard.js`` draws.

Four kinds: ``scatter`` (log-log predicted vs measured with the ±10% band and each
prediction's 90% interval as a bar, one series per model family), ``lines`` (values over
categorical x labels, one series each), ``xy`` (lines over a numeric x axis: the calibration
curve) and ``bars``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.dashboard.accuracy import ErrorStats

ChartSpec = dict[str, Any]


def scatter(points: Sequence[tuple[float, float, str, float, float]], unit: str) -> ChartSpec:
    """Predicted vs measured, coloured by family, with interval bars; ``points`` are
    (measured, predicted, family, lo, hi)."""
    by_family: dict[str, list[dict[str, float]]] = {}
    for actual, predicted, family, lo, hi in points:
        point = {"x": actual, "y": predicted, "lo": max(lo, predicted * 1e-3), "hi": hi}
        by_family.setdefault(family, []).append(point)
    values = [v for a, p, *_ in points for v in (a, p)]
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


def metrics_over_time(
    rows: Sequence[tuple[str, str, float, float, float, int]],
) -> dict[str, ChartSpec]:
    """MAPE, share within ±10 % and 90 % coverage per day, one line per predictor version.

    ``rows`` are (version, day, MAPE %, within ±10 %, inside the 90% interval %, n).
    """
    days = sorted({r[1] for r in rows})
    versions = sorted({r[0] for r in rows})
    index = {day: i for i, day in enumerate(days)}
    charts = {}
    for column, name, title in (
        (2, "mape", "MAPE (%)"),
        (3, "acc_10", "within ±10% (%)"),
        (4, "coverage", "inside the 90% interval (%)"),
    ):
        values: dict[str, list[float | None]] = {v: [None] * len(days) for v in versions}
        for row in rows:
            values[row[0]][index[row[1]]] = round(float(row[column]), 3)
        charts[name] = {
            "labels": days,
            "y_title": title,
            "series": [{"label": v, "values": values[v]} for v in versions],
        }
    return charts


def calibration(points: Sequence[tuple[float, float]]) -> ChartSpec:
    """Observed against nominal central coverage (%), with the diagonal of perfect calibration."""
    return {
        "x_title": "nominal coverage (%)",
        "y_title": "observed coverage (%)",
        "series": [
            {
                "label": "observed",
                "points": [{"x": 100 * n, "y": round(100 * o, 2)} for n, o in points],
            },
            {
                "label": "calibrated",
                "points": [{"x": 0, "y": 0}, {"x": 100, "y": 100}],
                "dashed": True,
            },
        ],
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
