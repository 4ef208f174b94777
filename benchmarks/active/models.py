"""What the active-learning benchmark retrains after every round, and the space it selects in.

* :class:`FewShotHead`: the meta-trained ensemble's few-shot head
  (:func:`predictor.fewshot.adapt_and_predict`), what serving uses for a device it has no learned
  head for. Embedding: the head's inputs (members' mean known-device log predictions, log cost
  basis, log MACs), standardised.
* :class:`BaggedTrees`: a model trained from scratch on the device's measurements only (the
  full-shot regime of a brand-new device): bootstrap-bagged boosted trees on the static graph
  features and the (position, choice) one-hot, log targets; the members' spread is the
  uncertainty. Embedding: those features, standardised.
* :class:`HeadPlusTrees`: the few-shot head, then bagged boosted trees on its log residuals, with
  the meta-trained members' known-device predictions among the tree features (the full-shot
  regime of a device perfloop already has a meta-trained model for: the trees may learn what the
  head cannot represent; on NB201 up to 400 rows they did not beat the head alone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from predictor.acquisition import standardize
from predictor.ensemble import LogGaussian, combine_members
from predictor.fewshot import FewShotConfig, adapt_and_predict


class ActiveModel(Protocol):
    """Refit on a device's measured rows, predict every row."""

    def predict(self, support: np.ndarray, y_support: np.ndarray, seed: int) -> LogGaussian:
        """Predictive distribution of every row after fitting on ``support``."""
        ...


@dataclass(frozen=True)
class FewShotHead:
    """The few-shot head over a meta-trained ensemble's member predictions."""

    member_log: np.ndarray
    basis: np.ndarray
    log_macs: np.ndarray
    config: FewShotConfig = field(default_factory=FewShotConfig)

    def predict(self, support: np.ndarray, y_support: np.ndarray, seed: int) -> LogGaussian:
        """Adapt on ``support`` (deterministic; ``seed`` unused)."""
        return adapt_and_predict(
            self.member_log, self.basis, support, y_support, self.config, self.log_macs
        )

    def embedding(self) -> np.ndarray:
        """``[N, d]`` standardised head inputs."""
        cols = [self.member_log.mean(axis=0), np.log1p(self.basis), self.log_macs[:, None]]
        return standardize(np.hstack(cols))


@dataclass(frozen=True)
class BaggedTrees:
    """Bootstrap-bagged boosted trees trained from scratch on one device's measurements."""

    features: np.ndarray
    members: int = 3
    max_iter: int = 80
    noise_floor: float = 0.02

    def predict(self, support: np.ndarray, y_support: np.ndarray, seed: int) -> LogGaussian:
        """Fit ``members`` trees on bootstrap resamples of ``support``; mixture of their logs."""
        return combine_members(self.member_fits(support, np.log(y_support), seed), self.noise_floor)

    def member_fits(self, support: np.ndarray, targets: np.ndarray, seed: int) -> np.ndarray:
        """``[members, N]``: each member fitted on a bootstrap resample of (support, targets)."""
        rng = np.random.default_rng(seed)
        x, t = self.features[support], targets
        leaf = max(1, min(20, len(support) // 10))
        logs = np.empty((self.members, len(self.features)))
        with threadpool_limits(limits=1, user_api="openmp"):  # small fits: threads only spin
            for m in range(self.members):
                take = rng.integers(0, len(support), len(support))
                model = HistGradientBoostingRegressor(
                    max_iter=self.max_iter, min_samples_leaf=leaf, random_state=seed * 97 + m
                )
                model.fit(x[take], t[take])
                logs[m] = model.predict(self.features)
        return logs

    def embedding(self) -> np.ndarray:
        """``[N, d]`` standardised features."""
        return standardize(self.features)


@dataclass(frozen=True)
class HeadPlusTrees:
    """The few-shot head, then bagged trees on its log residuals once there are ``min_rows``."""

    head: FewShotHead
    trees: BaggedTrees
    min_rows: int = 20

    def predict(self, support: np.ndarray, y_support: np.ndarray, seed: int) -> LogGaussian:
        """The head's prediction plus the trees' mean residual; the trees' spread as the std."""
        base = self.head.predict(support, y_support, seed)
        if len(support) < self.min_rows:
            return base
        residual = np.log(y_support) - base.mean[support]
        fits = self.trees.member_fits(support, residual, seed)
        mixed = combine_members(fits, self.trees.noise_floor)
        return LogGaussian(base.mean + mixed.mean, mixed.std)

    def embedding(self) -> np.ndarray:
        """``[N, d]`` the head's inputs and the trees' features, standardised."""
        return np.hstack([self.head.embedding(), self.trees.embedding()])
