from __future__ import annotations

import numpy as np
import pytest

from predictor.features.vocab import OP_VOCAB
from predictor.fewshot import FewShotConfig, adapt_and_predict, fit_fewshot
from predictor.models.adapt import fit_nnls_head, loo_log_residuals


def test_nnls_head_recovers_nonnegative_law() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 5, size=(12, 3))
    y = 0.5 + x @ np.array([2.0, 0.0, 1.0])
    head = fit_nnls_head(x, y, ridge=0.0)
    assert np.allclose(head.predict(x), y, rtol=1e-6)
    assert np.all(head.weights >= 0)
    assert np.allclose(loo_log_residuals(x, y, ridge=0.0), 0.0, atol=1e-6)


def test_adapt_gives_interval_around_mean() -> None:
    rng = np.random.default_rng(1)
    n, devices = 30, 3
    member_log = np.log(rng.uniform(1, 10, size=(1, n, devices)))
    member_log = np.concatenate(
        [member_log, member_log + rng.normal(0, 0.05, size=member_log.shape)]
    )
    basis = rng.uniform(0, 1, size=(n, 2))
    y = np.exp(member_log[0, :, 0]) * 2.0
    support = np.arange(10)
    dist = adapt_and_predict(member_log, basis, support, y[support], FewShotConfig())
    assert np.all(dist.std > 0)
    assert np.all(dist.lo <= dist.value) and np.all(dist.value <= dist.hi)
    assert np.corrcoef(dist.value, y)[0, 1] > 0.9


def test_adapt_rejects_bad_support() -> None:
    with pytest.raises(ValueError, match="positive"):
        adapt_and_predict(
            np.zeros((1, 3, 1)), np.ones((3, 1)), np.arange(1), np.array([0.0]), FewShotConfig()
        )


def test_power_law_candidate_wins_on_a_macs_law() -> None:
    rng = np.random.default_rng(2)
    n = 40
    log_macs = np.log(rng.uniform(1e6, 1e8, size=n))
    y = np.exp(0.7 * log_macs - 9.0)
    member_log = rng.normal(0, 1, size=(2, n, 3))  # uninformative known-device columns
    basis = rng.uniform(0, 1, size=(n, 4))
    support = np.arange(10)
    dist = adapt_and_predict(member_log, basis, support, y[support], FewShotConfig(), log_macs)
    assert np.allclose(dist.value, y, rtol=1e-6)


def test_known_plus_macs_candidate_fits_an_affine_macs_law() -> None:
    rng = np.random.default_rng(3)
    n = 40
    log_macs = np.log(rng.uniform(1e6, 1e8, size=n))
    y = 2.0 + 1e-7 * np.exp(log_macs)  # fixed cost + per-MAC cost: not a power law
    member_log = rng.normal(0, 1, size=(2, n, 3))
    basis = rng.uniform(0, 1, size=(n, 4))
    support = np.arange(10)
    config = FewShotConfig(ridge=0.0)
    dist = adapt_and_predict(member_log, basis, support, y[support], config, log_macs)
    assert np.allclose(dist.value, y, rtol=1e-3)


def test_macs_candidates_need_log_macs_only_when_used() -> None:
    rng = np.random.default_rng(4)
    member_log = rng.normal(0, 1, size=(2, 12, 3))
    basis = rng.uniform(0, 1, size=(12, 2))
    y = np.exp(member_log[0, :, 0])
    head = fit_fewshot(member_log, basis, y, FewShotConfig())
    assert all(not p.config.use_macs for p in head.parts if p.config is not None)
    assert head.predict(member_log, basis).mean.shape == (12,)
    with_macs = fit_fewshot(member_log, basis, y, FewShotConfig(), np.log(np.arange(1, 13) * 1e6))
    with pytest.raises(ValueError, match="log_macs"):
        with_macs.predict(member_log, basis)


def _op_basis(rng: np.random.Generator, n: int, ops: tuple[int, ...], vocab: int) -> np.ndarray:
    """Per-op-type (count, GMACs, MB) rows with only ``ops`` present."""
    basis = np.zeros((n, vocab * 3))
    for op in ops:
        basis[:, 3 * op] = rng.integers(1, 5, size=n)
        basis[:, 3 * op + 1] = rng.uniform(0.1, 1.0, size=n)
        basis[:, 3 * op + 2] = rng.uniform(0.1, 1.0, size=n)
    return basis


def test_a_graph_with_an_unseen_op_type_is_predicted_without_the_basis_candidates() -> None:
    rng = np.random.default_rng(4)
    vocab = len(OP_VOCAB)
    support = _op_basis(rng, 12, (0, 1), vocab)
    queries = np.vstack([_op_basis(rng, 1, (0, 1), vocab), _op_basis(rng, 1, (0, 1, 2), vocab)])
    basis = np.vstack([support, queries])
    cost = basis[:, 1] + 2.0 * basis[:, 4] + 5.0 * basis[:, 7]  # op 2 is the expensive one
    known = np.log(cost / 2.0)  # a known device that has seen op 2 scales exactly
    member_log = np.stack([known[:, None], known[:, None] + 1e-3])
    config = FewShotConfig()
    head = fit_fewshot(member_log[:, :12], basis[:12], cost[:12], config, None, basis[:12])
    assert head.novelty is not None
    with_rule = head.predict(member_log[:, 12:], basis[12:], None, basis[12:]).value
    without = head.predict(member_log[:, 12:], basis[12:]).value
    assert with_rule[0] == pytest.approx(without[0])  # only seen op types: unchanged
    assert with_rule[1] == pytest.approx(cost[13], rel=0.02)
    assert abs(without[1] / cost[13] - 1) > 0.1  # the basis candidates miss op 2's cost
