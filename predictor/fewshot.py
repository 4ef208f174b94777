"""Predictions for a device the ensemble was not trained on, from its few measurements.

Candidate heads, all fitted on the device's samples (reference architectures included):

* ``known+basis``, ``known``, ``basis``: :func:`predictor.models.adapt.fit_nnls_head` on each
  ensemble member's known-device predictions (natural units) and/or the per-op-type cost basis;
* ``macs``: a log-log power law on total MACs (the classic FLOPs proxy, 2 parameters).

The candidate with the lowest leave-one-out log error on the samples is used (with few samples
a rich head overfits and the power law wins; with more, the learned columns win). The members'
spread plus that leave-one-out error give the predictive standard deviation in log space.
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
    #: Leave-one-out error of the selected head is optimistic (it won a selection among
    #: four); 2.0 brought the 90% interval coverage of the validation devices (titanx_1/32/256,
    #: gold_6240; 10 samples) from 0.58-0.96 towards 0.9.
    noise_scale: float = 2.0

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


CANDIDATES: tuple[str, ...] = ("known+basis", "known", "basis", "macs")


def _config_for(candidate: str, config: FewShotConfig) -> FewShotConfig:
    return FewShotConfig(
        config.ridge,
        "known" in candidate,
        "basis" in candidate,
        config.noise_floor,
        config.noise_scale,
    )


def _power_law(log_macs: np.ndarray, support: np.ndarray, y: np.ndarray) -> np.ndarray:
    a = np.stack([np.ones(len(support)), log_macs[support]], axis=1)
    coef = np.linalg.lstsq(a, np.log(y), rcond=None)[0]
    out: np.ndarray = coef[0] + coef[1] * log_macs
    return out


def _power_law_loo(log_macs: np.ndarray, support: np.ndarray, y: np.ndarray) -> np.ndarray:
    res = np.empty(len(support))
    for i in range(len(support)):
        keep = np.arange(len(support)) != i
        pred = _power_law(log_macs, support[keep], y[keep])[support[i]]
        res[i] = pred - np.log(y[i])
    return res


def _loo_rmse(
    candidate: str,
    member_log: np.ndarray,
    basis: np.ndarray,
    log_macs: np.ndarray,
    support: np.ndarray,
    y: np.ndarray,
    config: FewShotConfig,
) -> float:
    if candidate == "macs":
        res = _power_law_loo(log_macs, support, y)
    else:
        x0 = design(member_log.mean(axis=0), basis, _config_for(candidate, config))
        res = loo_log_residuals(x0[support], y, config.ridge)
    return float(np.sqrt(np.mean(res**2)))


def adapt_and_predict(
    member_log: np.ndarray,
    basis: np.ndarray,
    support: np.ndarray,
    y_support: np.ndarray,
    config: FewShotConfig,
    log_macs: np.ndarray | None = None,
) -> LogGaussian:
    """Pick the best candidate head by leave-one-out error, fit it per member, predict all rows.

    Args:
        member_log: ``[M, N, D]`` member log predictions for the known devices.
        basis: ``[N, B]`` cost basis of the same N graphs.
        support: indices (into N) of the measured graphs.
        y_support: their measured values (natural units, > 0).
        config: column choice (the ``known+basis`` candidate's) and penalty.
        log_macs: ``[N]`` log total MACs; enables the power-law candidate.

    Raises:
        ValueError: no support sample or a non-positive measurement.
    """
    if len(support) == 0 or np.any(y_support <= 0):
        raise ValueError("few-shot adaptation needs at least one positive measurement")
    if len(support) < 3:
        return _fit_nnls_members(member_log, basis, support, y_support, config, DEFAULT_NOISE_STD)
    names = [c for c in CANDIDATES if c != "macs" or log_macs is not None]
    errors = {
        c: _loo_rmse(
            c,
            member_log,
            basis,
            log_macs if log_macs is not None else np.zeros(0),
            support,
            y_support,
            config,
        )
        for c in names
    }
    best = min(errors, key=lambda c: errors[c])
    noise = max(errors[best] * config.noise_scale, config.noise_floor)
    if best == "macs" and log_macs is not None:
        mean = _power_law(log_macs, support, y_support)
        return LogGaussian(mean, np.full(mean.shape, noise))
    return _fit_nnls_members(
        member_log, basis, support, y_support, _config_for(best, config), noise
    )


def _fit_nnls_members(
    member_log: np.ndarray,
    basis: np.ndarray,
    support: np.ndarray,
    y_support: np.ndarray,
    config: FewShotConfig,
    noise: float,
) -> LogGaussian:
    logs = np.empty(member_log.shape[:2])
    for m in range(member_log.shape[0]):
        x = design(member_log[m], basis, config)
        head = fit_nnls_head(x[support], y_support, config.ridge)
        logs[m] = np.log(np.maximum(head.predict(x), 1e-9))
    return combine_members(logs, noise)
