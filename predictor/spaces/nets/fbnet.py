"""The FBNet CIFAR-100 network (22 searchable layers) as a torch module."""

from __future__ import annotations

import torch
from torch import nn

from predictor.spaces.torch_blocks import ChannelShuffle, ClassifierHead, ConvBNAct

#: (kernel, expansion, groups) of one searchable layer, or None for ``skip``.
LayerChoice = tuple[int, int, int] | None


class FBNetBlock(nn.Module):
    """1x1 (grouped) expand -> shuffle -> depthwise kxk -> 1x1 (grouped) project, residual."""

    def __init__(self, cin: int, cout: int, stride: int, kernel: int, expand: int, groups: int):
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = [ConvBNAct(cin, hidden, 1, groups=groups)]
        if groups > 1:
            layers.append(ChannelShuffle(groups))
        layers += [
            ConvBNAct(hidden, hidden, kernel, stride, groups=hidden),
            ConvBNAct(hidden, cout, 1, groups=groups, act=None),
        ]
        self.body = nn.Sequential(*layers)
        self.residual = cin == cout and stride == 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return y + x if self.residual else y


def make_layer(cin: int, cout: int, stride: int, choice: LayerChoice) -> nn.Module:
    """One searchable layer: a block, or ``skip`` (identity or 1x1 ConvBN-ReLU)."""
    if choice is None:
        if cin == cout and stride == 1:
            return nn.Identity()
        return ConvBNAct(cin, cout, 1, stride)
    kernel, expand, groups = choice
    return FBNetBlock(cin, cout, stride, kernel, expand, groups)


class FBNetNet(nn.Module):
    """Stem ConvBN-ReLU, the 22 searchable layers, 1x1 ConvBN-ReLU head, pool, classifier."""

    def __init__(
        self,
        layers: list[tuple[int, int, int, LayerChoice]],
        stem: int,
        head: int,
        classes: int,
    ) -> None:
        super().__init__()
        self.stem = ConvBNAct(3, stem, 3)
        self.layers = nn.Sequential(*(make_layer(*spec) for spec in layers))
        last = layers[-1][1]
        self.head_conv = ConvBNAct(last, head, 1)
        self.head = ClassifierHead(head, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.head_conv(self.layers(self.stem(x))))
