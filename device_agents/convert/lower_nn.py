"""Lowering of the compute operators: Conv, Gemm / MatMul, pooling, global average pooling."""

from __future__ import annotations

import math

import numpy as np
import onnx

from device_agents.convert.context import LoweringContext


def _same_pads(size: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
    effective = dilation * (k - 1) + 1
    total = max((math.ceil(size / stride) - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def padding_mode(
    ctx: LoweringContext, node: onnx.NodeProto, hw: tuple[int, int], kernel: tuple[int, int]
) -> tuple[str, list[int]]:
    """Map ONNX padding to TFLite ``SAME``/``VALID`` (or ``VALID`` after explicit pads).

    Returns:
        ``(mode, pads)``: pads are ``[top, left, bottom, right]`` still to apply with a PAD op
        (all zero when the mode covers them).
    """
    strides = list(ctx.attr(node, "strides", [1, 1]))
    dilations = list(ctx.attr(node, "dilations", [1, 1]))
    auto_pad = ctx.attr(node, "auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
    if auto_pad == "VALID":
        return "VALID", [0, 0, 0, 0]
    if auto_pad == "SAME_UPPER":
        return "SAME", [0, 0, 0, 0]
    if auto_pad not in ("NOTSET", ""):
        raise ctx.unsupported(node, f"has auto_pad={auto_pad}")
    pads = list(ctx.attr(node, "pads", [0, 0, 0, 0]))
    if not any(pads):
        return "VALID", [0, 0, 0, 0]
    (th, bh), (tw, bw) = (_same_pads(hw[i], kernel[i], strides[i], dilations[i]) for i in range(2))
    if pads == [th, tw, bh, bw]:
        return "SAME", [0, 0, 0, 0]
    return "VALID", pads


def _explicit_pad(
    ctx: LoweringContext, node: onnx.NodeProto, src: str, pads: list[int], value: float = 0.0
) -> str:
    """PAD (zeros) or PADV2 (``value``, e.g. the lowest float before a max pool) of H and W."""
    n, h, w, c = ctx.graph.tensors[src].shape
    top, left, bottom, right = pads
    out = ctx.temp("pad", (n, h + top + bottom, w + left + right, c), node.input[0])
    paddings = np.array([[0, 0], [top, bottom], [left, right], [0, 0]], np.int32)
    inputs = [src, ctx.graph.const(ctx.fresh("paddings"), paddings, "int32")]
    if value == 0.0:
        ctx.emit(node, "PAD", inputs, [out])
        return out
    fill = ctx.graph.const(ctx.fresh("pad_value"), np.array([value], np.float32), "float32")
    ctx.emit(node, "PADV2", [*inputs, fill], [out])
    return out


def lower_conv(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    """Conv -> CONV_2D or DEPTHWISE_CONV_2D (with a fused Relu/ReLU6 when it follows)."""
    weight = ctx.const_value(node, 1)
    if weight is None or weight.ndim != 4:
        raise ctx.unsupported(node, "needs a constant 4-D weight (2-D convolution)")
    cout, cin_per_group, kh, kw = weight.shape
    group = int(ctx.attr(node, "group", 1))
    cin = cin_per_group * group
    depthwise = group > 1 and cin_per_group == 1 and group == cin
    if group > 1 and not depthwise:
        _grouped_conv(ctx, node, weight, group)
        return
    bias = ctx.const_value(node, 2)
    bias = np.zeros(cout, np.float32) if bias is None else bias.astype(np.float32)
    src = _padded_input(ctx, node, ctx.activation(node.input[0]), kh, kw)
    act, out_name = ctx.fuse_activation(node)
    _emit_conv(ctx, node, src, weight, bias, ctx.activation(out_name), act, depthwise)


def _padded_input(ctx: LoweringContext, node: onnx.NodeProto, src: str, kh: int, kw: int) -> str:
    _, h, w, _ = ctx.graph.tensors[src].shape
    _, pads = padding_mode(ctx, node, (h, w), (kh, kw))
    return _explicit_pad(ctx, node, src, pads) if any(pads) else src


def _emit_conv(
    ctx: LoweringContext,
    node: onnx.NodeProto,
    src: str,
    weight: np.ndarray,
    bias: np.ndarray,
    out: str,
    act: str,
    depthwise: bool,
) -> None:
    cout, _, kh, kw = weight.shape
    cin = ctx.graph.tensors[src].shape[3]
    _, h, w, _ = ctx.graph.tensors[ctx.activation(node.input[0])].shape
    mode, pads = padding_mode(ctx, node, (h, w), (kh, kw))
    mode = "VALID" if any(pads) else mode
    strides = list(ctx.attr(node, "strides", [1, 1]))
    dilations = list(ctx.attr(node, "dilations", [1, 1]))
    fields = {
        "Padding": mode,
        "StrideH": strides[0],
        "StrideW": strides[1],
        "DilationHFactor": dilations[0],
        "DilationWFactor": dilations[1],
        "FusedActivationFunction": act,
    }
    if depthwise:
        w_t = weight.transpose(1, 2, 3, 0)  # [1, kh, kw, cout]
        fields["DepthMultiplier"] = cout // cin
        opcode, options = "DEPTHWISE_CONV_2D", "DepthwiseConv2DOptions"
    else:
        w_t = weight.transpose(0, 2, 3, 1)  # [cout, kh, kw, cin]
        opcode, options = "CONV_2D", "Conv2DOptions"
    w_name = ctx.graph.const(ctx.fresh(f"{node.name}_weight"), np.ascontiguousarray(w_t))
    b_name = ctx.graph.const(ctx.fresh(f"{node.name}_bias"), bias)
    ctx.emit(node, opcode, [src, w_name, b_name], [out], (options, fields))


def _grouped_conv(
    ctx: LoweringContext, node: onnx.NodeProto, weight: np.ndarray, group: int
) -> None:
    """Grouped convolution -> SPLIT on channels, one CONV_2D per group, CONCATENATION."""
    cout, _, kh, kw = weight.shape
    bias = ctx.const_value(node, 2)
    bias = np.zeros(cout, np.float32) if bias is None else bias.astype(np.float32)
    src = _padded_input(ctx, node, ctx.activation(node.input[0]), kh, kw)
    n, h, w, cin = ctx.graph.tensors[src].shape
    parts = [ctx.temp("group_in", (n, h, w, cin // group), node.input[0]) for _ in range(group)]
    axis = ctx.graph.const(ctx.fresh("split_axis"), np.array(3, np.int32), "int32")
    ctx.emit(node, "SPLIT", [axis, src], parts, ("SplitOptions", {"NumSplits": group}))
    act, out_name = ctx.fuse_activation(node)
    out = ctx.activation(out_name)
    on, oh, ow, _ = ctx.graph.tensors[out].shape
    per = cout // group
    outs = []
    for g, part in enumerate(parts):
        piece = ctx.temp("group_out", (on, oh, ow, per), out_name)
        w_g, b_g = weight[g * per : (g + 1) * per], bias[g * per : (g + 1) * per]
        _emit_conv(ctx, node, part, w_g, b_g, piece, act, depthwise=False)
        outs.append(piece)
    options = ("ConcatenationOptions", {"Axis": 3, "FusedActivationFunction": "NONE"})
    ctx.emit(node, "CONCATENATION", outs, [out], options)


def lower_gemm(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    """Gemm / MatMul with a constant 2-D weight -> FULLY_CONNECTED."""
    weight = ctx.const_value(node, 1)
    if weight is None or weight.ndim != 2:
        raise ctx.unsupported(node, "needs a constant 2-D weight")
    if node.op_type == "Gemm":
        if ctx.attr(node, "transA", 0) or ctx.attr(node, "alpha", 1.0) != 1.0:
            raise ctx.unsupported(node, "has transA or alpha != 1")
        if ctx.attr(node, "beta", 1.0) != 1.0:
            raise ctx.unsupported(node, "has beta != 1")
        w_t = weight if ctx.attr(node, "transB", 0) else weight.T
        bias = ctx.const_value(node, 2)
    else:
        w_t, bias = weight.T, None
    if len(ctx.shape(node.input[0])) != 2:
        raise ctx.unsupported(node, "has an input of rank other than 2")
    out_features = w_t.shape[0]
    bias = np.zeros(out_features, np.float32) if bias is None else bias.reshape(-1)
    if bias.size != out_features:
        raise ctx.unsupported(node, "has a bias that is not one value per output")
    src = ctx.activation(node.input[0])
    act, out_name = ctx.fuse_activation(node)
    out = ctx.activation(out_name)
    w_name = ctx.graph.const(ctx.fresh(f"{node.name}_weight"), np.ascontiguousarray(w_t))
    b_name = ctx.graph.const(ctx.fresh(f"{node.name}_bias"), bias.astype(np.float32))
    options = ("FullyConnectedOptions", {"FusedActivationFunction": act})
    ctx.emit(node, "FULLY_CONNECTED", [src, w_name, b_name], [out], options)


def lower_pool(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    """MaxPool / AveragePool -> MAX_POOL_2D / AVERAGE_POOL_2D."""
    kernel = list(ctx.attr(node, "kernel_shape", []))
    if len(kernel) != 2 or ctx.attr(node, "ceil_mode", 0):
        raise ctx.unsupported(node, "is not a 2-D pool with ceil_mode=0")
    if list(ctx.attr(node, "dilations", [1, 1])) != [1, 1]:
        raise ctx.unsupported(node, "has dilations")
    src = ctx.activation(node.input[0])
    _, h, w, _ = ctx.graph.tensors[src].shape
    mode, pads = padding_mode(ctx, node, (h, w), (kernel[0], kernel[1]))
    include_pad = bool(ctx.attr(node, "count_include_pad", 0))
    if any(pads) and node.op_type == "MaxPool":
        src = _explicit_pad(ctx, node, src, pads, float(np.finfo(np.float32).min))
    elif any(pads) and include_pad:  # zeros counted in every window: exactly a VALID average
        src = _explicit_pad(ctx, node, src, pads)
    elif any(pads):
        raise ctx.unsupported(node, f"has padding {pads} that is neither SAME nor VALID")
    if node.op_type == "AveragePool" and mode == "SAME" and include_pad:
        raise ctx.unsupported(node, "has count_include_pad=1 with padding")
    strides = list(ctx.attr(node, "strides", [1, 1]))
    out = ctx.activation(node.output[0])
    fields = {
        "Padding": mode,
        "StrideH": strides[0],
        "StrideW": strides[1],
        "FilterHeight": kernel[0],
        "FilterWidth": kernel[1],
        "FusedActivationFunction": "NONE",
    }
    opcode = "MAX_POOL_2D" if node.op_type == "MaxPool" else "AVERAGE_POOL_2D"
    ctx.emit(node, opcode, [src], [out], ("Pool2DOptions", fields))


def lower_global_pool(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    """GlobalAveragePool, or ReduceMean over H and W -> MEAN over NHWC axes (1, 2)."""
    in_shape = ctx.shape(node.input[0])
    if len(in_shape) != 4:
        raise ctx.unsupported(node, "is not over a 4-D tensor")
    keepdims = 1
    if node.op_type == "ReduceMean":
        axes_v = ctx.const_value(node, 1)
        axes = list(axes_v) if axes_v is not None else list(ctx.attr(node, "axes", []))
        keepdims = int(ctx.attr(node, "keepdims", 1))
        if sorted(a % 4 for a in axes) != [2, 3]:
            raise ctx.unsupported(node, f"reduces axes {axes}, only the spatial axes (2, 3) are")
    src = ctx.activation(node.input[0])
    out = ctx.activation(node.output[0])
    axis = ctx.graph.const(ctx.fresh("axes"), np.array([1, 2], np.int32), "int32")
    ctx.emit(node, "MEAN", [src, axis], [out], ("ReducerOptions", {"KeepDims": bool(keepdims)}))
