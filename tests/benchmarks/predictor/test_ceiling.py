from __future__ import annotations

import itertools

import numpy as np
import pytest

from benchmarks.predictor.ceiling import (
    column_ceiling,
    dead_cell,
    edge_ops,
    loo_group_mean,
    pooled_std_log,
    rounding_bound,
)

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
COST = {"none": 0.2, "skip_connect": 0.5, "nor_conv_1x1": 2.0, "nor_conv_3x3": 5.0}
COST["avg_pool_3x3"] = 1.0


def _arch(ops: tuple[str, ...]) -> str:
    a, b, c, d, e, f = ops
    return f"|{a}~0|+|{b}~0|{c}~1|+|{d}~0|{e}~1|{f}~2|"


def _archs(n: int, seed: int = 0) -> list[tuple[str, ...]]:
    combos = list(itertools.product(OPS, repeat=6))
    pick = np.random.default_rng(seed).choice(len(combos), n, replace=False)
    return [combos[i] for i in pick]


def test_edge_ops_round_trip_and_rejects_other_strings() -> None:
    ops = ("nor_conv_3x3", "none", "skip_connect", "avg_pool_3x3", "none", "nor_conv_1x1")
    assert edge_ops(_arch(ops)) == ops
    with pytest.raises(ValueError, match="6 edges"):
        edge_ops("0123456789012345678901")


def test_dead_cell_needs_a_path_from_input_to_output() -> None:
    conv = "nor_conv_3x3"
    assert dead_cell((conv, conv, conv, "none", "none", "none"))
    assert dead_cell(("none", "none", "none", "none", conv, conv))
    assert not dead_cell(("none", "none", "none", conv, "none", "none"))
    assert not dead_cell((conv, "none", conv, "none", "none", conv))  # 0 -> 1 -> 2 -> 3
    assert dead_cell((conv, "none", "none", "none", "none", conv))  # node 2 never reached


def test_rounding_bound_matches_uniform_rounding() -> None:
    share, mape = rounding_bound(np.array([2.0, 10.0]))
    assert share == pytest.approx((0.6 + 0.0) / 2)
    assert mape == pytest.approx((0.125 + 0.025) / 2)


def test_loo_group_mean_leaves_the_row_out() -> None:
    values = np.array([1.0, 3.0, 5.0, 7.0])
    out = loo_group_mean(values, np.array([0, 0, 0, 1]))
    assert out[:3] == pytest.approx([4.0, 3.0, 2.0])
    assert np.isnan(out[3])


def test_noise_estimate_recovers_lognormal_noise_of_equivalent_archs() -> None:
    archs = _archs(3000)
    rng = np.random.default_rng(1)
    cost = np.array([sum(COST[o] for o in a) for a in archs])
    y = cost * np.exp(rng.normal(0.0, 0.1, len(archs)))
    groups = np.unique([str(sorted(a)) for a in archs], return_inverse=True)[1]
    assert pooled_std_log(y, groups) == pytest.approx(0.1, abs=0.01)
    c = column_ceiling([_arch(a) for a in archs], y, "dev", model=False)
    assert c.noise_std_log == pytest.approx(0.1, abs=0.01)
    assert not c.integer_ms and c.rounding_share_10 is None
    assert c.position_model is None
    # a perfect predictor with 10% log noise lands within +-10% about 68% of the time
    assert c.oracle_live["acc_10"] == pytest.approx(0.68, abs=0.05)


def test_position_model_beats_oracle_when_position_matters() -> None:
    archs = _archs(1500, seed=2)
    y = np.array([10.0 * COST[a[0]] + sum(COST[o] for o in a[1:]) for a in archs])
    c = column_ceiling([_arch(a) for a in archs], np.round(y), "dev")
    assert c.integer_ms and c.rounding_share_10 is not None
    assert c.position_model is not None
    assert c.position_model["spearman"] > c.oracle_all["spearman"] + 0.05
