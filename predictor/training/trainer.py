"""Training loop of :class:`PerfModel` (Adam, cosine schedule, masked log-space loss)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader

from predictor.models.perf_model import PerfModel
from predictor.training.dataset import target_key
from predictor.training.loss import multi_metric_loss

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Optimisation hyper-parameters."""

    epochs: int = 40
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-5
    seed: int = 0


def _targets(batch: Batch, metrics: Sequence[str]) -> dict[str, torch.Tensor]:
    return {m: getattr(batch, target_key(m)) for m in metrics if hasattr(batch, target_key(m))}


def train_model(model: PerfModel, data: Sequence[Data], config: TrainConfig) -> list[float]:
    """Train ``model`` in place on graphs carrying ``y_<metric>`` rows.

    Returns:
        Mean training loss per epoch.
    """
    if not data:
        raise ValueError("no training data")
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    loader = DataLoader(list(data), batch_size=config.batch_size, shuffle=True, generator=generator)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps = max(1, config.epochs * len(loader))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=steps)
    history: list[float] = []
    model.train()
    start = time.perf_counter()
    for epoch in range(config.epochs):
        total, count = 0.0, 0
        for batch in loader:
            opt.zero_grad()
            loss = multi_metric_loss(model(batch), _targets(batch, model.config.metrics))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            total += loss.item() * batch.num_graphs
            count += batch.num_graphs
        history.append(total / count)
        logger.info("epoch %d loss %.5f (%.0fs)", epoch, history[-1], time.perf_counter() - start)
    model.eval()
    return history
