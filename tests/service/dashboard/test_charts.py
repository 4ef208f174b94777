"""Chart specifications built from aggregated rows."""

from __future__ import annotations

from service.dashboard import charts
from service.dashboard.accuracy import ErrorStats


def test_scatter_groups_by_family_and_spans_all_values() -> None:
    spec = charts.scatter(
        [
            (10.0, 12.0, "resnet", 9.0, 15.0),
            (100.0, 90.0, "vit", 70.0, 110.0),
            (5.0, 5.5, "resnet", -1.0, 7.0),  # a non-positive lo is clipped for the log axis
        ],
        "ms",
    )
    assert [s["label"] for s in spec["series"]] == ["resnet", "vit"]
    assert spec["series"][0]["points"] == [
        {"x": 10.0, "y": 12.0, "lo": 9.0, "hi": 15.0},
        {"x": 5.0, "y": 5.5, "lo": 5.5e-3, "hi": 7.0},
    ]
    assert spec["range"] == [5.0 * 0.9, 100.0 * 1.1]


def test_error_over_time_aligns_versions_on_days_with_gaps() -> None:
    rows = [
        ("v1", "2026-01-01", 20.0, 3),
        ("v2", "2026-01-02", 5.0, 4),
        ("v1", "2026-01-02", 19.0, 1),
    ]
    spec = charts.error_over_time(rows)
    assert spec["labels"] == ["2026-01-01", "2026-01-02"]
    assert spec["series"] == [
        {"label": "v1", "values": [20.0, 19.0]},
        {"label": "v2", "values": [None, 5.0]},
    ]


def test_bars_and_histogram_labels() -> None:
    spec = charts.error_bars([ErrorStats("Conv", 3, 12.3456, 50.0, 66.66666)])
    assert spec["labels"] == ["Conv (n=3)"]
    assert [s["values"] for s in spec["series"]] == [[12.346], [50.0], [66.667]]
    assert charts.error_bars([ErrorStats("Gemm", 1, 1.0, 0.0)])["series"][2]["values"] == [None]
    hist = charts.histogram([(-0.05, 2), (0.0, 7)], 0.05)
    assert hist["labels"] == ["-5…+0%", "+0…+5%"]
    assert hist["series"][0]["values"] == [2, 7]


def test_empty_scatter_has_a_usable_range() -> None:
    assert charts.scatter([], "ms")["range"][0] > 0


def test_metrics_over_time_has_one_chart_per_metric() -> None:
    rows = [("v1", "2026-01-01", 20.0, 40.0, 85.0, 3), ("v2", "2026-01-02", 5.0, 90.0, 91.0, 4)]
    spec = charts.metrics_over_time(rows)
    assert sorted(spec) == ["acc_10", "coverage", "mape"]
    assert spec["coverage"]["series"] == [
        {"label": "v1", "values": [85.0, None]},
        {"label": "v2", "values": [None, 91.0]},
    ]


def test_calibration_chart_has_the_diagonal() -> None:
    spec = charts.calibration([(0.5, 0.4), (0.9, 0.875)])
    assert spec["series"][0]["points"] == [{"x": 50.0, "y": 40.0}, {"x": 90.0, "y": 87.5}]
    assert spec["series"][1]["dashed"] is True
