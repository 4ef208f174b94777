"""The one typed, versioned graph IR of perfloop and the code that builds it."""

from predictor.ir.onnx_import import ir_from_onnx
from predictor.ir.schema import IR_VERSION, DType, GraphIR, Node, TensorSpec

__all__ = ["IR_VERSION", "DType", "GraphIR", "Node", "TensorSpec", "ir_from_onnx"]
