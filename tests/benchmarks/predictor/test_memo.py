from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.predictor.memo import member_log_key, memo_member_log


def test_key_changes_with_every_input() -> None:
    targets = np.array([[1.0, np.nan], [2.0, 3.0]])
    base = member_log_key("nasbench201", ["a", "b"], ["d1", "d2"], targets, {"layer": "sage"})
    assert base == member_log_key(
        "nasbench201", ["a", "b"], ["d1", "d2"], targets.copy(), {"layer": "sage"}
    )
    others = [
        member_log_key("fbnet", ["a", "b"], ["d1", "d2"], targets, {"layer": "sage"}),
        member_log_key("nasbench201", ["a", "c"], ["d1", "d2"], targets, {"layer": "sage"}),
        member_log_key("nasbench201", ["a", "b"], ["d2", "d1"], targets, {"layer": "sage"}),
        member_log_key("nasbench201", ["a", "b"], ["d1", "d2"], targets * 2, {"layer": "sage"}),
        member_log_key("nasbench201", ["a", "b"], ["d1", "d2"], targets, {"layer": "gin"}),
    ]
    assert base not in others


def test_memo_computes_once_then_reads(tmp_path: Path) -> None:
    calls: list[int] = []

    def compute() -> np.ndarray:
        calls.append(1)
        return np.arange(6.0).reshape(1, 3, 2)

    first, hit1 = memo_member_log("k", compute, tmp_path)
    second, hit2 = memo_member_log("k", compute, tmp_path)
    assert (hit1, hit2) == (False, True)
    assert len(calls) == 1
    assert np.array_equal(first, second)
