"""The models the active-learning benchmark refits: the stacked head + residual trees."""

from __future__ import annotations

import numpy as np

from benchmarks.active.models import BaggedTrees, FewShotHead, HeadPlusTrees


def _device_with_a_blind_spot(n: int = 600) -> tuple[FewShotHead, np.ndarray, np.ndarray]:
    """Known devices see the size of a graph; the new one also pays for a flag they ignore."""
    rng = np.random.default_rng(0)
    size = rng.uniform(0.0, 2.0, n)
    flag = rng.integers(0, 2, n).astype(float)
    member_log = np.stack([np.stack([size, 0.5 * size + 0.1], axis=1)] * 2)  # [M=2, N, D=2]
    basis = np.exp(size)[:, None]
    y = np.exp(0.3 + size + 0.7 * flag + rng.normal(0.0, 0.01, n))
    head = FewShotHead(member_log, basis, size)
    features = np.stack([size, flag], axis=1)
    return head, features, y


def test_trees_learn_the_residual_the_head_cannot_represent() -> None:
    head, features, y = _device_with_a_blind_spot()
    stacked = HeadPlusTrees(head, BaggedTrees(features))
    support, held_out = np.arange(200), np.arange(200, 600)
    log_err = {
        name: np.median(
            np.abs(model.predict(support, y[support], 0).mean[held_out] - np.log(y[held_out]))
        )
        for name, model in (("head", head), ("stacked", stacked))
    }
    assert log_err["stacked"] < 0.5 * log_err["head"], log_err


def test_below_min_rows_the_stacked_model_is_the_head() -> None:
    head, features, y = _device_with_a_blind_spot()
    stacked = HeadPlusTrees(head, BaggedTrees(features), min_rows=20)
    support = np.arange(10)
    alone, both = head.predict(support, y[support], 0), stacked.predict(support, y[support], 0)
    np.testing.assert_array_equal(alone.mean, both.mean)
    np.testing.assert_array_equal(alone.std, both.std)
    assert stacked.embedding().shape == (len(y), head.embedding().shape[1] + 2)
