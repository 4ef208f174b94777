"""What the active-learning benchmark retrains after every round, and the space it selects in.

* :class:`FewShotHead`: the meta-trained ensemble's few-shot head
  (:func:`predictor.fewshot.adapt_and_predict`), what serving uses for a device it has no learned
  head for. Embedding: the head's inputs (members' mean known-device log predictions, log cost
  basis, log MACs), standardised.
* :class:`BaggedTrees`: a model trained from scratch on the device's measurements only (the
  full-shot regime of a brand-new device): bootstrap-bagged boosted trees on the static graph
  features and the (position, choice) one-hot, log targets; the members' spread is the
  uncertainty. Embedding: those features, standardised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from predictor.active.acquire import standardize
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
        rng = np.random.default_rng(seed)
        x, t = self.features[support], np.log(y_support)
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
        return combine_members(logs, self.noise_floor)

    def embedding(self) -> np.ndarray:
        """``[N, d]`` standardised features."""
        return standardize(self.features)
