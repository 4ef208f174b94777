from __future__ import annotations

import numpy as np

from predictor.active.bench import ActiveSetup, budget_to_reach, curve, pick_uncertain


def test_pick_uncertain_prefers_wide_and_spread_out_rows() -> None:
    log_std = np.array([0.1, 0.9, 0.88, 0.5, 0.2])
    log_macs = np.array([0.0, 5.0, 5.01, 9.0, 1.0])
    # row 1 first (widest); row 2 is as wide but sits next to row 1, so row 3 comes before it
    assert pick_uncertain(log_std, log_macs, np.arange(1, 5), np.array([0]), 2) == [1, 3]


def _device(n: int = 240, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    log_macs = rng.uniform(0, 6, n)
    basis = np.stack([log_macs, rng.uniform(0, 1, n)], axis=1)
    known = 0.8 * log_macs + rng.normal(0, 0.05, n)  # a known device, related to the target
    member_log = np.stack([known + d for d in (-0.02, 0.02)])[:, :, None]
    y = np.exp(0.9 * log_macs - 1.0 + rng.normal(0, 0.02, n))
    return y, member_log, basis, log_macs


def test_curve_scores_every_budget_on_held_out_rows() -> None:
    y, member_log, basis, log_macs = _device()
    setup = ActiveSetup(budgets=(5, 10, 15), step=5, seeds=1)
    for strategy in ("uncertain", "random"):
        out = curve(y, member_log, basis, log_macs, [0, 1, 2], strategy, setup, seed=0)
        assert sorted(out) == [5, 10, 15]
        assert all(-1 <= s["spearman"] <= 1 and 0 <= s["acc_10"] <= 1 for s in out.values())
        assert out[15]["spearman"] > 0.9  # the target is nearly a power law of MACs


def test_budget_to_reach() -> None:
    c = {5: {"spearman": 0.5}, 10: {"spearman": 0.8}, 20: {"spearman": 0.9}}
    assert budget_to_reach(c, 0.8, "spearman") == 10
    assert budget_to_reach(c, 0.95, "spearman") is None
