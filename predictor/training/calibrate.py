"""Start every device head at the right scale: shift its log output to the data's mean.

A fresh additive head predicts O(1) whatever the device, and its scale lives in log-parameters
that Adam moves by about ``lr`` per step; a device measured in hundreds of milliseconds would
spend most of a short training just reaching its scale (450 steps for 900 graphs x 30 epochs
moved the summed-embedding weights far less than that). Shifting each device's head so that
its mean log prediction equals the mean log target on the training graphs removes that phase.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch
from torch_geometric.data import Batch, Data

from predictor.models.heads import AdditiveHead, PooledHead
from predictor.models.perf_model import PerfModel
from predictor.training.dataset import target_key

logger = logging.getLogger(__name__)
#: Graphs in the forward pass that measures the initial predictions.
CALIBRATION_GRAPHS = 512


def log_shifts(model: PerfModel, data: Sequence[Data], metric: str) -> torch.Tensor:
    """Per device: mean log target minus mean log prediction over the graphs measured on it.

    Devices without a finite positive target in ``data`` get 0.
    """
    sample = list(data[:CALIBRATION_GRAPHS])
    batch = Batch.from_data_list(sample)
    with torch.no_grad():
        pred = model(batch)[metric]
    target = torch.cat([getattr(d, target_key(metric)) for d in sample]).to(pred.dtype)
    mask = torch.isfinite(target) & (target > 0)
    safe = torch.where(mask, target, torch.ones_like(target))
    diff = torch.where(mask, torch.log(safe) - pred, torch.zeros_like(pred))
    count = mask.sum(0)
    return torch.where(count > 0, diff.sum(0) / count.clamp(min=1), torch.zeros_like(diff[0]))


def calibrate_heads(model: PerfModel, data: Sequence[Data]) -> None:
    """Shift every head of ``model`` (in place) to the mean log target of ``data``.

    An additive head's value is scaled by ``exp(shift)`` (all its log-parameters move by the
    shift); a pooled head's log output moves by the shift through its bias.
    """
    if not data:
        return
    model.eval()
    for metric, head in model.heads.items():
        if not hasattr(data[0], target_key(metric)):
            continue
        shift = log_shifts(model, data, metric)
        with torch.no_grad():
            if isinstance(head, AdditiveHead):
                head.weight.add_(shift[:, None])
                head.bias.add_(shift)
                if head.linear is not None:
                    head.linear.add_(shift[:, None])
            elif isinstance(head, PooledHead):
                head.linear.bias.add_(shift)
        logger.debug("calibrated %s heads by %s", metric, shift.tolist())
