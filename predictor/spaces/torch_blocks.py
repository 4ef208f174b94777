"""Small torch building blocks shared by the search spaces' ``build`` methods.

torch is imported lazily by the callers (``build`` only), so importing a space stays cheap and
``to_ir`` never touches torch.
"""

from __future__ import annotations

import torch
from torch import nn


def randomize_batchnorm(module: nn.Module, seed: int) -> nn.Module:
    """Give every BatchNorm non-trivial, seeded statistics and affine parameters.

    Default BatchNorm parameters make some exporters drop the folded (all-zero) conv bias, so
    the same network would export with or without a bias; seeded non-zero values keep both
    exporters on the same graph. Returns ``module`` in eval mode.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.BatchNorm1d | nn.BatchNorm2d):
                c = layer.num_features
                assert layer.running_mean is not None and layer.running_var is not None
                layer.running_mean.copy_(0.1 * torch.randn(c, generator=gen))
                layer.running_var.copy_(0.5 + torch.rand(c, generator=gen))
                layer.weight.copy_(1.0 + 0.1 * torch.randn(c, generator=gen))
                layer.bias.copy_(0.1 * torch.randn(c, generator=gen))
    return module.eval()


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv kxk (no bias) -> BatchNorm (NAS-Bench-201's conv op)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int) -> None:
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(cout),
        )


class ConvBNAct(nn.Sequential):
    """Conv (no bias) -> BatchNorm -> optional activation."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int,
        stride: int = 1,
        groups: int = 1,
        act: type[nn.Module] | None = nn.ReLU,
    ) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
        ]
        if act is not None:
            layers.append(act())
        super().__init__(*layers)


class ChannelShuffle(nn.Module):
    """Reshape -> Transpose -> Reshape channel shuffle (ShuffleNet) with ``groups`` groups."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = (int(d) for d in x.shape)
        x = x.reshape(n, self.groups, c // self.groups, h, w)
        return x.transpose(1, 2).reshape(n, c, h, w)


class ClassifierHead(nn.Module):
    """Global average pool -> flatten -> Linear."""

    def __init__(self, cin: int, classes: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(x), 1))
