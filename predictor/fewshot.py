"""Predictions for a device the ensemble was not trained on, from its few measurements.

Each ensemble member's known-device predictions (natural units) plus the per-op-type cost basis
form the columns of :func:`predictor.models.adapt.fit_nnls_head`; one head per member is fitted
on the device's samples (reference architectures included). The members' spread plus the
leave-one-out residual of the head give the predictive standard deviation in log space.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from predictor.ensemble import LogGaussian, combine_members
from predictor.models.adapt import fit_nnls_head, loo_log_residuals

#: Log-space noise assumed when there are too few samples for a leave-one-out estimate.
DEFAULT_NOISE_STD = 0.25


@dataclass(frozen=True)
class FewShotConfig:
    """Which columns the few-shot head uses and its ridge penalty."""

    ridge: float = 1e-2
    use_known: bool = True
    use_basis: bool = True
    noise_floor: float = 0.02

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return asdict(self)


def design(known_log: np.ndarray, basis: np.ndarray, config: FewShotConfig) -> np.ndarray:
    """Columns for one member: ``exp`` of its known-device log predictions and/or the basis."""
    parts: list[np.ndarray] = []
    if config.use_known:
        parts.append(np.exp(known_log))
    if config.use_basis:
        parts.append(basis)
    if not parts:
        raise ValueError("few-shot config uses no columns")
    return np.hstack(parts)


def adapt_and_predict(
    member_log: np.ndarray,
    basis: np.ndarray,
    support: np.ndarray,
    y_support: np.ndarray,
    config: FewShotConfig,
) -> LogGaussian:
    """Fit one head per member on ``support`` rows and predict every row.

    Args:
        member_log: ``[M, N, D]`` member log predictions for the known devices.
        basis: ``[N, B]`` cost basis of the same N graphs.
        support: indices (into N) of the measured graphs.
        y_support: their measured values (natural units, > 0).
        config: column choice and penalty.

    Raises:
        ValueError: no support sample or a non-positive measurement.
    """
    if len(support) == 0 or np.any(y_support <= 0):
        raise ValueError("few-shot adaptation needs at least one positive measurement")
    logs = np.empty(member_log.shape[:2])
    for m in range(member_log.shape[0]):
        x = design(member_log[m], basis, config)
        head = fit_nnls_head(x[support], y_support, config.ridge)
        logs[m] = np.log(np.maximum(head.predict(x), 1e-9))
    if len(support) >= 3:
        x0 = design(member_log.mean(axis=0), basis, config)
        res = loo_log_residuals(x0[support], y_support, config.ridge)
        noise = max(float(np.sqrt(np.mean(res**2))), config.noise_floor)
    else:
        noise = DEFAULT_NOISE_STD
    return combine_members(logs, noise)
