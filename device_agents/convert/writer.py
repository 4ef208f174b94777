"""Serialise a lowered graph as a TFLite flatbuffer (schema code that ``ai-edge-litert`` ships)."""

from __future__ import annotations

from typing import Any

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as tflite
from ai_edge_litert.schema_py_generated import (
    ActivationFunctionType,
    BuiltinOperator,
    BuiltinOptions,
    Padding,
    TensorType,
)

from device_agents.convert.ir import Graph, Operator, Tensor

SCHEMA_VERSION = 3
_TYPES = {"float32": TensorType.FLOAT32, "int8": TensorType.INT8, "int32": TensorType.INT32}
_ENUMS = {"Padding": Padding, "FusedActivationFunction": ActivationFunctionType}


def _vector(b: flatbuffers.Builder, values: list[int] | np.ndarray, kind: str) -> int:
    prepend = {"int32": b.PrependInt32, "int64": b.PrependInt64, "float32": b.PrependFloat32}[kind]
    size = {"int32": 4, "int64": 8, "float32": 4}[kind]
    b.StartVector(size, len(values), size)
    for v in reversed(list(values)):
        prepend(v)
    return int(b.EndVector())


def _bytes(b: flatbuffers.Builder, data: bytes) -> int:
    b.StartVector(1, len(data), 16)  # 16-byte aligned tensor data (TFLM and XNNPACK like it)
    b.head -= len(data)
    b.Bytes[b.head : b.head + len(data)] = data
    return int(b.EndVector())


def _options(b: flatbuffers.Builder, name: str, fields: dict[str, Any]) -> int:
    module = tflite  # one flat module: ``<name>Start``, ``<name>Add<Field>``, ``<name>End``
    vectors = {k: _vector(b, v, "int32") for k, v in fields.items() if isinstance(v, list)}
    getattr(module, f"{name}Start")(b)
    for key, value in fields.items():
        if key in vectors:
            value = vectors[key]
        elif key in _ENUMS:
            value = getattr(_ENUMS[key], value)
        getattr(module, f"{name}Add{key}")(b, value)
    return int(getattr(module, f"{name}End")(b))


def _quant(b: flatbuffers.Builder, tensor: Tensor) -> int | None:
    if tensor.quant is None:
        return None
    scale = _vector(b, tensor.quant.scale.astype(np.float32), "float32")
    zero = _vector(b, tensor.quant.zero_point.astype(np.int64), "int64")
    tflite.QuantizationParametersStart(b)
    tflite.QuantizationParametersAddScale(b, scale)
    tflite.QuantizationParametersAddZeroPoint(b, zero)
    tflite.QuantizationParametersAddQuantizedDimension(b, tensor.quant.axis)
    return int(tflite.QuantizationParametersEnd(b))


def _tensor(b: flatbuffers.Builder, tensor: Tensor, buffer: int) -> int:
    name = b.CreateString(tensor.name)
    shape = _vector(b, list(tensor.shape), "int32")
    quant = _quant(b, tensor)
    tflite.TensorStart(b)
    tflite.TensorAddShape(b, shape)
    tflite.TensorAddType(b, _TYPES[tensor.dtype])
    tflite.TensorAddBuffer(b, buffer)
    tflite.TensorAddName(b, name)
    if quant is not None:
        tflite.TensorAddQuantization(b, quant)
    return int(tflite.TensorEnd(b))


def _operator(b: flatbuffers.Builder, op: Operator, index: dict[str, int], code: int) -> int:
    inputs = _vector(b, [index[n] for n in op.inputs], "int32")
    outputs = _vector(b, [index[n] for n in op.outputs], "int32")
    options = _options(b, *op.options) if op.options else None
    tflite.OperatorStart(b)
    tflite.OperatorAddOpcodeIndex(b, code)
    tflite.OperatorAddInputs(b, inputs)
    tflite.OperatorAddOutputs(b, outputs)
    if op.options and options is not None:
        tflite.OperatorAddBuiltinOptionsType(b, getattr(BuiltinOptions, op.options[0]))
        tflite.OperatorAddBuiltinOptions(b, options)
    return int(tflite.OperatorEnd(b))


def _table_vector(b: flatbuffers.Builder, offsets: list[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return int(b.EndVector())


def _opcodes(b: flatbuffers.Builder, opcodes: list[str]) -> int:
    offsets = []
    for opcode in opcodes:
        code = getattr(BuiltinOperator, opcode)
        tflite.OperatorCodeStart(b)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))
        tflite.OperatorCodeAddBuiltinCode(b, code)
        tflite.OperatorCodeAddVersion(b, 1)
        offsets.append(tflite.OperatorCodeEnd(b))
    return _table_vector(b, offsets)


def _buffers(b: flatbuffers.Builder, graph: Graph, names: list[str]) -> tuple[int, dict[str, int]]:
    """Write one buffer per constant (buffer 0 is the empty sentinel); return the vector and the
    buffer index of each constant tensor."""
    dtypes = {"float32": np.float32, "int8": np.int8, "int32": np.int32}
    payloads: list[bytes] = [b""]
    buffer_of: dict[str, int] = {}
    for name in names:
        tensor = graph.tensors[name]
        if tensor.data is not None:
            buffer_of[name] = len(payloads)
            payloads.append(np.ascontiguousarray(tensor.data, dtypes[tensor.dtype]).tobytes())
    offsets = []
    for raw in payloads:
        data = _bytes(b, raw) if raw else None
        tflite.BufferStart(b)
        if data is not None:
            tflite.BufferAddData(b, data)
        offsets.append(tflite.BufferEnd(b))
    return _table_vector(b, offsets), buffer_of


def _subgraph(b: flatbuffers.Builder, graph: Graph, tensors: list[int], ops: list[int]) -> int:
    index = {n: i for i, n in enumerate(graph.tensors)}
    tensors_vec, ops_vec = _table_vector(b, tensors), _table_vector(b, ops)
    inputs = _vector(b, [index[n] for n in graph.inputs], "int32")
    outputs = _vector(b, [index[n] for n in graph.outputs], "int32")
    name = b.CreateString("main")
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, tensors_vec)
    tflite.SubGraphAddInputs(b, inputs)
    tflite.SubGraphAddOutputs(b, outputs)
    tflite.SubGraphAddOperators(b, ops_vec)
    tflite.SubGraphAddName(b, name)
    return int(tflite.SubGraphEnd(b))


def write_tflite(graph: Graph, description: str = "perfloop onnx->tflite") -> bytes:
    """Serialise ``graph`` (constants already in their final dtype) to TFLite flatbuffer bytes."""
    b = flatbuffers.Builder(1 << 16)
    names = list(graph.tensors)
    index = {n: i for i, n in enumerate(names)}
    buffers_vec, buffer_of = _buffers(b, graph, names)
    opcodes = sorted(
        {op.opcode for op in graph.operators}, key=lambda o: getattr(BuiltinOperator, o)
    )
    code_index = {o: i for i, o in enumerate(opcodes)}
    tensors = [_tensor(b, graph.tensors[n], buffer_of.get(n, 0)) for n in names]
    ops = [_operator(b, op, index, code_index[op.opcode]) for op in graph.operators]
    subgraph = _subgraph(b, graph, tensors, ops)
    codes_vec, subgraphs_vec = _opcodes(b, opcodes), _table_vector(b, [subgraph])
    desc = b.CreateString(description)
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, SCHEMA_VERSION)
    tflite.ModelAddOperatorCodes(b, codes_vec)
    tflite.ModelAddSubgraphs(b, subgraphs_vec)
    tflite.ModelAddDescription(b, desc)
    tflite.ModelAddBuffers(b, buffers_vec)
    b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())
