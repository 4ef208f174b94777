"""More CNN layer descriptors for the zoo families, beside :mod:`predictor.spaces.plan`'s.

Grouped/shuffle units, dense layers, inception-style multi-branch blocks and ConvNeXt-style
blocks; each has an IR writer here and a torch module in :mod:`predictor.spaces.nets.zoo_layers`
emitting the same nodes in the same order. A :class:`ZooPlan` mixes these with the plan layers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from predictor.ir.schema import GraphIR
from predictor.spaces import plan as base
from predictor.spaces.irgraph import IRWriter, TensorRef, moves_only_unit_axes
from predictor.spaces.transformer_ir import layer_norm


@dataclass(frozen=True, slots=True)
class AvgPool:
    """Average pooling with a square window and no padding."""

    kernel: int
    stride: int


@dataclass(frozen=True, slots=True)
class ShuffleUnit:
    """ShuffleNet-v1-style unit: grouped 1x1 -> shuffle -> depthwise kxk -> grouped 1x1.

    Stride 1: ``relu(x + y)``; stride 2: ``relu(concat(avgpool3x3(x), y))`` with ``y`` making up
    the channels missing to ``cout``.
    """

    cout: int
    mid: int
    groups: int
    kernel: int
    stride: int


@dataclass(frozen=True, slots=True)
class DenseLayer:
    """DenseNet-style layer (post-activation): 1x1 to ``bottleneck`` -> kxk to ``growth`` ->
    concatenated to its input."""

    growth: int
    bottleneck: int
    kernel: int


@dataclass(frozen=True, slots=True)
class Inception:
    """Four branches concatenated: 1x1 | 1x1->kxk | 1x1->kxk->kxk | maxpool3x3->1x1."""

    b1: int
    b2_reduce: int
    b2: int
    b3_reduce: int
    b3: int
    pool_proj: int
    kernel: int


@dataclass(frozen=True, slots=True)
class ConvNeXtBlock:
    """Depthwise kxk -> channels-last LayerNorm -> Linear(expand x) -> GELU -> Linear, + x."""

    kernel: int
    expand: int


@dataclass(frozen=True, slots=True)
class ChannelNorm:
    """LayerNorm over the channels of an NCHW map (permute, LayerNorm, permute back)."""


@dataclass(frozen=True, slots=True)
class BiasConv:
    """A plain convolution with bias and no norm or activation (patchify stems, downsampling)."""

    cout: int
    kernel: int
    stride: int
    pad: int = 0


ZooLayer = (
    base.Layer
    | AvgPool
    | ShuffleUnit
    | DenseLayer
    | Inception
    | ConvNeXtBlock
    | ChannelNorm
    | BiasConv
)


@dataclass(frozen=True, slots=True)
class ZooPlan:
    """A whole CNN of plan and zoo layers: input shape ``(1, C, H, W)`` and layers in order."""

    input_shape: tuple[int, int, int, int]
    layers: tuple[ZooLayer, ...]


def permute(w: IRWriter, x: TensorRef, perm: tuple[int, ...]) -> TensorRef:
    """``x.permute(perm)`` as imported (a pure reshape when it moves only size-1 axes)."""
    shape = w.shape(x)
    if moves_only_unit_axes(shape, perm):
        return w.reshape(x, tuple(shape[p] for p in perm))
    return w.transpose(x, perm)


def concat(w: IRWriter, parts: tuple[TensorRef, ...], axis: int = 1) -> TensorRef:
    """Concatenate activations along ``axis``."""
    shapes = [w.shape(p) for p in parts]
    out = list(shapes[0])
    out[axis] = sum(s[axis] for s in shapes)
    return w.node("Concat", parts, tuple(out), attrs={"axis": axis})


def channel_shuffle(w: IRWriter, x: TensorRef, groups: int) -> TensorRef:
    """Reshape to ``(n, g, c/g, h, w)``, swap the group axes, reshape back."""
    if groups == 1:  # an identity chain of reshapes, which the importer drops
        return x
    n, c, h, wd = w.shape(x)
    y = w.reshape(x, (n, groups, c // groups, h, wd))
    return w.reshape(permute(w, y, (0, 2, 1, 3, 4)), (n, c, h, wd))


def _avg_pool(w: IRWriter, x: TensorRef, layer: AvgPool) -> TensorRef:
    return w.pool("AveragePool", x, layer.kernel, layer.stride)


def _shuffle_unit(w: IRWriter, x: TensorRef, layer: ShuffleUnit) -> TensorRef:
    cin = w.shape(x)[1]
    y = w.relu(w.conv(x, layer.mid, 1, groups=layer.groups))
    y = channel_shuffle(w, y, layer.groups)
    y = w.conv(y, layer.mid, layer.kernel, layer.stride, groups=layer.mid)
    if layer.stride == 1:
        return w.relu(w.add(w.conv(y, layer.cout, 1, groups=layer.groups), x))
    y = w.conv(y, layer.cout - cin, 1, groups=layer.groups)
    return w.relu(concat(w, (w.pool("AveragePool", x, 3, 2, 1), y)))


def _dense_layer(w: IRWriter, x: TensorRef, layer: DenseLayer) -> TensorRef:
    y = w.relu(w.conv(x, layer.bottleneck, 1))
    return concat(w, (x, w.relu(w.conv(y, layer.growth, layer.kernel))))


def _inception(w: IRWriter, x: TensorRef, layer: Inception) -> TensorRef:
    k = layer.kernel
    b1 = w.relu(w.conv(x, layer.b1, 1))
    b2 = w.relu(w.conv(w.relu(w.conv(x, layer.b2_reduce, 1)), layer.b2, k))
    b3 = w.relu(w.conv(x, layer.b3_reduce, 1))
    b3 = w.relu(w.conv(w.relu(w.conv(b3, layer.b3, k)), layer.b3, k))
    b4 = w.relu(w.conv(w.pool("MaxPool", x, 3, 1, 1), layer.pool_proj, 1))
    return concat(w, (b1, b2, b3, b4))


def _channel_norm(w: IRWriter, x: TensorRef, layer: ChannelNorm) -> TensorRef:
    return permute(w, layer_norm(w, permute(w, x, (0, 2, 3, 1))), (0, 3, 1, 2))


def _convnext(w: IRWriter, x: TensorRef, layer: ConvNeXtBlock) -> TensorRef:
    c = w.shape(x)[1]
    y = permute(w, w.conv(x, c, layer.kernel, groups=c), (0, 2, 3, 1))
    y = w.unary("Gelu", w.linear(layer_norm(w, y), c * layer.expand), {"approximate": "none"})
    return w.add(x, permute(w, w.linear(y, c), (0, 3, 1, 2)))


def _bias_conv(w: IRWriter, x: TensorRef, layer: BiasConv) -> TensorRef:
    return w.conv(x, layer.cout, layer.kernel, layer.stride, pad=layer.pad)


_WRITERS: dict[type, Callable[[IRWriter, TensorRef, Any], TensorRef]] = {
    AvgPool: _avg_pool,
    ShuffleUnit: _shuffle_unit,
    DenseLayer: _dense_layer,
    Inception: _inception,
    ConvNeXtBlock: _convnext,
    ChannelNorm: _channel_norm,
    BiasConv: _bias_conv,
}


def write_layer(w: IRWriter, x: TensorRef, layer: ZooLayer) -> TensorRef:
    """Write one plan or zoo layer."""
    if isinstance(
        layer, base.ConvBN | base.MaxPool | base.MBConv | base.ResBlock | base.Classifier
    ):
        return base.plan_to_ir_layer(w, x, layer)
    return _WRITERS[type(layer)](w, x, layer)


def zoo_plan_to_ir(plan: ZooPlan, name: str) -> GraphIR:
    """Write ``plan`` into the graph IR (conv->BN folded, as the exporters emit it)."""
    w = IRWriter(name, plan.input_shape)
    x = w.input
    for layer in plan.layers:
        x = write_layer(w, x, layer)
    return w.finish((x,))
