"""Write a search-space network straight into the graph IR (no torch, no ONNX).

:class:`IRWriter` wraps :class:`predictor.ir.builder.GraphBuilder` with one method per layer
kind; each emits exactly the canonical nodes that :func:`predictor.ir.ir_from_onnx` produces for
the same layer exported from torch (TorchScript exporter, Conv->BatchNorm folded into the conv's
bias), in the exporter's order, so ``space.to_ir(spec) == ir_from_onnx(space.to_onnx(spec))``.
Tensor specs and attribute dicts are cached by layer configuration: building thousands of
graphs for a search job allocates little beyond the nodes themselves.
"""

from __future__ import annotations

from functools import lru_cache

from predictor.ir.builder import GraphBuilder, TensorRef
from predictor.ir.schema import AttrValue, DType, GraphIR, TensorSpec

Attrs = dict[str, AttrValue]


@lru_cache(maxsize=4096)
def tspec(shape: tuple[int, ...], dtype: DType = "float32") -> TensorSpec:
    """A cached :class:`TensorSpec` (they are immutable, so sharing is safe)."""
    return TensorSpec(shape, dtype)


@lru_cache(maxsize=1024)
def _conv_attrs(kernel: tuple[int, ...], stride: int, pad: int, groups: int) -> Attrs:
    rank = len(kernel)
    return {
        "dilations": (1,) * rank,
        "groups": groups,
        "kernel_shape": kernel,
        "pads": (pad,) * (2 * rank),
        "strides": (stride,) * rank,
    }


@lru_cache(maxsize=256)
def _pool_attrs(kernel: int, stride: int, pad: int, count_include_pad: bool | None) -> Attrs:
    attrs: Attrs = {
        "ceil_mode": 0,
        "kernel_shape": (kernel, kernel),
        "pads": (pad,) * 4,
        "strides": (stride, stride),
    }
    if count_include_pad is not None:
        attrs["count_include_pad"] = int(count_include_pad)
    return attrs


def conv_out(size: int, kernel: int, stride: int, pad: int) -> int:
    """Spatial output size of a convolution or pooling window."""
    return (size + 2 * pad - kernel) // stride + 1


class IRWriter:
    """Emits canonical IR nodes layer by layer; :meth:`finish` returns the :class:`GraphIR`."""

    def __init__(self, name: str, input_shape: tuple[int, ...], dtype: DType = "float32") -> None:
        self.builder = GraphBuilder(name)
        self.input = self.builder.add_input(input_shape, dtype)
        self._shape: dict[TensorRef, tuple[int, ...]] = {self.input: tuple(input_shape)}

    def shape(self, x: TensorRef) -> tuple[int, ...]:
        """Shape of tensor ``x``."""
        return self._shape[x]

    def node(
        self,
        op: str,
        inputs: tuple[TensorRef, ...],
        out_shape: tuple[int, ...],
        weights: tuple[TensorSpec, ...] = (),
        attrs: Attrs | None = None,
        dtype: DType = "float32",
    ) -> TensorRef:
        """Add one single-output node and return its output."""
        (out,) = self.builder.add_node(
            op, inputs, (tspec(out_shape, dtype),), weights=weights, attrs=attrs, dtype=None
        )
        self._shape[out] = out_shape
        return out

    def finish(self, outputs: tuple[TensorRef, ...]) -> GraphIR:
        """Mark ``outputs`` and build the IR."""
        for out in outputs:
            self.builder.mark_output(out)
        return self.builder.build()

    # -- convolution family ---------------------------------------------------------------
    def conv(
        self,
        x: TensorRef,
        cout: int,
        kernel: int,
        stride: int = 1,
        groups: int = 1,
        bias: bool = True,
        pad: int | None = None,
    ) -> TensorRef:
        """2-D convolution, square kernel, ``pad`` defaulting to ``kernel // 2``."""
        n, cin, h, w = self._shape[x]
        p = kernel // 2 if pad is None else pad
        out = (n, cout, conv_out(h, kernel, stride, p), conv_out(w, kernel, stride, p))
        weights: tuple[TensorSpec, ...] = (tspec((cout, cin // groups, kernel, kernel)),)
        if bias:
            weights = (*weights, tspec((cout,)))
        return self.node(
            "Conv", (x,), out, weights, _conv_attrs((kernel, kernel), stride, p, groups)
        )

    def batchnorm(self, x: TensorRef) -> TensorRef:
        """A BatchNormalization not folded into a conv (scale, bias, mean, var)."""
        c = tspec((self._shape[x][1],))
        return self.node("BatchNormalization", (x,), self._shape[x], (c, c, c, c))

    def avgpool(
        self, x: TensorRef, kernel: int, stride: int, pad: int, count_include_pad: bool
    ) -> TensorRef:
        """AveragePool with a square window."""
        n, c, h, w = self._shape[x]
        out = (n, c, conv_out(h, kernel, stride, pad), conv_out(w, kernel, stride, pad))
        attrs = _pool_attrs(kernel, stride, pad, count_include_pad)
        return self.node("AveragePool", (x,), out, attrs=attrs)

    def global_avgpool(self, x: TensorRef) -> TensorRef:
        """Global average pool to ``[N, C, 1, 1]``."""
        n, c = self._shape[x][:2]
        return self.node("GlobalAveragePool", (x,), (n, c, 1, 1))

    def flatten(self, x: TensorRef) -> TensorRef:
        """Flatten ``[N, C, 1, 1]`` (or any) to ``[N, rest]``."""
        shape = self._shape[x]
        rest = 1
        for d in shape[1:]:
            rest *= d
        return self.node("Flatten", (x,), (shape[0], rest), attrs={"axis": 1})

    def linear(self, x: TensorRef, out_features: int, bias: bool = True) -> TensorRef:
        """A 2-D linear layer (``Gemm``, weight ``[out, in]``)."""
        n, k = self._shape[x]
        weights: tuple[TensorSpec, ...] = (tspec((out_features, k)),)
        if bias:
            weights = (*weights, tspec((out_features,)))
        return self.node("Gemm", (x,), (n, out_features), weights, {"transB": 1})

    # -- elementwise ----------------------------------------------------------------------
    def unary(self, op: str, x: TensorRef, attrs: Attrs | None = None) -> TensorRef:
        """An elementwise op with one input (Relu, Sigmoid, HardSwish, ...)."""
        return self.node(op, (x,), self._shape[x], attrs=attrs)

    def relu(self, x: TensorRef) -> TensorRef:
        """ReLU."""
        return self.node("Relu", (x,), self._shape[x])

    def binary(self, op: str, a: TensorRef, b: TensorRef) -> TensorRef:
        """Elementwise op of two activations with numpy broadcasting."""
        sa, sb = self._shape[a], self._shape[b]
        out = _broadcast(sa, sb)
        return self.node(op, (a, b), out)

    def add(self, a: TensorRef, b: TensorRef) -> TensorRef:
        """Elementwise sum."""
        return self.binary("Add", a, b)

    def scalar(self, op: str, x: TensorRef, dtype: DType = "float32") -> TensorRef:
        """Elementwise op of an activation and a constant scalar operand."""
        return self.node(op, (x,), self._shape[x], (tspec((), dtype),))

    # -- data movement --------------------------------------------------------------------
    def reshape(self, x: TensorRef, shape: tuple[int, ...]) -> TensorRef:
        """Reshape to a fixed shape (the shape operand is a constant)."""
        return self.node("Reshape", (x,), shape, (tspec((len(shape),), "int64"),))

    def transpose(self, x: TensorRef, perm: tuple[int, ...]) -> TensorRef:
        """Permute axes."""
        shape = self._shape[x]
        return self.node("Transpose", (x,), tuple(shape[p] for p in perm), attrs={"perm": perm})


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if a == b:
        return a
    rank = max(len(a), len(b))
    pa, pb = (1,) * (rank - len(a)) + a, (1,) * (rank - len(b)) + b
    return tuple(max(x, y) for x, y in zip(pa, pb, strict=True))
