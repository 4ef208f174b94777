"""The three baselines: MACs log-log linear, per-operator lookup table (NNLS), boosted trees.

Each is a ``fit(X_support, y_support) -> predict(X) `` pair in natural units (ms), fitted only
on one device's few samples, exactly the data the perfloop few-shot head sees.
"""

from __future__ import annotations

from typing import Literal, Protocol, get_args

import numpy as np
from scipy.optimize import nnls
from sklearn.ensemble import HistGradientBoostingRegressor

BaselineName = Literal["macs_linear", "lookup_table", "gbt"]
BASELINES: tuple[str, ...] = get_args(BaselineName)


class Baseline(Protocol):
    """A regressor from a feature matrix to positive values."""

    def fit(self, x: np.ndarray, y: np.ndarray) -> Baseline:
        """Fit on rows ``x`` with targets ``y`` (natural units, > 0)."""
        ...

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions in natural units."""
        ...


class MacsLinear:
    """``log y = a + b log MACs`` fitted by least squares (input: one column of MACs)."""

    def __init__(self) -> None:
        self.coef = np.zeros(2)

    def fit(self, x: np.ndarray, y: np.ndarray) -> MacsLinear:
        """Fit on a ``[n, 1]`` MACs column."""
        a = np.hstack([np.ones((len(y), 1)), np.log(np.maximum(x[:, :1], 1.0))])
        self.coef = np.linalg.lstsq(a, np.log(y), rcond=None)[0]
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """``exp(a + b log MACs)``."""
        return np.exp(self.coef[0] + self.coef[1] * np.log(np.maximum(x[:, 0], 1.0)))


class LookupTable:
    """``y = c0 + sum of per-(position, choice) costs``, non-negative least squares."""

    def __init__(self) -> None:
        self.coef = np.zeros(1)

    def fit(self, x: np.ndarray, y: np.ndarray) -> LookupTable:
        """Fit on a (position, choice) one-hot matrix."""
        a = np.hstack([np.ones((len(y), 1)), x])
        self.coef, _ = nnls(a, y)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Sum of the table entries of each row's choices plus the constant."""
        out: np.ndarray = self.coef[0] + x @ self.coef[1:]
        return out


class BoostedTrees:
    """HistGradientBoostingRegressor on static + one-hot features, log targets."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.model: HistGradientBoostingRegressor | None = None

    def fit(self, x: np.ndarray, y: np.ndarray) -> BoostedTrees:
        """Fit; the minimum leaf size shrinks with few samples so the trees can split."""
        leaf = max(1, min(20, len(y) // 5))
        self.model = HistGradientBoostingRegressor(
            max_iter=200, learning_rate=0.1, min_samples_leaf=leaf, random_state=self.seed
        )
        self.model.fit(x, np.log(y))
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """``exp`` of the tree ensemble's log prediction.

        Raises:
            RuntimeError: called before :meth:`fit`.
        """
        if self.model is None:
            raise RuntimeError("BoostedTrees.predict called before fit")
        return np.exp(self.model.predict(x))


def make_baseline(name: BaselineName, seed: int = 0) -> Baseline:
    """A fresh baseline by name.

    Raises:
        ValueError: unknown name (the message lists the valid ones).
    """
    if name == "macs_linear":
        return MacsLinear()
    if name == "lookup_table":
        return LookupTable()
    if name == "gbt":
        return BoostedTrees(seed)
    raise ValueError(f"unknown baseline {name!r}; choose one of {', '.join(BASELINES)}")
