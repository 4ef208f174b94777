"""torch modules for :mod:`predictor.spaces.plan` layer plans."""

from __future__ import annotations

import torch
from torch import nn

from predictor.spaces.plan import Act, Classifier, ConvBN, Layer, MaxPool, MBConv, Plan, ResBlock
from predictor.spaces.torch_blocks import ClassifierHead, randomize_batchnorm

_ACTS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "hswish": nn.Hardswish, "swish": nn.SiLU}


def _act(act: Act) -> nn.Module:
    return _ACTS[act]() if act in _ACTS else nn.Identity()


def conv_bn(cin: int, layer: ConvBN) -> nn.Sequential:
    """Conv (no bias) -> BatchNorm -> activation."""
    pad = (layer.kernel[0] // 2, layer.kernel[1] // 2)
    return nn.Sequential(
        nn.Conv2d(
            cin, layer.cout, layer.kernel, layer.stride, pad, groups=layer.groups, bias=False
        ),
        nn.BatchNorm2d(layer.cout),
        _act(layer.act),
    )


class SqueezeExcite(nn.Module):
    """Pool -> 1x1 reduce -> act -> 1x1 expand -> sigmoid -> scale."""

    def __init__(self, channels: int, reduced: int, act: Act) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, reduced, 1)
        self.act = _act(act)
        self.expand = nn.Conv2d(reduced, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.expand(self.act(self.reduce(self.pool(x)))))


class MBConvBlock(nn.Module):
    """Inverted residual block of :class:`predictor.spaces.plan.MBConv`."""

    def __init__(self, cin: int, layer: MBConv) -> None:
        super().__init__()
        k, h = layer.kernel, layer.hidden
        parts: list[nn.Module] = []
        if h != cin:
            parts.append(conv_bn(cin, ConvBN(h, (1, 1), act=layer.act)))
        parts.append(conv_bn(h, ConvBN(h, (k, k), (layer.stride,) * 2, groups=h, act=layer.act)))
        if layer.se:
            parts.append(SqueezeExcite(h, layer.se, layer.se_act))
        parts.append(conv_bn(h, ConvBN(layer.cout, (1, 1), act="none")))
        self.body = nn.Sequential(*parts)
        self.residual = cin == layer.cout and layer.stride == 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return y + x if self.residual else y


class ResidualBlock(nn.Module):
    """ResNet basic or bottleneck block of :class:`predictor.spaces.plan.ResBlock`."""

    def __init__(self, cin: int, layer: ResBlock) -> None:
        super().__init__()
        s, m, c = (layer.stride,) * 2, layer.mid, layer.cout
        if layer.kind == "basic":
            parts = [conv_bn(cin, ConvBN(m, stride=s)), conv_bn(m, ConvBN(c, act="none"))]
        else:
            parts = [
                conv_bn(cin, ConvBN(m, (1, 1))),
                conv_bn(m, ConvBN(m, stride=s)),
                conv_bn(m, ConvBN(c, (1, 1), act="none")),
            ]
        self.body = nn.Sequential(*parts)
        needs_projection = layer.stride != 1 or cin != c
        self.shortcut = conv_bn(cin, ConvBN(c, (1, 1), s, act="none")) if needs_projection else None
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        shortcut = self.shortcut(x) if self.shortcut is not None else x
        return self.relu(y + shortcut)


def module_for(cin: int, layer: Layer) -> tuple[nn.Module, int]:
    """The module of one plan layer and its output channels."""
    if isinstance(layer, ConvBN):
        return conv_bn(cin, layer), layer.cout
    if isinstance(layer, MaxPool):
        return nn.MaxPool2d(layer.kernel, layer.stride, layer.pad), cin
    if isinstance(layer, MBConv):
        return MBConvBlock(cin, layer), layer.cout
    if isinstance(layer, ResBlock):
        return ResidualBlock(cin, layer), layer.cout
    assert isinstance(layer, Classifier)
    return ClassifierHead(cin, layer.classes), layer.classes


def build_plan(plan: Plan, seed: int = 0) -> nn.Module:
    """The torch network of ``plan`` with seeded weights, in eval mode."""
    torch.manual_seed(seed)
    modules: list[nn.Module] = []
    channels = plan.input_shape[1]
    for layer in plan.layers:
        module, channels = module_for(channels, layer)
        modules.append(module)
    return randomize_batchnorm(nn.Sequential(*modules), seed=seed + 1)
