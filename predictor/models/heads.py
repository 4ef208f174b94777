"""Device-conditioned output heads.

Additive head (latency, energy): ``value = exp(b_d) + sum_v relu(h_v) . exp(w_d)``, a
learned per-operator cost table summed over the graph (nn-Meter's kernel sum, learned end to end),
positive by construction; optionally ``+ t . exp(c_d)`` where ``t`` holds graph totals that are
linear in the nodes (MACs, bytes written, node count): a per-device roofline-like term that the
node embeddings (functions of *log* MACs) can only approximate. Pooled head (peak memory):
``log value = mean_v(h_v) . w_d + u . a_d + b_d``. Both return natural-log predictions.
"""

from __future__ import annotations

import torch
from torch import nn


class AdditiveHead(nn.Module):
    """Per-device additive cost head over summed node embeddings (and linear graph totals)."""

    def __init__(
        self, hidden: int, num_devices: int, init_log_value: float = 1.0, linear: int = 0
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(num_devices, hidden) * 0.1 - 2.0)
        self.bias = nn.Parameter(torch.full((num_devices,), init_log_value - 2.0))
        self.linear: nn.Parameter | None = None
        if linear > 0:
            self.linear = nn.Parameter(torch.randn(num_devices, linear) * 0.1 - 2.0)

    def forward(self, summed: torch.Tensor, totals: torch.Tensor | None = None) -> torch.Tensor:
        """Log predictions ``[B, D]`` from summed embeddings ``[B, hidden]``.

        Args:
            summed: ``[B, hidden]`` summed node embeddings.
            totals: ``[B, linear]`` non-negative linear graph totals (required when the head
                was built with ``linear > 0``, ignored otherwise).

        Raises:
            ValueError: the head has linear terms but no ``totals`` were given.
        """
        value = summed @ torch.exp(self.weight).T + torch.exp(self.bias)
        if self.linear is not None:
            if totals is None:
                raise ValueError("this additive head has linear terms: pass the graph totals")
            value = value + totals @ torch.exp(self.linear).T
        return torch.log(value + 1e-6)


class PooledHead(nn.Module):
    """Per-device log-linear head over mean-pooled embeddings and graph features."""

    def __init__(self, hidden: int, graph_dim: int, num_devices: int) -> None:
        super().__init__()
        self.linear = nn.Linear(hidden + graph_dim, num_devices)

    def forward(self, pooled: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """Log predictions ``[B, D]``."""
        out: torch.Tensor = self.linear(torch.cat([pooled, u], dim=1))
        return out
