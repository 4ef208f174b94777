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

from predictor.ir.builder import FrozenAttrs, GraphBuilder, TensorRef, freeze_attrs
from predictor.ir.fragments import Fragment
from predictor.ir.schema import AttrValue, DType, GraphIR, TensorSpec

Attrs = dict[str, AttrValue]


@lru_cache(maxsize=4096)
def tspec(shape: tuple[int, ...], dtype: DType = "float32") -> TensorSpec:
    """A cached :class:`TensorSpec` (they are immutable, so sharing is safe)."""
    return TensorSpec(shape, dtype)


@lru_cache(maxsize=1024)
def _conv_attrs(
    kernel: tuple[int, ...], stride: tuple[int, ...], pads: tuple[int, ...], groups: int
) -> FrozenAttrs:
    return freeze_attrs(
        {
            "dilations": (1,) * len(kernel),
            "groups": groups,
            "kernel_shape": kernel,
            "pads": pads,
            "strides": stride,
        }
    )


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else value


@lru_cache(maxsize=256)
def _pool_attrs(
    kernel: tuple[int, int], stride: tuple[int, int], pad: tuple[int, int]
) -> FrozenAttrs:
    return freeze_attrs({"kernel_shape": kernel, "pads": (*pad, *pad), "strides": stride})


def conv_out(size: int, kernel: int, stride: int, pad: int) -> int:
    """Spatial output size of a convolution or pooling window."""
    return (size + 2 * pad - kernel) // stride + 1


class IRWriter:
    """Emits canonical IR nodes layer by layer; :meth:`finish` returns the :class:`GraphIR`."""

    def __init__(self, name: str, input_shape: tuple[int, ...], dtype: DType = "float32") -> None:
        self.builder = GraphBuilder(name)
        self.input = self.builder.add_input(input_shape, dtype)
        self._shape: dict[TensorRef, tuple[int, ...]] = {self.input: tuple(input_shape)}
        self._memo: dict[tuple[object, ...], TensorRef] = {}
        self._op: dict[TensorRef, str] = {}

    def add_input(self, shape: tuple[int, ...], dtype: DType = "float32") -> TensorRef:
        """One more graph input after ``self.input`` (e.g. a decoder's KV cache)."""
        ref = self.builder.add_input(shape, dtype)
        self._shape[ref] = tuple(shape)
        return ref

    def shape(self, x: TensorRef) -> tuple[int, ...]:
        """Shape of tensor ``x``."""
        return self._shape[x]

    def producer_op(self, x: TensorRef) -> str | None:
        """Op type of the node that produced ``x`` (None for the graph input)."""
        return self._op.get(x)

    def node(
        self,
        op: str,
        inputs: tuple[TensorRef, ...],
        out_shape: tuple[int, ...],
        weights: tuple[TensorSpec, ...] = (),
        attrs: Attrs | FrozenAttrs | None = None,
        dtype: DType = "float32",
    ) -> TensorRef:
        """Add one single-output node and return its output.

        Weight-free nodes repeating an earlier node (same op, inputs and attributes) return
        the earlier output instead, as the TorchScript exporter's common-subexpression
        elimination does (e.g. one ``Relu`` shared by all conv edges leaving a NB201 node).
        """
        frozen = attrs if isinstance(attrs, tuple) else freeze_attrs(attrs) if attrs else ()
        key = None
        if not weights:
            key = (op, inputs, frozen)
            if key in self._memo:
                return self._memo[key]
        (out,) = self.builder.add_node(
            op, inputs, (tspec(out_shape, dtype),), weights=weights, attrs=frozen, dtype=None
        )
        self._shape[out] = out_shape
        self._op[out] = op
        if key is not None:
            self._memo[key] = out
        return out

    def finish(self, outputs: tuple[TensorRef, ...]) -> GraphIR:
        """Mark ``outputs`` and build the IR."""
        for out in outputs:
            self.builder.mark_output(out)
        return self.builder.build()

    def fragment(self, output: TensorRef) -> Fragment:
        """Freeze what was written as one link of a chain (see :class:`Fragment`)."""
        return self.builder.fragment(output)

    # -- convolution family ---------------------------------------------------------------
    def conv(
        self,
        x: TensorRef,
        cout: int,
        kernel: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        pad: int | tuple[int, int] | None = None,
    ) -> TensorRef:
        """2-D convolution; ``pad`` (symmetric, per axis) defaults to ``kernel // 2``."""
        n, cin, h, w = self._shape[x]
        kh, kw = _pair(kernel)
        sh, sw = _pair(stride)
        ph, pw = (kh // 2, kw // 2) if pad is None else _pair(pad)
        out = (n, cout, conv_out(h, kh, sh, ph), conv_out(w, kw, sw, pw))
        weights: tuple[TensorSpec, ...] = (tspec((cout, cin // groups, kh, kw)),)
        if bias:
            weights = (*weights, tspec((cout,)))
        attrs = _conv_attrs((kh, kw), (sh, sw), (ph, pw, ph, pw), groups)
        return self.node("Conv", (x,), out, weights, attrs)

    def batchnorm(self, x: TensorRef) -> TensorRef:
        """A BatchNormalization not folded into a conv (scale, bias, mean, var)."""
        c = tspec((self._shape[x][1],))
        return self.node("BatchNormalization", (x,), self._shape[x], (c, c, c, c))

    def pool(
        self,
        op: str,
        x: TensorRef,
        kernel: int | tuple[int, int],
        stride: int | tuple[int, int],
        pad: int | tuple[int, int] = 0,
    ) -> TensorRef:
        """``AveragePool`` or ``MaxPool`` (``count_include_pad`` is not part of the IR)."""
        n, c, h, w = self._shape[x]
        (kh, kw), (sh, sw), (ph, pw) = _pair(kernel), _pair(stride), _pair(pad)
        out = (n, c, conv_out(h, kh, sh, ph), conv_out(w, kw, sw, pw))
        return self.node(op, (x,), out, attrs=_pool_attrs((kh, kw), (sh, sw), (ph, pw)))

    def global_avgpool(self, x: TensorRef) -> TensorRef:
        """Global average pool to ``[N, C, 1, 1]``."""
        n, c = self._shape[x][:2]
        return self.node("GlobalAveragePool", (x,), (n, c, 1, 1))

    def flatten(self, x: TensorRef) -> TensorRef:
        """Flatten to ``[N, rest]`` (a canonical ``Reshape``)."""
        shape = self._shape[x]
        rest = 1
        for d in shape[1:]:
            rest *= d
        return self.reshape(x, (shape[0], rest))

    def linear(self, x: TensorRef, out_features: int, bias: bool = True) -> TensorRef:
        """A linear layer over the last axis (canonical ``Gemm``, weight ``[out, in]``)."""
        shape = self._shape[x]
        weights: tuple[TensorSpec, ...] = (tspec((out_features, shape[-1])),)
        if bias:
            weights = (*weights, tspec((out_features,)))
        return self.node("Gemm", (x,), (*shape[:-1], out_features), weights)

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
        """Reshape to a fixed shape (the target shape is configuration, not a weight).

        A reshape to the same shape is no node at all (the importer drops it).
        """
        if shape == self._shape[x]:
            return x
        return self.node("Reshape", (x,), shape)

    def transpose(self, x: TensorRef, perm: tuple[int, ...]) -> TensorRef:
        """Permute axes."""
        shape = self._shape[x]
        return self.node("Transpose", (x,), tuple(shape[p] for p in perm), attrs={"perm": perm})


def moves_only_unit_axes(shape: tuple[int, ...], perm: tuple[int, ...]) -> bool:
    """Whether a transpose keeps the order of all non-unit axes (so it is a pure reshape)."""
    kept = [p for p in perm if shape[p] != 1]
    return kept == sorted(kept)


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if a == b:
        return a
    rank = max(len(a), len(b))
    pa, pb = (1,) * (rank - len(a)) + a, (1,) * (rank - len(b)) + b
    return tuple(max(x, y) for x, y in zip(pa, pb, strict=True))
