"""torch modules for :mod:`predictor.spaces.zoo_layers` (same nodes, same order as the IR)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from predictor.spaces.nets.attention import randomize_layernorm
from predictor.spaces.nets.plan import conv_bn
from predictor.spaces.nets.plan import module_for as plan_module
from predictor.spaces.plan import ConvBN
from predictor.spaces.torch_blocks import ChannelShuffle, randomize_batchnorm
from predictor.spaces.zoo_layers import (
    AvgPool,
    BiasConv,
    ChannelNorm,
    ConvNeXtBlock,
    DenseLayer,
    Inception,
    ShuffleUnit,
    ZooLayer,
    ZooPlan,
)


class ShuffleBlock(nn.Module):
    """:class:`ShuffleUnit` as a module."""

    def __init__(self, cin: int, layer: ShuffleUnit) -> None:
        super().__init__()
        g, m, s = layer.groups, layer.mid, layer.stride
        self.reduce = conv_bn(cin, ConvBN(m, (1, 1), groups=g))
        self.shuffle = ChannelShuffle(g)
        self.dw = conv_bn(m, ConvBN(m, (layer.kernel,) * 2, (s, s), groups=m, act="none"))
        out = layer.cout if s == 1 else layer.cout - cin
        self.expand = conv_bn(m, ConvBN(out, (1, 1), groups=g, act="none"))
        self.pool = nn.AvgPool2d(3, 2, 1) if s == 2 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(self.dw(self.shuffle(self.reduce(x))))
        if self.pool is None:
            return F.relu(y + x)
        return F.relu(torch.cat([self.pool(x), y], 1))


class DenseBlockLayer(nn.Module):
    """:class:`DenseLayer` as a module."""

    def __init__(self, cin: int, layer: DenseLayer) -> None:
        super().__init__()
        k = (layer.kernel, layer.kernel)
        self.body = nn.Sequential(
            conv_bn(cin, ConvBN(layer.bottleneck, (1, 1))),
            conv_bn(layer.bottleneck, ConvBN(layer.growth, k)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.body(x)], 1)


class InceptionBlock(nn.Module):
    """:class:`Inception` as a module."""

    def __init__(self, cin: int, layer: Inception) -> None:
        super().__init__()
        k = (layer.kernel, layer.kernel)
        self.b1 = conv_bn(cin, ConvBN(layer.b1, (1, 1)))
        self.b2 = nn.Sequential(
            conv_bn(cin, ConvBN(layer.b2_reduce, (1, 1))),
            conv_bn(layer.b2_reduce, ConvBN(layer.b2, k)),
        )
        self.b3 = nn.Sequential(
            conv_bn(cin, ConvBN(layer.b3_reduce, (1, 1))),
            conv_bn(layer.b3_reduce, ConvBN(layer.b3, k)),
            conv_bn(layer.b3, ConvBN(layer.b3, k)),
        )
        self.b4 = nn.Sequential(
            nn.MaxPool2d(3, 1, 1), conv_bn(cin, ConvBN(layer.pool_proj, (1, 1)))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class ChannelLayerNorm(nn.Module):
    """:class:`ChannelNorm` as a module."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ConvNeXtModule(nn.Module):
    """:class:`ConvNeXtBlock` as a module."""

    def __init__(self, channels: int, layer: ConvNeXtBlock) -> None:
        super().__init__()
        k = layer.kernel
        self.dw = nn.Conv2d(channels, channels, k, padding=k // 2, groups=channels)
        self.norm = nn.LayerNorm(channels)
        self.fc1 = nn.Linear(channels, channels * layer.expand)
        self.fc2 = nn.Linear(channels * layer.expand, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm(self.dw(x).permute(0, 2, 3, 1))
        # contiguous: a channels-last sum makes the dynamo exporter index its way through the
        # next global pool (Reshape, Gather); neither exporter writes a node for it.
        return (x + self.fc2(F.gelu(self.fc1(y))).permute(0, 3, 1, 2)).contiguous()


def zoo_module(cin: int, layer: ZooLayer) -> tuple[nn.Module, int]:
    """The module of one plan or zoo layer and its output channels."""
    if isinstance(layer, AvgPool):
        return nn.AvgPool2d(layer.kernel, layer.stride), cin
    if isinstance(layer, ShuffleUnit):
        return ShuffleBlock(cin, layer), layer.cout
    if isinstance(layer, DenseLayer):
        return DenseBlockLayer(cin, layer), cin + layer.growth
    if isinstance(layer, Inception):
        return InceptionBlock(cin, layer), layer.b1 + layer.b2 + layer.b3 + layer.pool_proj
    if isinstance(layer, ConvNeXtBlock):
        return ConvNeXtModule(cin, layer), cin
    if isinstance(layer, ChannelNorm):
        return ChannelLayerNorm(cin), cin
    if isinstance(layer, BiasConv):
        conv = nn.Conv2d(cin, layer.cout, layer.kernel, layer.stride, layer.pad)
        return conv, layer.cout
    return plan_module(cin, layer)


def build_zoo_plan(plan: ZooPlan, seed: int = 0) -> nn.Module:
    """The torch network of ``plan`` with seeded weights, in eval mode."""
    torch.manual_seed(seed)
    modules: list[nn.Module] = []
    channels = plan.input_shape[1]
    for layer in plan.layers:
        module, channels = zoo_module(channels, layer)
        modules.append(module)
    net = nn.Sequential(*modules)
    randomize_layernorm(net, seed + 2)
    return randomize_batchnorm(net, seed=seed + 1)
