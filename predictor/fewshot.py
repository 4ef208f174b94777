"""Predictions for a device the ensemble was not trained on, from its few measurements.

Candidate heads, all fitted on the device's samples (reference architectures included):

* ``known+basis``, ``known``, ``basis``: :func:`predictor.models.adapt.fit_nnls_head` on each
  ensemble member's known-device predictions (natural units) and/or the per-op-type cost basis;
* ``known+macs``: the same on the known-device predictions plus total MACs (natural units), the
  GNN stacked with the MACs prior;
* ``macs``: a log-log power law on total MACs (the classic FLOPs proxy, 2 parameters).

Their log predictions are averaged with weights proportional to 1 / (leave-one-out log MSE on
the samples): with few samples a rich head overfits and the power law dominates; with more, the
learned columns do. (Inverse-MSE averaging beat picking the single best candidate on the FBNet
validation devices titanx_1/32, gold_6240: mean Spearman 0.877 vs 0.868, one meta-trained
member, 3 seeds.) The members' spread plus the weighted leave-one-out error give the predictive
standard deviation in log space.

A graph with an op type none of the device's measured graphs has is predicted without the
per-op-type basis candidates (their weights renormalised over the others): the basis was fitted
on the device's own op mix and extrapolates on a foreign one, while the known-device columns and
the MACs law price the whole graph (docs/BENCHMARKS.md, "Out-of-family predictions on a device
that measured only NAS cells").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from predictor.ensemble import LogGaussian, combine_members
from predictor.models.adapt import NNLSHead, fit_nnls_head, loo_log_residuals
from predictor.novelty import Novelty, NoveltySettings

#: Log-space noise assumed when there are too few samples for a leave-one-out estimate.
DEFAULT_NOISE_STD = 0.25


@dataclass(frozen=True)
class FewShotConfig:
    """Which columns the few-shot head uses and its ridge penalty."""

    ridge: float = 1e-2
    use_known: bool = True
    use_basis: bool = True
    noise_floor: float = 0.02
    #: Factor on the weighted leave-one-out error. 2.0 (2026-11-23) made up for picking the
    #: single best of four candidates, whose own leave-one-out error is optimistic; the
    #: candidates are averaged since, and the average errs less than the weighted RMS of its
    #: parts, so 2.0 gave 0.99-1.00 coverage. Re-chosen 2026-12-05 on the validation devices
    #: (NB201 titanx_1/32/256, gold_6240; FBNet titanx_1/32/64, gold_6240; 10 samples): mean
    #: 90% interval coverage 0.997 / 0.986 at 2.0, 0.934 / 0.897 at 1.0, 0.907 / 0.866 at 0.9;
    #: 1.0 is the nearest to 0.90 without falling below it (docs/BENCHMARKS.md, Predictor).
    noise_scale: float = 1.0
    #: Total MACs (natural units) as one more NNLS column (the ``known+macs`` candidate).
    use_macs: bool = False
    #: Novelty-aware interval (:mod:`predictor.novelty`): log-space std per unit of the graph's
    #: cost share in op types no measured graph has, and per unit of op-mix distance to the
    #: nearest measured graph; ``local_bandwidth`` > 0 makes the head's noise local, the
    #: RMS leave-one-out error of the measured graphs weighted by op-mix distance. Chosen
    #: 2026-12-06 by the lowest Gaussian NLL on leave-one-family-out validation over 9 search
    #: spaces measured on ort-cpu (docs/BENCHMARKS.md, "Novelty-aware intervals"): with the
    #: local noise the distance term no longer helps (scale 0; it stays in the product so a
    #: device whose data calls for it can set it).
    unseen_scale: float = 6.0
    distance_scale: float = 0.0
    local_bandwidth: float = 0.1

    @property
    def novelty(self) -> NoveltySettings:
        """The two novelty scales."""
        return NoveltySettings(self.unseen_scale, self.distance_scale, self.local_bandwidth)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return asdict(self)


def design(
    known_log: np.ndarray,
    basis: np.ndarray,
    config: FewShotConfig,
    log_macs: np.ndarray | None = None,
) -> np.ndarray:
    """Columns for one member: ``exp`` of its known-device log predictions, the basis, MACs.

    Raises:
        ValueError: no column chosen, or ``use_macs`` without ``log_macs``.
    """
    parts: list[np.ndarray] = []
    if config.use_known:
        parts.append(np.exp(known_log))
    if config.use_basis:
        parts.append(basis)
    if config.use_macs:
        if log_macs is None:
            raise ValueError("this few-shot head uses total MACs: pass log_macs")
        parts.append(np.exp(log_macs)[:, None])
    if not parts:
        raise ValueError("few-shot config uses no columns")
    return np.hstack(parts)


#: ``known+macs`` added 2026-12-02: FBNet validation mean Spearman 0.906 -> 0.908 (test
#: 0.957 -> 0.961); NB201 unchanged (docs/BENCHMARKS.md, Predictor).
CANDIDATES: tuple[str, ...] = ("known+basis", "known", "basis", "macs", "known+macs")
_NEEDS_MACS: frozenset[str] = frozenset({"macs", "known+macs"})


def _config_for(candidate: str, config: FewShotConfig) -> FewShotConfig:
    return replace(
        config,
        use_known="known" in candidate,
        use_basis="basis" in candidate,
        use_macs=candidate == "known+macs",
    )


def _power_law_coef(log_macs: np.ndarray, y: np.ndarray) -> np.ndarray:
    a = np.stack([np.ones(len(y)), log_macs], axis=1)
    coef: np.ndarray = np.linalg.lstsq(a, np.log(y), rcond=None)[0]
    return coef


def _power_law(log_macs: np.ndarray, support: np.ndarray, y: np.ndarray) -> np.ndarray:
    coef = _power_law_coef(log_macs[support], y)
    out: np.ndarray = coef[0] + coef[1] * log_macs
    return out


def _power_law_loo(log_macs: np.ndarray, support: np.ndarray, y: np.ndarray) -> np.ndarray:
    res = np.empty(len(support))
    for i in range(len(support)):
        keep = np.arange(len(support)) != i
        pred = _power_law(log_macs, support[keep], y[keep])[support[i]]
        res[i] = pred - np.log(y[i])
    return res


def _loo_residuals(
    candidate: str,
    member_log: np.ndarray,
    basis: np.ndarray,
    log_macs: np.ndarray,
    support: np.ndarray,
    y: np.ndarray,
    config: FewShotConfig,
) -> np.ndarray:
    if candidate == "macs":
        return _power_law_loo(log_macs, support, y)
    cfg = _config_for(candidate, config)
    x0 = design(member_log.mean(axis=0), basis, cfg, log_macs if cfg.use_macs else None)
    return loo_log_residuals(x0[support], y, config.ridge)


def adapt_and_predict(
    member_log: np.ndarray,
    basis: np.ndarray,
    support: np.ndarray,
    y_support: np.ndarray,
    config: FewShotConfig,
    log_macs: np.ndarray | None = None,
    novelty_basis: np.ndarray | None = None,
) -> LogGaussian:
    """Fit every candidate head, average them by leave-one-out error, predict all rows.

    Args:
        member_log: ``[M, N, D]`` member log predictions for the known devices.
        basis: ``[N, B]`` cost basis of the same N graphs.
        support: indices (into N) of the measured graphs.
        y_support: their measured values (natural units, > 0).
        config: column choice (the ``known+basis`` candidate's) and penalty.
        log_macs: ``[N]`` log total MACs; enables the power-law candidate.
        novelty_basis: ``[N, V * 3]`` full cost basis; enables the novelty widening.

    Raises:
        ValueError: no support sample or a non-positive measurement.
    """
    head = fit_fewshot(
        member_log[:, support],
        basis[support],
        y_support,
        config,
        None if log_macs is None else log_macs[support],
        None if novelty_basis is None else novelty_basis[support],
    )
    return head.predict(member_log, basis, log_macs, novelty_basis)


def fit_fewshot(
    member_log: np.ndarray,
    basis: np.ndarray,
    y: np.ndarray,
    config: FewShotConfig,
    log_macs: np.ndarray | None = None,
    novelty_basis: np.ndarray | None = None,
) -> FewShotHead:
    """Fit the few-shot head on a device's measured graphs only (reusable for any graphs).

    Args:
        member_log: ``[M, S, D]`` member log predictions of the S measured graphs.
        basis: ``[S, B]`` their cost basis.
        y: ``[S]`` their measured values (natural units, > 0).
        config: column choice (the ``known+basis`` candidate's) and penalty.
        log_macs: ``[S]`` log total MACs; enables the power-law candidate.
        novelty_basis: ``[S, V * 3]`` full cost basis of the measured graphs; enables the
            novelty widening (:mod:`predictor.novelty`) when the config's scales are set.

    Raises:
        ValueError: no support sample or a non-positive measurement.
    """
    if len(y) == 0 or np.any(y <= 0):
        raise ValueError("few-shot adaptation needs at least one positive measurement")
    novelty = None
    if novelty_basis is not None and config.novelty.enabled:
        novelty = Novelty.fit(novelty_basis, config.novelty)
    support = np.arange(len(y))
    if len(y) < 3:
        part = _nnls_part(member_log, basis, y, config, 1.0)
        return FewShotHead((part,), DEFAULT_NOISE_STD, novelty, config.noise_floor)
    names = [c for c in CANDIDATES if c not in _NEEDS_MACS or log_macs is not None]
    macs = log_macs if log_macs is not None else np.zeros(0)
    residuals = np.stack(
        [_loo_residuals(c, member_log, basis, macs, support, y, config) for c in names]
    )
    errors = np.sqrt(np.mean(residuals**2, axis=1))
    weights = 1.0 / np.maximum(errors, 1e-6) ** 2
    weights /= weights.sum()
    parts: list[_Part] = []
    for name, w in zip(names, weights, strict=True):
        if name == "macs":
            parts.append(_Part(float(w), None, coef=_power_law_coef(macs, y)))
        else:
            cfg = _config_for(name, config)
            parts.append(_nnls_part(member_log, basis, y, cfg, float(w), log_macs))
    noise = float(np.sqrt(np.sum(weights * errors**2))) * config.noise_scale
    if novelty is not None and config.local_bandwidth > 0:
        # each measured graph's leave-one-out error, candidates weighted as in the average
        novelty = novelty.with_errors(np.sqrt(weights @ residuals**2) * config.noise_scale)
    return FewShotHead(tuple(parts), max(noise, config.noise_floor), novelty, config.noise_floor)


def _nnls_part(
    member_log: np.ndarray,
    basis: np.ndarray,
    y: np.ndarray,
    config: FewShotConfig,
    weight: float,
    log_macs: np.ndarray | None = None,
) -> _Part:
    heads = tuple(
        fit_nnls_head(design(member_log[m], basis, config, log_macs), y, config.ridge)
        for m in range(member_log.shape[0])
    )
    return _Part(weight, config, heads=heads)


@dataclass(frozen=True)
class _Part:
    """One candidate head with its averaging weight: NNLS per member, or the MACs power law."""

    weight: float
    config: FewShotConfig | None
    heads: tuple[NNLSHead, ...] = ()
    coef: np.ndarray | None = None

    def member_logs(
        self, member_log: np.ndarray, basis: np.ndarray, log_macs: np.ndarray | None
    ) -> np.ndarray:
        if self.coef is not None:
            if log_macs is None:
                raise ValueError("this few-shot head uses the MACs power law: pass log_macs")
            law: np.ndarray = self.coef[0] + self.coef[1] * log_macs
            return law[None, :]
        assert self.config is not None
        logs = np.empty(member_log.shape[:2])
        for m, head in enumerate(self.heads):
            x = design(member_log[m], basis, self.config, log_macs)
            logs[m] = np.log(np.maximum(head.predict(x), 1e-9))
        return logs


@dataclass(frozen=True)
class FewShotHead:
    """A few-shot adaptation fitted on one device's measurements (see :func:`fit_fewshot`)."""

    parts: tuple[_Part, ...]
    noise_std: float
    novelty: Novelty | None = None
    noise_floor: float = 0.02

    def predict(
        self,
        member_log: np.ndarray,
        basis: np.ndarray,
        log_macs: np.ndarray | None = None,
        novelty_basis: np.ndarray | None = None,
    ) -> LogGaussian:
        """Predictive distribution of N graphs from their ``[M, N, D]`` member predictions.

        Args:
            member_log: ``[M, N, D]`` member log predictions for the known devices.
            basis: ``[N, B]`` cost basis of the same graphs.
            log_macs: ``[N]`` log total MACs (required when the power law took part).
            novelty_basis: ``[N, V * 3]`` full cost basis; widens the interval of graphs
                unlike the measured ones (when the head was fitted with one).
        """
        logs = np.zeros(member_log.shape[:2])
        per_part = [part.member_logs(member_log, basis, log_macs) for part in self.parts]
        for part, part_logs in zip(self.parts, per_part, strict=True):
            logs += part.weight * part_logs
        if self.novelty is not None and novelty_basis is not None:
            logs = self._without_basis_where_unseen(logs, per_part, novelty_basis)
        noise: float | np.ndarray = self.noise_std
        if self.novelty is not None and novelty_basis is not None:
            noise = self.novelty.noise_std(novelty_basis, self.noise_std, self.noise_floor)
        return combine_members(logs, noise)

    def _without_basis_where_unseen(
        self, logs: np.ndarray, per_part: list[np.ndarray], novelty_basis: np.ndarray
    ) -> np.ndarray:
        """Graphs with an op type no measured graph has drop the per-op-type basis candidates.

        The basis coefficients were fitted on the device's own op mix: on a graph whose op
        types it never measured they extrapolate (a ViT on a device that measured CNN cells
        came out 40-100x too slow from them), while the known-device columns and the MACs
        law carry the graph's whole cost. Their weights are renormalised over what is left.
        """
        assert self.novelty is not None
        unseen = self.novelty.has_unseen(novelty_basis)
        keep = [
            i
            for i, part in enumerate(self.parts)
            if part.coef is not None or (part.config is not None and not part.config.use_basis)
        ]
        total = sum(self.parts[i].weight for i in keep)
        if not unseen.any() or not keep or total <= 0:
            return logs
        narrow = sum(self.parts[i].weight * per_part[i] for i in keep) / total
        out = logs.copy()
        out[:, unseen] = np.broadcast_to(narrow, logs.shape)[:, unseen]
        return out
