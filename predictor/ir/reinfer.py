"""Second round of ONNX shape inference after constant folding.

Exporters compute reshape targets at run time (``Shape -> Slice -> Concat -> Reshape``); ONNX
shape inference cannot always see through that, but once those subgraphs are folded into
constants it can. Only small constants travel as initializers; big ones (weights) are declared
as inputs with their shape, which is all inference needs.
"""

from __future__ import annotations

import logging

import onnx
from onnx import numpy_helper, shape_inference

from predictor.ir.work_graph import OpNode, WorkGraph, numpy_dtype, value_spec

logger = logging.getLogger(__name__)

_SMALL_CONST = 4096
_DTYPE_TO_ONNX = {
    "float32": onnx.TensorProto.FLOAT,
    "float16": onnx.TensorProto.FLOAT16,
    "float64": onnx.TensorProto.DOUBLE,
    "int8": onnx.TensorProto.INT8,
    "uint8": onnx.TensorProto.UINT8,
    "int16": onnx.TensorProto.INT16,
    "int32": onnx.TensorProto.INT32,
    "int64": onnx.TensorProto.INT64,
    "bool": onnx.TensorProto.BOOL,
}


def missing_shapes(graph: WorkGraph) -> bool:
    """Whether some node output has no inferred shape."""
    return any(o and o not in graph.specs for n in graph.nodes for o in n.outputs)


def reinfer_shapes(graph: WorkGraph, opsets: list[onnx.OperatorSetIdProto]) -> None:
    """Re-run shape inference on the folded graph and record newly known shapes."""
    try:
        proto = _to_model(graph, opsets)
        if proto is None:
            return
        inferred = shape_inference.infer_shapes(proto, data_prop=True)
    except (onnx.shape_inference.InferenceError, RuntimeError, ValueError, TypeError) as exc:
        logger.debug("second shape inference failed: %s", exc)
        return
    for value in [*inferred.graph.value_info, *inferred.graph.output]:
        spec = value_spec(value)
        if spec is not None and value.name not in graph.specs:
            graph.specs[value.name] = spec


def _to_model(graph: WorkGraph, opsets: list[onnx.OperatorSetIdProto]) -> onnx.ModelProto | None:
    used = {v for n in graph.nodes for v in n.inputs if v}
    initializers, inputs = [], []
    for name in sorted(used & graph.consts.keys()):
        array = graph.consts[name]
        elem = _DTYPE_TO_ONNX.get(numpy_dtype(array))
        if elem is None:
            return None
        if array.size <= _SMALL_CONST:
            initializers.append(numpy_helper.from_array(array, name))
        else:
            inputs.append(onnx.helper.make_tensor_value_info(name, elem, list(array.shape)))
    for name in graph.inputs:
        spec = graph.specs.get(name)
        if spec is None or spec.dtype not in _DTYPE_TO_ONNX:
            return None
        inputs.append(
            onnx.helper.make_tensor_value_info(name, _DTYPE_TO_ONNX[spec.dtype], list(spec.shape))
        )
    nodes = [_node_proto(n) for n in graph.nodes]
    outputs = [onnx.helper.make_empty_tensor_value_info(o) for o in graph.outputs]
    body = onnx.helper.make_graph(nodes, "reinfer", inputs, outputs, initializers)
    return onnx.helper.make_model(body, opset_imports=list(opsets))


def _node_proto(node: OpNode) -> onnx.NodeProto:
    proto = onnx.helper.make_node(node.op, node.inputs, node.outputs, domain=node.domain)
    proto.attribute.extend(onnx.helper.make_attribute(k, v) for k, v in node.attrs.items())
    return proto
