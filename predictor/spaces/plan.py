"""Layer plans: the shared vocabulary of the CNN families (mobilenet, efficientnet, resnet, kws).

A space maps its spec to a :class:`Plan` (an input shape and a tuple of layer descriptors);
:mod:`predictor.spaces.nets.plan` turns a plan into a torch module and :func:`plan_to_ir` writes
the same network straight into the graph IR, node for node in the exporter's order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from predictor.ir.schema import GraphIR
from predictor.spaces.irgraph import IRWriter, TensorRef

Act = Literal["relu", "hswish", "swish", "none"]


@dataclass(frozen=True, slots=True)
class ConvBN:
    """Conv (no bias, padding ``kernel // 2``) -> BatchNorm -> activation."""

    cout: int
    kernel: tuple[int, int] = (3, 3)
    stride: tuple[int, int] = (1, 1)
    groups: int = 1
    act: Act = "relu"


@dataclass(frozen=True, slots=True)
class MaxPool:
    """Max pooling with a square window."""

    kernel: int
    stride: int
    pad: int


@dataclass(frozen=True, slots=True)
class MBConv:
    """Inverted residual: [1x1 expand] -> depthwise -> [squeeze-excite] -> 1x1 project (+ x).

    ``hidden == cin`` means no expansion conv; ``se == 0`` means no squeeze-excite.
    """

    cout: int
    hidden: int
    kernel: int
    stride: int
    act: Act
    se: int = 0
    se_act: Act = "relu"


@dataclass(frozen=True, slots=True)
class ResBlock:
    """ResNet basic (two 3x3) or bottleneck (1x1-3x3-1x1) block with projection shortcut."""

    kind: Literal["basic", "bottleneck"]
    mid: int
    cout: int
    stride: int


@dataclass(frozen=True, slots=True)
class Classifier:
    """Global average pool -> flatten -> Linear."""

    classes: int


Layer = ConvBN | MaxPool | MBConv | ResBlock | Classifier


@dataclass(frozen=True, slots=True)
class Plan:
    """A whole CNN: input shape ``(1, C, H, W)`` and its layers in order."""

    input_shape: tuple[int, int, int, int]
    layers: tuple[Layer, ...]


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round channels to a multiple of ``divisor`` (MobileNet rule: never below 90%)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def plan_to_ir(plan: Plan, name: str) -> GraphIR:
    """Write ``plan`` into the graph IR (conv->BN folded, as the exporters emit it)."""
    w = IRWriter(name, plan.input_shape)
    x = w.input
    for layer in plan.layers:
        x = _LAYER_WRITERS[type(layer)](w, x, layer)
    return w.finish((x,))


def plan_to_ir_layer(w: IRWriter, x: TensorRef, layer: Layer) -> TensorRef:
    """Write one plan layer after ``x`` (for plans mixing in other layer kinds)."""
    return _LAYER_WRITERS[type(layer)](w, x, layer)


def act_ir(w: IRWriter, x: TensorRef, act: Act) -> TensorRef:
    """The exported form of an activation (SiLU is ``x * sigmoid(x)``)."""
    if act == "relu":
        return w.relu(x)
    if act == "hswish":
        return w.unary("HardSwish", x)
    if act == "swish":
        return w.binary("Mul", x, w.unary("Sigmoid", x))
    return x


def _conv_bn(w: IRWriter, x: TensorRef, layer: ConvBN) -> TensorRef:
    y = w.conv(x, layer.cout, layer.kernel, layer.stride, groups=layer.groups)
    return act_ir(w, y, layer.act)


def _max_pool(w: IRWriter, x: TensorRef, layer: MaxPool) -> TensorRef:
    return w.pool("MaxPool", x, layer.kernel, layer.stride, layer.pad)


def _mbconv(w: IRWriter, x: TensorRef, layer: MBConv) -> TensorRef:
    cin = w.shape(x)[1]
    y = x
    if layer.hidden != cin:
        y = act_ir(w, w.conv(y, layer.hidden, 1), layer.act)
    y = act_ir(
        w, w.conv(y, layer.hidden, layer.kernel, layer.stride, groups=layer.hidden), layer.act
    )
    if layer.se:
        s = act_ir(w, w.conv(w.global_avgpool(y), layer.se, 1), layer.se_act)
        y = w.binary("Mul", y, w.unary("Sigmoid", w.conv(s, layer.hidden, 1)))
    y = w.conv(y, layer.cout, 1)
    return w.add(y, x) if cin == layer.cout and layer.stride == 1 else y


def _res_block(w: IRWriter, x: TensorRef, layer: ResBlock) -> TensorRef:
    cin = w.shape(x)[1]
    if layer.kind == "basic":
        y = w.conv(w.relu(w.conv(x, layer.mid, 3, layer.stride)), layer.cout, 3)
    else:
        y = w.relu(w.conv(w.relu(w.conv(x, layer.mid, 1)), layer.mid, 3, layer.stride))
        y = w.conv(y, layer.cout, 1)
    if layer.stride != 1 or cin != layer.cout:
        x = w.conv(x, layer.cout, 1, layer.stride)
    return w.relu(w.add(y, x))


def _classifier(w: IRWriter, x: TensorRef, layer: Classifier) -> TensorRef:
    return w.linear(w.flatten(w.global_avgpool(x)), layer.classes)


_LAYER_WRITERS: dict[type, Callable[[IRWriter, TensorRef, Any], TensorRef]] = {
    ConvBN: _conv_bn,
    MaxPool: _max_pool,
    MBConv: _mbconv,
    ResBlock: _res_block,
    Classifier: _classifier,
}
