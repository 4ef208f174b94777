"""Accuracy metrics of latency predictions (all take positive values in natural units, e.g. ms)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import kendalltau, spearmanr


def _arrays(pred: ArrayLike, true: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred, dtype=np.float64).ravel()
    t = np.asarray(true, dtype=np.float64).ravel()
    if p.shape != t.shape:
        raise ValueError(f"prediction shape {p.shape} differs from measured shape {t.shape}")
    if p.size == 0:
        raise ValueError("no values to score")
    return p, t


def mape(pred: ArrayLike, true: ArrayLike) -> float:
    """Mean absolute percentage error, as a fraction (0.03 = 3%)."""
    p, t = _arrays(pred, true)
    return float(np.mean(np.abs(p - t) / np.abs(t)))


def rmse_log(pred: ArrayLike, true: ArrayLike) -> float:
    """Root mean squared error of natural-log values."""
    p, t = _arrays(pred, true)
    return float(np.sqrt(np.mean((np.log(np.maximum(p, 1e-12)) - np.log(t)) ** 2)))


def accuracy_within(pred: ArrayLike, true: ArrayLike, tolerance: float) -> float:
    """Share of predictions within ``±tolerance`` (relative) of the measured value."""
    p, t = _arrays(pred, true)
    return float(np.mean(np.abs(p - t) <= tolerance * np.abs(t)))


def spearman(pred: ArrayLike, true: ArrayLike) -> float:
    """Spearman rank correlation (0.0 when either side is constant)."""
    p, t = _arrays(pred, true)
    if np.ptp(p) == 0 or np.ptp(t) == 0:
        return 0.0
    return float(spearmanr(p, t).statistic)


def kendall(pred: ArrayLike, true: ArrayLike) -> float:
    """Kendall tau-b (0.0 when either side is constant)."""
    p, t = _arrays(pred, true)
    if np.ptp(p) == 0 or np.ptp(t) == 0:
        return 0.0
    return float(kendalltau(p, t).statistic)


def coverage(lo: ArrayLike, hi: ArrayLike, true: ArrayLike) -> float:
    """Share of measured values inside ``[lo, hi]``."""
    low, t = _arrays(lo, true)
    high, _ = _arrays(hi, true)
    return float(np.mean((t >= low) & (t <= high)))


def median_width_ratio(lo: ArrayLike, hi: ArrayLike) -> float:
    """Median of ``hi / lo``: how wide the intervals are, as a factor (1.2 = hi is lo + 20%).

    Coverage alone rewards an interval for being wide; this is its sharpness, the other half.
    """
    low, high = _arrays(lo, hi)
    return float(np.median(high / np.maximum(low, np.finfo(np.float64).tiny)))


@dataclass(frozen=True, slots=True)
class Scores:
    """All metrics of one prediction set; the interval ones are None without intervals."""

    spearman: float
    kendall: float
    mape: float
    rmse_log: float
    acc_5: float
    acc_10: float
    coverage_90: float | None = None
    #: Median ``hi / lo`` of the 90% intervals (:func:`median_width_ratio`).
    width_90: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


def score(
    pred: ArrayLike,
    true: ArrayLike,
    lo: ArrayLike | None = None,
    hi: ArrayLike | None = None,
) -> Scores:
    """Compute every metric; ``lo``/``hi`` (a 90% interval) add ``coverage_90`` and ``width_90``."""
    cov = coverage(lo, hi, true) if lo is not None and hi is not None else None
    width = median_width_ratio(lo, hi) if lo is not None and hi is not None else None
    return Scores(
        spearman=spearman(pred, true),
        kendall=kendall(pred, true),
        mape=mape(pred, true),
        rmse_log=rmse_log(pred, true),
        acc_5=accuracy_within(pred, true, 0.05),
        acc_10=accuracy_within(pred, true, 0.10),
        coverage_90=cov,
        width_90=width,
    )
