from __future__ import annotations

import pytest

from benchmarks.active.bench import Curve
from benchmarks.active.summary import (
    median_spread,
    paired_wins,
    reach_table,
    seed_curves,
    summarize,
)


def _c(values: dict[int, float]) -> Curve:
    return {b: {"spearman": v, "acc_10": v, "mape": 1 - v} for b, v in values.items()}


RUNS = {
    "a": {
        "random": [_c({10: 0.5, 20: 0.6, 40: 0.7}), _c({10: 0.4, 20: 0.6, 40: 0.8})],
        "coverage": [_c({10: 0.5, 20: 0.7, 40: 0.9}), _c({10: 0.4, 20: 0.8, 40: 0.9})],
    },
    "b": {
        "random": [_c({10: 0.3, 20: 0.4, 40: 0.5}), _c({10: 0.2, 20: 0.4, 40: 0.6})],
        "coverage": [_c({10: 0.3, 20: 0.5, 40: 0.7}), _c({10: 0.2, 20: 0.6, 40: 0.7})],
    },
}


def test_seed_curves_average_devices_per_seed() -> None:
    per_seed = seed_curves(RUNS, "random")
    assert [round(c[40]["spearman"], 6) for c in per_seed] == [0.6, 0.7]


def test_median_spread_and_reach() -> None:
    spread = median_spread(seed_curves(RUNS, "coverage"))
    assert spread[20]["acc_10"] == pytest.approx({"median": 0.65, "min": 0.6, "max": 0.7})
    median = {
        "random": {20: {"acc_10": 0.5}, 40: {"acc_10": 0.65}},
        "coverage": {20: {"acc_10": 0.65}, 40: {"acc_10": 0.8}},
    }
    rows = reach_table(median, "acc_10")["coverage"]
    assert rows[-1] == {"random_budget": 40, "target": 0.65, "budget": 20, "ratio": 0.5}
    assert reach_table(median, "acc_10")["random"][0]["ratio"] == 1.0


def test_summarize_reports_per_device_reach_at_the_largest_budget() -> None:
    out = summarize(RUNS, ["random", "coverage"])
    assert out["device_reach_at_top"]["a"]["spearman"] == {"random": 40, "coverage": 20}
    assert out["reach"]["spearman"]["coverage"][-1]["budget"] == 20


def test_paired_wins_count_seeds_and_invert_mape() -> None:
    wins = paired_wins(seed_curves(RUNS, "coverage"), seed_curves(RUNS, "random"))
    assert wins[20] == {"spearman": 2, "acc_10": 2, "mape": 2}
    assert wins[10] == {"spearman": 0, "acc_10": 0, "mape": 0}
