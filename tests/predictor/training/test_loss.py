from __future__ import annotations

import math

import pytest
import torch

from predictor.training.loss import masked_log_mse, multi_metric_loss


def test_missing_targets_are_ignored() -> None:
    pred = torch.log(torch.tensor([[2.0, 5.0], [1.0, 7.0]]))
    target = torch.tensor([[2.0, float("nan")], [math.e, float("nan")]])
    loss, count = masked_log_mse(pred, target, delta=None)
    assert count == 2
    assert loss.item() == pytest.approx(0.5)  # errors 0 and -1 (plain squared error)


def test_huber_caps_outlier_influence() -> None:
    pred = torch.zeros(2)
    target = torch.tensor([1.0, math.exp(-2.0)])
    loss, _ = masked_log_mse(pred, target, delta=0.5)
    assert loss.item() == pytest.approx((2 * 0.5 * 2.0 - 0.25) / 2)


def test_all_missing_gives_zero_with_gradient() -> None:
    pred = torch.zeros(3, requires_grad=True)
    loss, count = masked_log_mse(pred, torch.full((3,), float("nan")))
    assert count == 0 and loss.item() == 0.0
    loss.backward()
    assert pred.grad is not None and torch.all(torch.isfinite(pred.grad))


def test_gradient_flows_only_to_present_entries() -> None:
    pred = torch.zeros(2, 2, requires_grad=True)
    target = torch.tensor([[2.0, float("nan")], [float("nan"), float("nan")]])
    loss = multi_metric_loss({"latency_ms": pred, "energy_mj": pred * 2}, {"latency_ms": target})
    loss.backward()
    assert pred.grad is not None
    assert pred.grad[0, 0] != 0
    assert torch.count_nonzero(pred.grad) == 1
