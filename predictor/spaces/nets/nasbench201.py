"""The NAS-Bench-201 CIFAR network (C=16, N=5) as a torch module."""

from __future__ import annotations

import torch
from torch import nn

from predictor.spaces.torch_blocks import ClassifierHead, ReLUConvBN

#: (target node, source node, op) of one live edge.
LiveEdge = tuple[int, int, str]


def _edge_op(op: str, channels: int) -> nn.Module:
    if op == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1)
    if op == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1)
    if op == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    return nn.Identity()


class Cell(nn.Module):
    """One searched cell: node j is the sum of its live incoming edges."""

    def __init__(self, edges: list[LiveEdge], output_live: bool, channels: int) -> None:
        super().__init__()
        self.edges = edges
        self.output_live = output_live
        self.ops = nn.ModuleList(_edge_op(op, channels) for _, _, op in edges)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.output_live:
            return torch.mul(x, 0.0)
        nodes: dict[int, torch.Tensor] = {0: x}
        for (target, source, _), op in zip(self.edges, self.ops, strict=True):
            y = op(nodes[source])
            nodes[target] = nodes[target] + y if target in nodes else y
        return nodes[3]


class ResidualReduction(nn.Module):
    """NB201's residual block between stages: stride-2 conv path plus pooled 1x1 shortcut."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(cin, cout, 3, 2)
        self.conv_b = ReLUConvBN(cout, cout, 3, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(2, stride=2, padding=0), nn.Conv2d(cin, cout, 1, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.conv_b(self.conv_a(x))
        return self.downsample(x) + block


class NB201Net(nn.Module):
    """Stem, three stages of N cells separated by residual reductions, BN-ReLU, classifier."""

    def __init__(
        self, edges: list[LiveEdge], output_live: bool, channels: int, cells: int, classes: int
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels)
        )
        layers: list[nn.Module] = []
        c = channels
        for stage in range(3):
            if stage > 0:
                layers.append(ResidualReduction(c, 2 * c))
                c *= 2
            layers.extend(Cell(edges, output_live, c) for _ in range(cells))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU())
        self.head = ClassifierHead(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.lastact(self.cells(self.stem(x))))
