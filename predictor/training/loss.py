"""Masked loss in log space: a sample may carry any subset of targets (NaN = missing)."""

from __future__ import annotations

import torch

#: Log-space error beyond which the loss grows linearly (Huber): a few wild table entries
#: (e.g. HW-NAS-Bench's 0.003 ms rows for pruned networks) must not dominate training.
HUBER_DELTA = 0.3


def masked_log_mse(
    log_pred: torch.Tensor, target: torch.Tensor, delta: float | None = HUBER_DELTA
) -> tuple[torch.Tensor, int]:
    """Mean squared (Huber when ``delta``) error of ``log_pred`` vs ``log(target)``, masked.

    Args:
        log_pred: natural-log predictions, any shape.
        target: values in natural units, same shape; NaN (or <= 0) marks a missing target.
        delta: Huber threshold in log units (None: plain squared error).

    Returns:
        ``(loss, count)``; the loss is 0 (with a gradient path) when no target is present.
    """
    mask = torch.isfinite(target) & (target > 0)
    count = int(mask.sum())
    if count == 0:
        return (log_pred * 0.0).sum(), 0
    safe = torch.where(mask, target, torch.ones_like(target))
    err = torch.where(mask, log_pred - torch.log(safe), torch.zeros_like(log_pred))
    if delta is None:
        return (err**2).sum() / count, count
    a = err.abs()
    huber = torch.where(a <= delta, err**2, 2 * delta * a - delta**2)
    return huber.sum() / count, count


def multi_metric_loss(
    log_preds: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]
) -> torch.Tensor:
    """Sum over metrics of :func:`masked_log_mse` (metrics without targets contribute 0)."""
    total = torch.zeros(())
    for metric, pred in log_preds.items():
        if metric in targets:
            loss, _ = masked_log_mse(pred, targets[metric])
            total = total + loss
    return total
