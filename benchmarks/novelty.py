"""Leave-one-family-out calibration of the novelty-aware few-shot interval.

A device has measured networks of every family but one (``support_per_family`` of each); the
held-out family is predicted zero-shot. Per fold the few-shot head is fitted once without
novelty; its mean, its own log-space std and the two novelty signals (:mod:`predictor.novelty`)
of every other graph are kept, so each candidate form and scale is scored in numpy.

Forms: ``none``; ``unseen`` or ``distance`` alone; both in ``quadrature`` (the product's form);
both ``multiplicative`` (``std · (1 + a·unseen + b·distance)``). Each form's scales are chosen by
the mean Gaussian negative log-likelihood of the log measurements over the validation folds
(every family's rows count equally). Reported figures are *nested*: the scales used for a
held-out family were chosen on the other families' folds only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import torch

from predictor.ensemble import Z90, Ensemble
from predictor.features.featurizer import featurize
from predictor.fewshot import FewShotConfig, fit_fewshot
from predictor.ir.schema import GraphIR
from predictor.novelty import NoveltySettings

logger = logging.getLogger(__name__)

#: Noise of the head: one figure for every graph, or local (kernel over op-mix distance).
LOCAL_KS: tuple[float, ...] = (0.1, 0.2)
FORMS: tuple[str, ...] = (
    "none",
    "unseen",
    "distance",
    "quadrature",
    "multiplicative",
    *(f"local{k}" for k in LOCAL_KS),
    *(f"local{k}+quadrature" for k in LOCAL_KS),
)
SCALES: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
#: Relative error that counts as "lost" (the issue's > 25 %).
LOST = 0.25
THRESHOLDS: tuple[float, ...] = tuple(float(t) for t in np.round(np.arange(0.3, 3.01, 0.05), 2))


@dataclass(frozen=True)
class Corpus:
    """Measured graphs of one device: family (space), IR, latency."""

    device: str
    families: np.ndarray
    graphs: list[GraphIR]
    latency_ms: np.ndarray


def load_corpus(paths: Iterable[Path]) -> list[Corpus]:
    """One :class:`Corpus` per device of the zoo-format files (spaces this checkout knows)."""
    from predictor.data.zoo import read_corpus
    from predictor.spaces.registry import get_space

    rows: dict[str, list[tuple[str, GraphIR, float]]] = {}
    for rec in read_corpus(paths):
        if rec.latency_ms is None or rec.latency_ms <= 0:
            continue
        try:
            graph = get_space(rec.space).to_ir(rec.spec)
        except KeyError:
            logger.warning("skipping space %s: not in this checkout", rec.space)
            continue
        rows.setdefault(rec.device, []).append((rec.space, graph, rec.latency_ms))
    return [
        Corpus(
            device,
            np.asarray([r[0] for r in items]),
            [r[1] for r in items],
            np.asarray([r[2] for r in items]),
        )
        for device, items in sorted(rows.items())
    ]


@dataclass(frozen=True)
class Fold:
    """Test rows of one held-out family: the family's graphs and the other families' rest."""

    held_out: str
    family: np.ndarray
    unknown: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    unseen: np.ndarray
    distance: np.ndarray
    log_y: np.ndarray
    spread: np.ndarray
    local: dict[float, np.ndarray]


def make_folds(
    corpus: Corpus, ensemble: Ensemble, support_per_family: int, seed: int
) -> list[Fold]:
    """Fit the novelty-free head once per held-out family and keep what the forms need."""
    data = [featurize(g) for g in corpus.graphs]
    member_log = ensemble.log_predict(data, "latency_ms")
    basis = torch.cat([d.basis for d in data]).double().numpy()
    log_macs = np.log(np.maximum([float(g.macs) for g in corpus.graphs], 1.0))
    y = corpus.latency_ms
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    folds = []
    names = sorted(set(corpus.families.tolist()))
    for held in names:
        sup = np.asarray(
            [
                i
                for f in names
                if f != held
                for i in order[corpus.families[order] == f][:support_per_family]
            ]
        )
        test = np.setdiff1d(np.arange(len(y)), sup)
        config = FewShotConfig(local_bandwidth=1.0)
        head = fit_fewshot(
            member_log[:, sup], basis[sup], y[sup], config, log_macs[sup], basis[sup]
        )
        dist = head.predict(member_log[:, test], basis[test], log_macs[test])
        assert head.novelty is not None
        unseen, distance = head.novelty.signals(basis[test])
        _, overlap = head.novelty._overlap(basis[test])
        local = {}
        for k in LOCAL_KS:
            nov = replace(head.novelty, settings=NoveltySettings(0.0, 0.0, k))
            noise = nov.local_noise(overlap)
            assert noise is not None
            local[k] = np.maximum(noise, config.noise_floor)
        spread = np.sqrt(np.maximum(dist.std**2 - head.noise_std**2, 0.0))
        folds.append(
            Fold(
                held,
                corpus.families[test],
                corpus.families[test] == held,
                dist.mean,
                dist.std,
                unseen,
                distance,
                np.log(y[test]),
                spread,
                local,
            )
        )
    return folds


def widened(fold: Fold, form: str, a: float, b: float) -> np.ndarray:
    """Log-space std of the fold's rows under ``form`` with scales ``a`` (unseen), ``b``."""
    std = fold.std
    if form.startswith("local"):
        k = float(form.split("+")[0].removeprefix("local"))
        std = np.sqrt(fold.spread**2 + fold.local[k] ** 2)
    if form == "multiplicative":
        out: np.ndarray = std * (1.0 + a * fold.unseen + b * fold.distance)
        return out
    return np.sqrt(std**2 + (a * fold.unseen) ** 2 + (b * fold.distance) ** 2)


def _grid(form: str) -> list[tuple[float, float]]:
    if form == "none" or (form.startswith("local") and "+" not in form):
        return [(0.0, 0.0)]
    if form == "unseen":
        return [(a, 0.0) for a in SCALES]
    if form == "distance":
        return [(0.0, b) for b in SCALES]
    return list(product(SCALES, SCALES))


def nll(folds: Sequence[Fold], form: str, a: float, b: float) -> float:
    """Mean over families of the Gaussian NLL of the log measurements (each family equal)."""
    per_family: dict[str, list[float]] = {}
    for fold in folds:
        std = widened(fold, form, a, b)
        z = (fold.log_y - fold.mean) / std
        values = 0.5 * z**2 + np.log(std)
        for fam in np.unique(fold.family):
            per_family.setdefault(str(fam), []).append(float(values[fold.family == fam].mean()))
    return float(np.mean([np.mean(v) for v in per_family.values()]))


def choose(folds: Sequence[Fold], form: str) -> tuple[float, float]:
    """Scales of ``form`` with the lowest NLL on ``folds``."""
    return min(_grid(form), key=lambda ab: nll(folds, form, *ab))


def lost(fold: Fold) -> np.ndarray:
    """Rows predicted more than :data:`LOST` off (relative error of the point estimate)."""
    out: np.ndarray = np.abs(np.exp(fold.mean - fold.log_y) - 1.0) > LOST
    return out


def relative_width(fold: Fold, std: np.ndarray) -> np.ndarray:
    """``(hi - lo) / mean`` of the 90 % interval (the service's uncertainty measure)."""
    out: np.ndarray = np.exp(Z90 * std) - np.exp(-Z90 * std)
    return out


def auroc(score: np.ndarray, positive: np.ndarray) -> float | None:
    """Area under the ROC curve of ``score`` for ``positive`` (None with one class only)."""
    pos, neg = score[positive], score[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return None
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def choose_threshold(folds: Sequence[Fold], form: str, a: float, b: float) -> float:
    """The relative-width threshold with the best F1 for "lost" over the folds' mixed batches."""

    def f1(t: float) -> float:
        tp = fp = fn = 0
        for fold in folds:
            flag = relative_width(fold, widened(fold, form, a, b)) > t
            bad = lost(fold)
            tp += int((flag & bad).sum())
            fp += int((flag & ~bad).sum())
            fn += int((~flag & bad).sum())
        return 2 * tp / max(2 * tp + fp + fn, 1)

    return max(THRESHOLDS, key=f1)


def _family_report(fold: Fold, std: np.ndarray) -> dict[str, Any]:
    rows = fold.unknown
    inside = np.abs(fold.log_y - fold.mean) <= Z90 * std
    return {
        "n": int(rows.sum()),
        "coverage_90": float(inside[rows].mean()),
        "median_width": float(np.median(np.exp(2 * Z90 * std[rows]))),
        "mape": float(np.mean(np.abs(np.exp(fold.mean - fold.log_y) - 1.0)[rows])),
        "lost_share": float(lost(fold)[rows].mean()),
        "auroc_family": auroc(relative_width(fold, std)[rows], lost(fold)[rows]),
        "auroc_mixed": auroc(relative_width(fold, std), lost(fold)),
        "known_coverage_90": float(inside[~rows].mean()),
        "known_median_width": float(np.median(np.exp(2 * Z90 * std[~rows]))),
    }


def evaluate(folds: Sequence[Fold]) -> dict[str, Any]:
    """Nested leave-one-family-out figures of every form, and the scales chosen on all folds."""
    out: dict[str, Any] = {}
    for form in FORMS:
        families: dict[str, Any] = {}
        tp = fp = fn = 0
        pooled_w: list[np.ndarray] = []
        pooled_lost: list[np.ndarray] = []
        covered = 0
        count = 0
        for i, fold in enumerate(folds):
            others = [f for j, f in enumerate(folds) if j != i and f.held_out != fold.held_out]
            a, b = choose(others, form)
            t = choose_threshold(others, form, a, b)
            std = widened(fold, form, a, b)
            rep = _family_report(fold, std)
            rep.update({"unseen_scale": a, "distance_scale": b, "threshold": t})
            families.setdefault(fold.held_out, []).append(rep)
            flag = relative_width(fold, std) > t
            bad = lost(fold)
            tp += int((flag & bad).sum())
            fp += int((flag & ~bad).sum())
            fn += int((~flag & bad).sum())
            pooled_w.append(relative_width(fold, std)[fold.unknown])
            pooled_lost.append(bad[fold.unknown])
            covered += int((np.abs(fold.log_y - fold.mean) <= Z90 * std)[fold.unknown].sum())
            count += int(fold.unknown.sum())
        a_all, b_all = choose(folds, form)
        out[form] = {
            "families": families,
            "held_out_coverage_90": covered / max(count, 1),
            "held_out_auroc_pooled": auroc(np.concatenate(pooled_w), np.concatenate(pooled_lost)),
            "mixed_batch": {
                "jobs": tp + fp,
                "jobs_on_lost_share": tp / max(tp + fp, 1),
                "lost_with_job_share": tp / max(tp + fn, 1),
            },
            "nll": nll(folds, form, a_all, b_all),
            "chosen_on_all": {
                "unseen_scale": a_all,
                "distance_scale": b_all,
                "threshold": choose_threshold(folds, form, a_all, b_all),
            },
        }
    return out


def predict_throughput(
    artifact: Path, corpus: Corpus, graphs: Sequence[GraphIR], repeats: int = 5
) -> dict[str, float]:
    """Graphs per second of ``EnsemblePredictor.predict`` on a few-shot device, novelty on/off.

    The device has measured the whole corpus (the head is fitted once and cached); both
    predictors share the ensemble and warm feature cache and alternate, median of ``repeats``.
    """
    import time
    from dataclasses import replace

    from predictor.api import DeviceContext, Sample
    from predictor.artifact import load_artifact

    on = load_artifact(artifact)
    off = load_artifact(artifact)
    off.fewshot = replace(on.fewshot, unseen_scale=0.0, distance_scale=0.0)
    samples = tuple(
        Sample(g, corpus.device, latency_ms=float(v))
        for g, v in zip(corpus.graphs, corpus.latency_ms, strict=True)
    )
    ctx = DeviceContext(corpus.device, samples=samples)
    times: dict[str, list[float]] = {"novelty": [], "no_novelty": []}
    for _ in range(repeats + 1):  # the first round warms caches and fits the heads
        for name, predictor in (("novelty", on), ("no_novelty", off)):
            start = time.perf_counter()
            predictor.predict(list(graphs), ctx)
            times[name].append(time.perf_counter() - start)
    out = {f"{k}_graphs_per_s": len(graphs) / float(np.median(v[1:])) for k, v in times.items()}
    out["ratio"] = out["novelty_graphs_per_s"] / out["no_novelty_graphs_per_s"]
    return out
