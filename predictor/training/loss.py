"""Masked loss in log space: a sample may carry any subset of targets (NaN = missing)."""

from __future__ import annotations

import torch


def masked_log_mse(log_pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Mean squared error between ``log_pred`` and ``log(target)`` over the present targets.

    Args:
        log_pred: natural-log predictions, any shape.
        target: values in natural units, same shape; NaN (or <= 0) marks a missing target.

    Returns:
        ``(loss, count)``; the loss is 0 (with a gradient path) when no target is present.
    """
    mask = torch.isfinite(target) & (target > 0)
    count = int(mask.sum())
    if count == 0:
        return (log_pred * 0.0).sum(), 0
    safe = torch.where(mask, target, torch.ones_like(target))
    err = torch.where(mask, log_pred - torch.log(safe), torch.zeros_like(log_pred))
    return (err**2).sum() / count, count


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
