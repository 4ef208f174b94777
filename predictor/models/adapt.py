"""Few-shot adaptation to an unseen device without gradient steps.

The device's metric is modelled in natural units as a non-negative combination of basis columns
plus a non-negative intercept: the predicted metric of every known device (the meta-train
devices' learned heads) and the graph's per-op-type cost basis (an additive lookup table).
Fitted by ridge-regularised non-negative least squares on the device's few measurements
(the reference architectures included): an unseen device is usable after measuring only those.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls


@dataclass(frozen=True)
class NNLSHead:
    """A fitted non-negative linear head in natural units."""

    weights: np.ndarray
    intercept: float
    scale: np.ndarray
    y_scale: float

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Predictions (natural units, >= 0) for rows of ``features``."""
        return ((features / self.scale) @ self.weights + self.intercept) * self.y_scale


def fit_nnls_head(features: np.ndarray, y: np.ndarray, ridge: float = 1e-2) -> NNLSHead:
    """Ridge-regularised NNLS of ``y`` on ``features`` (columns scaled to mean 1).

    Args:
        features: ``[n, k]`` non-negative basis values of the measured graphs.
        y: ``[n]`` measured values (natural units, > 0).
        ridge: penalty on the scaled weights (the intercept is not penalised).

    Raises:
        ValueError: shapes disagree or no sample given.
    """
    if features.ndim != 2 or features.shape[0] != y.shape[0] or y.shape[0] == 0:
        raise ValueError(f"features {features.shape} and targets {y.shape} do not match")
    scale = np.abs(features).mean(0)
    scale[scale < 1e-12] = 1.0
    y_scale = float(np.mean(y))
    n, k = features.shape
    a = np.hstack([features / scale, np.ones((n, 1))])
    penalty = np.hstack([np.sqrt(ridge) * np.eye(k), np.zeros((k, 1))])
    w, _ = nnls(np.vstack([a, penalty]), np.concatenate([y / y_scale, np.zeros(k)]))
    return NNLSHead(w[:k], float(w[k]), scale, y_scale)


def loo_log_residuals(features: np.ndarray, y: np.ndarray, ridge: float = 1e-2) -> np.ndarray:
    """Leave-one-out log residuals of :func:`fit_nnls_head` (for the noise estimate)."""
    out = np.empty(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        head = fit_nnls_head(features[keep], y[keep], ridge)
        pred = max(float(head.predict(features[i : i + 1])[0]), 1e-9)
        out[i] = np.log(pred) - np.log(y[i])
    return out
