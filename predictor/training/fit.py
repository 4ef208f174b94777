"""Fit a deep ensemble on featurized graphs with per-device targets (the one training entry)."""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch_geometric.data import Data

from predictor.ensemble import Ensemble
from predictor.features.featurizer import fit_constants
from predictor.models.gnn import LayerType
from predictor.models.perf_model import ModelConfig, PerfModel
from predictor.training.calibrate import calibrate_heads
from predictor.training.dataset import attach_targets
from predictor.training.trainer import TrainConfig, train_model
from predictor.training.warm import warm_config, warm_member
from predictor.types import Metric

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FitSettings:
    """Model size, optimisation and ensemble size."""

    hidden: int = 32
    depth: int = 2
    layer: LayerType = "sage"
    epochs: int = 30
    batch_size: int = 64
    lr: float = 3e-3
    members: int = 3
    seed: int = 0
    #: Fewest optimizer steps per member: small data sets get more epochs (0: ``epochs`` only).
    #: 3,000 is 200 epochs of 900 graphs; fewer steps left FBNet meta-training underfitted
    #: (the figures are in docs/BENCHMARKS.md, Predictor).
    min_steps: int = 3000
    #: Additive heads get the per-device linear term on graph totals (MACs, bytes, nodes).
    linear_costs: bool = True
    #: A fresh model's heads start at each device's mean log target (:mod:`.calibrate`).
    calibrate: bool = True

    def epochs_for(self, samples: int) -> int:
        """Epochs for ``samples`` graphs: ``epochs``, more when that is under ``min_steps``.

        ``epochs == 0`` stays 0 (an untrained ensemble).
        """
        if self.epochs == 0:
            return 0
        batches = max(1, math.ceil(samples / self.batch_size))
        return max(self.epochs, math.ceil(self.min_steps / batches))

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return asdict(self)


#: Tiny settings for tests and ``--quick`` runs (seconds).
QUICK_SETTINGS = FitSettings(hidden=16, depth=1, epochs=2, members=2, batch_size=32, min_steps=0)


def data_fingerprint(targets: Mapping[Metric, np.ndarray], devices: Sequence[str]) -> str:
    """SHA-256 (first 16 hex) of the target matrices and device names."""
    h = hashlib.sha256(",".join(devices).encode())
    for metric in sorted(targets):
        h.update(metric.encode())
        h.update(np.ascontiguousarray(targets[metric], dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


def fit_ensemble(
    graphs: Sequence[Data],
    targets: Mapping[Metric, np.ndarray],
    devices: Sequence[str],
    settings: FitSettings,
    init: Ensemble | None = None,
) -> Ensemble:
    """Train ``settings.members`` models that differ in seed (init and data order).

    Args:
        graphs: featurized graphs.
        targets: metric -> ``[len(graphs), len(devices)]`` natural-unit values, NaN = missing.
        devices: device names (columns of every target matrix).
        settings: hyper-parameters (with ``init``, the model size is ``init``'s).
        init: warm start: members begin from this ensemble's weights and feature constants
            (:mod:`predictor.training.warm`); devices it does not know get fresh heads.

    Raises:
        ValueError: a target matrix does not match ``graphs`` x ``devices``.
    """
    for metric, matrix in targets.items():
        if matrix.shape != (len(graphs), len(devices)):
            raise ValueError(
                f"{metric} targets have shape {matrix.shape}, expected "
                f"({len(graphs)}, {len(devices)})"
            )
    data = attach_targets(graphs, targets)
    if init is None:
        constants = fit_constants(data)
        config = ModelConfig(
            devices=tuple(devices),
            metrics=tuple(targets),
            hidden=settings.hidden,
            depth=settings.depth,
            layer=settings.layer,
            linear_costs=settings.linear_costs,
        )
    else:
        config, constants = warm_config(init, tuple(devices), tuple(targets))
    epochs = settings.epochs_for(len(data))
    members: list[PerfModel] = []
    for m in range(settings.members):
        start = time.perf_counter()
        torch.manual_seed(settings.seed * 1000 + m)
        if init is None:
            model = PerfModel(config, constants)
            if settings.calibrate:
                calibrate_heads(model, data)
        else:
            model = warm_member(init, m, config)
        train = TrainConfig(epochs, settings.batch_size, settings.lr, seed=m)
        history = train_model(model, data, train)
        last = history[-1] if history else float("nan")
        logger.info("member %d: loss %.4f in %.0fs", m, last, time.perf_counter() - start)
        members.append(model)
    return Ensemble(members)
