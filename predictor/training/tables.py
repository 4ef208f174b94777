"""Train an artifact directly on latency tables (``perfloop train``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch_geometric.data import Data

from predictor.artifact import ArtifactInfo, save_artifact
from predictor.data.tables import LatencyTable
from predictor.training.fit import FitSettings, data_fingerprint, fit_ensemble


def train_on_table(
    table: LatencyTable,
    graphs: list[Data],
    devices: tuple[str, ...],
    settings: FitSettings,
    out: Path,
    version: str | None = None,
) -> Path:
    """Fit on every measured value of ``devices`` and save the artifact to ``out``."""
    targets = table.select(devices)
    rows = np.flatnonzero(np.isfinite(targets).any(axis=1))
    ensemble = fit_ensemble(
        [graphs[i] for i in rows], {"latency_ms": targets[rows]}, devices, settings
    )
    logs = ensemble.log_predict([graphs[i] for i in rows], "latency_ms").mean(axis=0)
    noise: dict[str, float] = {}
    for j, device in enumerate(devices):
        ok = np.isfinite(targets[rows, j])
        err = logs[ok, j] - np.log(targets[rows][ok, j])
        noise[device] = max(float(np.sqrt(np.mean(err**2))), 0.02)
    fingerprint = data_fingerprint({"latency_ms": targets}, devices)
    info = ArtifactInfo(
        version=version or f"table-{fingerprint[:8]}",
        fingerprint=fingerprint,
        metrics={"train_rows": len(rows), "settings": settings.to_dict()},
        noise_std={"latency_ms": noise},
    )
    return save_artifact(ensemble, info, out)
