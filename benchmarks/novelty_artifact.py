"""The predictor artifact the novelty benchmark serves from: meta-trained on both published tables.

900 random NB201 archs and 900 random FBNet archs on the published meta-train devices (the
product's few-shot protocol, :data:`predictor.data.splits.META_TRAIN_SAMPLES` per space), one
ensemble, default :class:`FitSettings`. The benchmark's device (ort-cpu here) is never among the
trained devices: every family it predicts goes through the few-shot head, as a new device in
the service does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch_geometric.data import Data

from benchmarks.predictor.fewshot import meta_train_targets
from predictor.artifact import ArtifactInfo, save_artifact
from predictor.data.splits import META_TRAIN_SAMPLES, PUBLISHED_SPLITS
from predictor.data.tables import default_table_path, load_tables
from predictor.features.cache import featurize_archs
from predictor.spaces.table_graphs import graph_builder
from predictor.training.fit import FitSettings, data_fingerprint, fit_ensemble

SPACES = ("nasbench201", "fbnet")


def training_rows(space: str, devices: tuple[str, ...]) -> tuple[list[Data], np.ndarray]:
    """Featurized meta-train graphs of one space and their ``[rows, devices]`` latencies."""
    table = load_tables([default_table_path(space)])
    present = tuple(d for d in devices if d in table.devices)
    part = meta_train_targets(table, present, META_TRAIN_SAMPLES)
    rows = np.flatnonzero(np.isfinite(part).any(axis=1))
    name, to_ir = graph_builder(space)
    archs = [table.archs[i] for i in rows]
    graphs = featurize_archs(f"{name}-novelty", archs, to_ir)
    out = np.full((len(rows), len(devices)), np.nan)
    for j, d in enumerate(present):
        out[:, devices.index(d)] = part[rows, j]
    return graphs, out


def train_artifact(out: Path, settings: FitSettings | None = None) -> Path:
    """Meta-train on both tables and save the artifact to ``out`` (must not exist or be empty)."""
    devices = PUBLISHED_SPLITS["nasbench201"].train
    graphs: list[Data] = []
    targets: list[np.ndarray] = []
    for space in SPACES:
        g, t = training_rows(space, devices)
        graphs += g
        targets.append(t)
    y = np.vstack(targets)
    fit = settings or FitSettings()
    ensemble = fit_ensemble(graphs, {"latency_ms": y}, devices, fit)
    fingerprint = data_fingerprint({"latency_ms": y}, devices)
    info = ArtifactInfo(
        version=f"novelty-{fingerprint[:8]}",
        fingerprint=fingerprint,
        metrics={"train_rows": len(graphs), "settings": fit.to_dict(), "spaces": list(SPACES)},
    )
    return save_artifact(ensemble, info, out)
