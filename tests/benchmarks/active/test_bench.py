from __future__ import annotations

import numpy as np
import pytest

from benchmarks.active.acquire import STRATEGIES
from benchmarks.active.bench import ActiveSetup, budget_to_reach, curve, split_rows
from benchmarks.active.models import FewShotHead


def _device(n: int = 240, seed: int = 0) -> tuple[np.ndarray, FewShotHead]:
    rng = np.random.default_rng(seed)
    log_macs = rng.uniform(0, 6, n)
    basis = np.stack([np.exp(log_macs), rng.uniform(0, 1, n)], axis=1)
    known = 0.8 * log_macs + rng.normal(0, 0.05, n)  # a known device, related to the target
    member_log = np.stack([known + d for d in (-0.02, 0.02)])[:, :, None]
    y = np.exp(0.9 * log_macs - 1.0 + rng.normal(0, 0.02, n))
    return y, FewShotHead(member_log, basis, log_macs)


def test_split_rows_keeps_test_out_of_pool_and_starts_from_references() -> None:
    y = np.ones(100)
    y[[3, 4]] = np.nan
    setup = ActiveSetup(budgets=(5, 10), test_fraction=0.3)
    test, pool, support = split_rows(y, [3, 10, 11], setup, seed=0)
    assert len(test) == 29 and not set(test.tolist()) & set(pool.tolist())
    assert 3 not in pool and len(support) == 5 and set(support) <= set(pool.tolist())
    assert [r for r in (10, 11) if r in pool] == support[: len([r for r in (10, 11) if r in pool])]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_curve_scores_every_budget_on_held_out_rows(strategy: str) -> None:
    y, model = _device()
    setup = ActiveSetup(budgets=(5, 10, 15), step=0, seeds=1)
    emb = model.embedding()
    out = curve(y, model, emb, model.log_macs, [0, 1, 2], strategy, setup, seed=0)
    assert sorted(out) == [5, 10, 15]
    assert all(-1 <= s["spearman"] <= 1 and 0 <= s["acc_10"] <= 1 for s in out.values())
    assert out[15]["spearman"] > 0.9  # the target is nearly a power law of MACs


def test_budget_to_reach() -> None:
    c = {5: {"spearman": 0.5}, 10: {"spearman": 0.8}, 20: {"spearman": 0.9}}
    assert budget_to_reach(c, 0.8, "spearman") == 10
    assert budget_to_reach(c, 0.95, "spearman") is None
