from __future__ import annotations

import numpy as np

from benchmarks.predictor.fewshot import FewShotBench, spread_subset, support_rows


def test_spread_subset_keeps_both_ends() -> None:
    refs = list(range(100, 110))
    assert spread_subset(refs, 5) == [100, 102, 104, 107, 109]
    assert spread_subset(refs, 2) == [100, 109]
    assert spread_subset(refs, 10) == refs
    assert spread_subset(refs, 0) == []


def test_refs_used_defaults_to_the_space_share() -> None:
    assert FewShotBench("nasbench201", ("a",), ("b",), samples=10).refs_used == 5
    assert FewShotBench("fbnet", ("a",), ("b",), samples=10).refs_used == 10
    assert FewShotBench("nasbench201", ("a",), ("b",), samples=10, max_refs=20).refs_used == 10
    assert FewShotBench("nasbench201", ("a",), ("b",), samples=10, max_refs=0).refs_used == 0


def test_support_takes_refs_then_random_rows() -> None:
    measured = np.arange(50)
    sup = support_rows(measured, [3, 7, 99], 6, seed=0)
    assert list(sup[:2]) == [3, 7]  # 99 is not measured
    assert len(set(sup.tolist())) == 6
    assert set(sup.tolist()) <= set(measured.tolist())
