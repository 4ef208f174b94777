"""Train and evaluate from :class:`~predictor.types.Sample` rows (graph, device, targets)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from predictor.artifact import ArtifactInfo, load_artifact, save_artifact
from predictor.ensemble import Ensemble
from predictor.features.featurizer import featurize
from predictor.ir.schema import GraphIR
from predictor.metrics import score
from predictor.training.fit import FitSettings, data_fingerprint, fit_ensemble
from predictor.training.head_gate import ANCHOR_HEAD, heads_to_keep, keep_devices
from predictor.training.samples import sample_matrix
from predictor.training.warm import load_init
from predictor.types import DeviceContext, Metric, Sample

logger = logging.getLogger(__name__)


def residual_noise(
    ensemble: Ensemble, graphs: list[GraphIR], targets: dict[Metric, np.ndarray], devices: list[str]
) -> dict[str, dict[str, float]]:
    """Per metric and device RMSE of log predictions on the training data (floored at 0.02)."""
    data = [featurize(g) for g in graphs]
    out: dict[str, dict[str, float]] = {}
    for metric, matrix in targets.items():
        logs = ensemble.log_predict(data, metric).mean(axis=0)
        out[metric] = {}
        for j, device in enumerate(devices):
            ok = np.isfinite(matrix[:, j])
            if ok.any():
                err = logs[ok, j] - np.log(matrix[ok, j])
                out[metric][device] = max(float(np.sqrt(np.mean(err**2))), 0.02)
    return out


def train_from_samples(
    samples: Sequence[Sample],
    out_dir: Path,
    settings: FitSettings,
    version: str | None = None,
    min_device_samples: int = 20,
    init_from: Path | None = None,
    gate_heads: bool = True,
) -> Path:
    """Train an ensemble on ``samples`` (oldest first) and write an artifact to ``out_dir``.

    With ``init_from`` (an artifact directory) training warm-starts from that artifact's weights
    and keeps its feature constants and model size (:mod:`predictor.training.warm`). With
    ``gate_heads`` a device keeps its learned head only where the head beats the few-shot path
    on its newest rows (:mod:`predictor.training.head_gate`); the others are served few-shot.

    Returns:
        The artifact directory.
    """
    graphs, devices, targets = sample_matrix(samples, min_device_samples)
    init = load_init(init_from) if init_from is not None else None
    heads = heads_to_keep(samples, devices, settings, init) if gate_heads else devices
    full = fit_ensemble([featurize(g) for g in graphs], targets, devices, settings, init)
    noise = residual_noise(full, graphs, targets, devices)
    ensemble = keep_devices(full, heads)
    heads = [d for d in ensemble.config.devices if d != ANCHOR_HEAD]
    metrics: dict[str, object] = {
        "train_graphs": len(graphs),
        "settings": settings.to_dict(),
        "head_devices": list(heads),
        "trained_devices": list(devices),
    }
    if init_from is not None:
        metrics["warm_start_from"] = str(init_from)
    info = ArtifactInfo(
        version=version or datetime.now(UTC).strftime("v%Y%m%d%H%M%S"),
        fingerprint=data_fingerprint(targets, devices),
        metrics=metrics,
        noise_std={m: {d: v for d, v in per.items() if d in heads} for m, per in noise.items()},
    )
    return save_artifact(ensemble, info, out_dir)


def evaluate_samples(
    path: Path, samples: Sequence[Sample], metrics: Sequence[Metric] = ("latency_ms",)
) -> dict[str, dict[str, dict[str, float | None]]]:
    """Scores of the artifact at ``path`` on ``samples``: ``{metric: {device: scores}}``.

    Devices the artifact was not trained on are predicted with no measurements of their own.
    """
    predictor = load_artifact(path)
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for metric in metrics:
        by_device: dict[str, list[tuple[GraphIR, float]]] = {}
        for s in samples:
            value = getattr(s, metric)
            if value is not None and value > 0:
                by_device.setdefault(s.device, []).append((s.graph, float(value)))
        out[metric] = {}
        for device, rows in sorted(by_device.items()):
            batch = predictor.predict([g for g, _ in rows], DeviceContext(device), [metric])
            est = [e[metric] for e in batch.estimates]
            true = [v for _, v in rows]
            out[metric][device] = score(
                [e.mean for e in est], true, [e.lo for e in est], [e.hi for e in est]
            ).as_dict()
    return out
