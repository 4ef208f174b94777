"""Lowering of element-wise, activation and data-movement operators."""

from __future__ import annotations

import numpy as np
import onnx

from device_agents.convert.context import (
    NCHW_TO_NHWC,
    NHWC_TO_NCHW,
    LoweringContext,
    activation_kind,
    clip_bounds,
)

UNARY = {"Sigmoid": "LOGISTIC", "Tanh": "TANH", "HardSwish": "HARD_SWISH"}


def _const_operand(ctx: LoweringContext, node: onnx.NodeProto, value: np.ndarray, rank: int) -> str:
    """A constant operand of a binary op, laid out like the activation it meets (NHWC)."""
    value = value.astype(np.float32)
    if rank == 4 and value.ndim > 0:
        value = value.reshape((1,) * (4 - value.ndim) + value.shape).transpose(NCHW_TO_NHWC)
    return ctx.graph.const(ctx.fresh(f"{node.name}_const"), np.ascontiguousarray(value))


def lower_binary(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    """Add / Mul / Sub / Div (by a constant) -> ADD or MUL, with a fused Relu when it follows."""
    a_const, b_const = ctx.const_value(node, 0), ctx.const_value(node, 1)
    if a_const is not None and b_const is not None:
        raise ctx.unsupported(node, "has only constant inputs (not folded)")
    if a_const is not None and node.op_type in ("Sub", "Div"):
        raise ctx.unsupported(node, "has a constant first operand")
    act_input = node.input[1] if a_const is not None else node.input[0]
    rank = len(ctx.shape(node.output[0]))
    if len(ctx.shape(act_input)) != rank:
        raise ctx.unsupported(node, "broadcasts an activation across ranks")
    opcode = "ADD" if node.op_type in ("Add", "Sub") else "MUL"
    inputs: list[str] = []
    for i, value in enumerate((a_const, b_const)):
        if value is None:
            other = node.input[i]
            if len(ctx.shape(other)) != rank:
                raise ctx.unsupported(node, "broadcasts an activation across ranks")
            inputs.append(ctx.activation(other))
            continue
        value = -value if node.op_type == "Sub" else value
        value = 1.0 / value if node.op_type == "Div" else value
        inputs.append(_const_operand(ctx, node, value, rank))
    act, out_name = ctx.fuse_activation(node)
    options_name = "AddOptions" if opcode == "ADD" else "MulOptions"
    fields = {"FusedActivationFunction": act}
    ctx.emit(node, opcode, inputs, [ctx.activation(out_name)], (options_name, fields))


def lower_batchnorm(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    """BatchNormalization not folded into a Conv -> MUL and ADD by per-channel constants."""
    scale, bias, mean, var = (ctx.const_value(node, i) for i in range(1, 5))
    if scale is None or bias is None or mean is None or var is None:
        raise ctx.unsupported(node, "needs constant statistics")
    mul = scale / np.sqrt(var + float(ctx.attr(node, "epsilon", 1e-5)))
    add = bias - mean * mul
    rank = len(ctx.shape(node.input[0]))
    shape = (1, -1, 1, 1) if rank == 4 else (1, -1)
    src = ctx.activation(node.input[0])
    mid = ctx.temp("bn_mul", ctx.graph.tensors[src].shape, node.input[0])
    m = _const_operand(ctx, node, mul.reshape(shape), rank)
    ctx.emit(node, "MUL", [src, m], [mid], ("MulOptions", {"FusedActivationFunction": "NONE"}))
    a = _const_operand(ctx, node, add.reshape(shape), rank)
    act, out_name = ctx.fuse_activation(node)
    fields = {"FusedActivationFunction": act}
    ctx.emit(node, "ADD", [mid, a], [ctx.activation(out_name)], ("AddOptions", fields))


def lower_unary(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    """Relu, Clip (ReLU6 / ReLU / [-1, 1]), Sigmoid, Tanh, HardSwish."""
    if node.op_type in ("Relu", "Clip"):
        kind = activation_kind(ctx, node)
        if kind is None:
            raise ctx.unsupported(node, f"clips to {clip_bounds(ctx, node)}, not a ReLU form")
        opcode = kind
    else:
        opcode = UNARY[node.op_type]
    src = ctx.activation(node.input[0])
    ctx.emit(node, opcode, [src], [ctx.activation(node.output[0])])


def lower_hard_sigmoid(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    """HardSigmoid: ``x * HardSigmoid(x)`` (an inlined HardSwish) -> HARD_SWISH; otherwise
    ``relu6(6 alpha x + 6 beta) / 6`` as MUL, ADD (fused RELU6), MUL."""
    alpha, beta = float(ctx.attr(node, "alpha", 0.2)), float(ctx.attr(node, "beta", 0.5))
    users = ctx.producer_of_consumer.get(node.output[0], [])
    x = node.input[0]
    if (
        len(users) == 1
        and users[0].op_type == "Mul"
        and set(users[0].input) == {x, node.output[0]}
        and abs(alpha - 1 / 6) < 1e-6
        and abs(beta - 0.5) < 1e-6
    ):
        ctx.skip.add(users[0].output[0])
        ctx.emit(node, "HARD_SWISH", [ctx.activation(x)], [ctx.activation(users[0].output[0])])
        return
    src = ctx.activation(x)
    shape = ctx.graph.tensors[src].shape
    rank = len(shape)
    scaled = ctx.temp("hsig_scaled", shape, x)
    ctx.graph.tensors[scaled].source = None
    ctx.graph.tensors[scaled].known_range = _scaled_range(ctx, x, 6 * alpha)
    six_alpha = _const_operand(ctx, node, np.array(6 * alpha, np.float32), rank)
    none = {"FusedActivationFunction": "NONE"}
    ctx.emit(node, "MUL", [src, six_alpha], [scaled], ("MulOptions", none))
    clipped = ctx.temp("hsig_relu6", shape, x)
    ctx.graph.tensors[clipped].known_range = (0.0, 6.0)
    six_beta = _const_operand(ctx, node, np.array(6 * beta, np.float32), rank)
    relu6 = {"FusedActivationFunction": "RELU6"}
    ctx.emit(node, "ADD", [scaled, six_beta], [clipped], ("AddOptions", relu6))
    sixth = _const_operand(ctx, node, np.array(1 / 6, np.float32), rank)
    out = ctx.activation(node.output[0])
    ctx.emit(node, "MUL", [clipped, sixth], [out], ("MulOptions", none))


def _scaled_range(ctx: LoweringContext, name: str, factor: float) -> tuple[float, float] | None:
    lo, hi = ctx.ranges.get(name, (-8.0, 8.0))
    return (min(lo * factor, hi * factor), max(lo * factor, hi * factor))


def lower_softmax(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    """Softmax over the last (or, for NCHW 4-D, the channel) axis -> SOFTMAX."""
    rank = len(ctx.shape(node.input[0]))
    axis = int(ctx.attr(node, "axis", -1)) % rank
    if axis != (1 if rank == 4 else rank - 1):
        raise ctx.unsupported(node, f"is over axis {axis}, only the channel/last axis is")
    src = ctx.activation(node.input[0])
    options = ("SoftmaxOptions", {"Beta": 1.0})
    ctx.emit(node, "SOFTMAX", [src], [ctx.activation(node.output[0])], options)


def lower_reshape(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    """Reshape / Flatten / Squeeze / Unsqueeze -> RESHAPE (transposing around NCHW when needed)."""
    in_shape, out_shape = ctx.shape(node.input[0]), ctx.shape(node.output[0])
    src = ctx.activation(node.input[0])
    spatial_one = len(in_shape) == 4 and in_shape[2] == in_shape[3] == 1
    if len(in_shape) == 4 and not spatial_one:
        src = ctx.transpose(node, src, NHWC_TO_NCHW, node.input[0])
    out = ctx.activation(node.output[0])
    target = out_shape
    if len(out_shape) == 4 and not (out_shape[2] == out_shape[3] == 1):
        target_name = ctx.temp("reshape", out_shape, node.output[0])
        _emit_reshape(ctx, node, src, target_name, out_shape)
        nhwc = ctx.transpose(node, target_name, NCHW_TO_NHWC, node.output[0])
        ctx.graph.operators[-1].outputs = [out]
        del ctx.graph.tensors[nhwc]
        return
    if len(out_shape) == 4:
        target = ctx.graph.tensors[out].shape
    _emit_reshape(ctx, node, src, out, target)


def _emit_reshape(
    ctx: LoweringContext, node: onnx.NodeProto, src: str, out: str, shape: tuple[int, ...]
) -> None:
    shape_name = ctx.graph.const(ctx.fresh("shape"), np.array(shape, np.int32), "int32")
    options = ("ReshapeOptions", {"NewShape": list(shape)})
    ctx.emit(node, "RESHAPE", [src, shape_name], [out], options)


def lower_transpose(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    """Transpose -> TRANSPOSE (a 4-D permutation is rewritten for NHWC tensors)."""
    rank = len(ctx.shape(node.input[0]))
    perm = list(ctx.attr(node, "perm", list(reversed(range(rank)))))
    if rank == 4:
        perm = [NHWC_TO_NCHW[perm[NCHW_TO_NHWC[i]]] for i in range(4)]
    src = ctx.activation(node.input[0])
    perm_name = ctx.graph.const(ctx.fresh("perm"), np.array(perm, np.int32), "int32")
    ctx.emit(node, "TRANSPOSE", [src, perm_name], [ctx.activation(node.output[0])])


def lower_concat(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    """Concat of activations -> CONCATENATION (channel axis 1 becomes NHWC axis 3)."""
    rank = len(ctx.shape(node.output[0]))
    axis = int(ctx.attr(node, "axis", 0)) % rank
    if any(ctx.const_value(node, i) is not None for i in range(len(node.input))):
        raise ctx.unsupported(node, "concatenates a constant")
    if rank == 4:
        axis = NCHW_TO_NHWC.index(axis)
    inputs = [ctx.activation(i) for i in node.input]
    options = ("ConcatenationOptions", {"Axis": axis, "FusedActivationFunction": "NONE"})
    ctx.emit(node, "CONCATENATION", inputs, [ctx.activation(node.output[0])], options)


def lower_pad(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    """Constant zero Pad of a 4-D tensor's spatial dimensions -> PAD."""
    mode = ctx.attr(node, "mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    pads = ctx.const_value(node, 1)
    value = ctx.const_value(node, 2)
    if mode != "constant" or pads is None or (value is not None and float(value) != 0.0):
        raise ctx.unsupported(node, "is not a constant-zero pad with constant pads")
    if len(node.input) > 3 and node.input[3]:
        raise ctx.unsupported(node, "has axes")
    rank = len(ctx.shape(node.input[0]))
    pairs = np.array(pads, np.int64).reshape(2, rank).T
    if rank == 4:
        pairs = pairs[list(NCHW_TO_NHWC)]
    src = ctx.activation(node.input[0])
    paddings = ctx.graph.const(ctx.fresh("paddings"), pairs.astype(np.int32), "int32")
    ctx.emit(node, "PAD", [src, paddings], [ctx.activation(node.output[0])])
