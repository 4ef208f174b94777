"""ONNX -> graph IR: :func:`ir_from_onnx`.

Pipeline: load and validate (:mod:`predictor.ir.load`), fix input shapes, ONNX checker and
shape inference (``data_prop=True``), constant folding (:mod:`predictor.ir.fold`), quantisation
canonicalisation (:mod:`predictor.ir.quantized`), exporter canonicalisation
(:mod:`predictor.ir.canonicalize`), canonical attributes (:mod:`predictor.ir.attrs`), then every
node goes through :class:`predictor.ir.builder.GraphBuilder`.

The two torch exporters (TorchScript ``dynamo=False`` and ``torch.export`` ``dynamo=True``) give
equal IRs for the same network. BatchNorm: both exporters fold an eval-mode BatchNorm that follows
a Conv into the Conv (checked with torch 2.13); the importer folds any remaining ``Conv ->
BatchNormalization`` pair the same way (and BN after an ungrouped ConvTranspose, which only the
dynamo exporter folds), so models exported in training mode or by other tools agree with them.

Weights are the constant data inputs of a node (initializers and folded constants, excluding
configuration inputs such as Reshape shapes or Slice bounds); a constant of one element is
recorded with shape ``()``. Operators outside the standard ONNX domain or without a cost rule
stay as generic nodes and are listed in ``GraphIR.unknown_ops``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

from predictor.errors import InvalidModelError, ModelLoadError
from predictor.ir.attrs import ATTRIBUTE_INPUTS, canonical_attrs
from predictor.ir.builder import GraphBuilder, TensorRef
from predictor.ir.canonicalize import canonicalize
from predictor.ir.fold import fold_constants
from predictor.ir.load import (
    DEFAULT_MAX_BYTES,
    ModelSource,
    check_and_infer,
    fix_input_shapes,
    read_model_bytes,
)
from predictor.ir.quantized import canonicalize_quantized
from predictor.ir.reinfer import missing_shapes, reinfer_shapes
from predictor.ir.schema import GraphIR, TensorSpec
from predictor.ir.work_graph import OpNode, WorkGraph, numpy_dtype, work_graph_from_onnx

logger = logging.getLogger(__name__)

_RENAMES = {"Upsample": "Resize"}
_REINFER_ROUNDS = 3


def ir_from_onnx(
    model: ModelSource,
    *,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> GraphIR:
    """Convert an ONNX model to the canonical graph IR.

    Args:
        model: serialized bytes, a path to a ``.onnx`` file, or a ``ModelProto`` (not modified).
        input_shapes: concrete shapes for inputs with dynamic dimensions, by input name.
        max_bytes: size limit of the serialized model.

    Returns:
        The canonical :class:`GraphIR` (equal across exporters for the same network).

    Raises:
        ModelLoadError: a subclass naming what is wrong (not ONNX, truncated, empty graph,
            external data, dynamic shape, too large, invalid graph).
    """
    proto = read_model_bytes(model, max_bytes)
    fix_input_shapes(proto, input_shapes)
    inferred = check_and_infer(proto)
    try:
        graph = work_graph_from_onnx(inferred)
        fold_constants(graph)
        canonicalize_quantized(graph)
        for _ in range(_REINFER_ROUNDS):
            if not missing_shapes(graph):
                break
            reinfer_shapes(graph, list(inferred.opset_import))
            fold_constants(graph)
        canonicalize(graph)
        return _emit(graph, inferred.graph.name)
    except ModelLoadError:
        raise
    except Exception as exc:  # a checked model that breaks a rewrite is invalid
        logger.debug("conversion failed", exc_info=True)
        raise InvalidModelError(
            f"model passed the ONNX checker but could not be converted: {type(exc).__name__}: "
            f"{str(exc)[:200]}"
        ) from exc


def _weight_spec(array: np.ndarray, stored: str | None) -> TensorSpec:
    shape = () if array.size == 1 else tuple(int(d) for d in array.shape)
    dtype = stored or numpy_dtype(array)
    return TensorSpec(shape, dtype)  # type: ignore[arg-type]


def _op_type(node: OpNode) -> str:
    if node.domain:
        return f"{node.domain}.{node.op}"
    return _RENAMES.get(node.op, node.op)


def _split_inputs(
    graph: WorkGraph, node: OpNode, refs: dict[str, TensorRef]
) -> tuple[list[TensorRef], list[TensorSpec]]:
    config = ATTRIBUTE_INPUTS.get(node.op, frozenset()) if not node.domain else frozenset()
    inputs: list[TensorRef] = []
    weights: list[TensorSpec] = []
    for index, value in enumerate(node.inputs):
        if not value:
            continue
        if value in refs:
            inputs.append(refs[value])
        elif graph.is_const(value) and index not in config:
            weights.append(_weight_spec(graph.consts[value], graph.stored_dtype.get(value)))
    return inputs, weights


def _check_operands(graph: WorkGraph, node: OpNode) -> None:
    """Reject contraction operators whose data and weight disagree (ONNX inference does not).

    Raises:
        InvalidModelError: naming the node and both shapes.
    """
    if node.domain or node.op not in ("Conv", "Gemm") or len(node.inputs) < 2:
        return
    if not graph.is_const(node.inputs[1]):
        return
    data, weight = graph.shape(node.inputs[0]), graph.shape(node.inputs[1])
    if not data or not weight or len(weight) < 2 or node.attrs.get("transA"):
        return
    if node.op == "Conv":
        ok = len(data) > 1 and data[1] == weight[1] * int(node.attrs.get("group", 1))
    else:
        ok = data[-1] == weight[1]
    if not ok:
        raise InvalidModelError(
            f"{node.op} node {node.name!r}: input shape {list(data)} does not match "
            f"weight shape {list(weight)}"
        )


def _emit(graph: WorkGraph, name: str) -> GraphIR:
    builder = GraphBuilder(name)
    refs: dict[str, TensorRef] = {}
    for value in graph.inputs:
        spec = graph.specs.get(value, TensorSpec(()))
        refs[value] = builder.add_input(spec.shape, spec.dtype)
    for node in graph.nodes:
        _check_operands(graph, node)
        inputs, weights = _split_inputs(graph, node, refs)
        outputs = [o for o in node.outputs if o]
        specs = [graph.specs.get(o, TensorSpec(())) for o in outputs]
        out_refs = builder.add_node(
            _op_type(node),
            inputs,
            specs,
            weights=weights,
            attrs=canonical_attrs(graph, node),
            dtype="int8" if node.quantized else None,
            name=node.name,
        )
        refs.update(zip(outputs, out_refs, strict=True))
    for value in graph.outputs:
        if value in refs:
            builder.mark_output(refs[value])
    return builder.build()
