"""The one typed, versioned graph IR of perfloop and the code that builds it."""

from predictor.ir.schema import IR_VERSION, DType, GraphIR, Node, TensorSpec

__all__ = ["IR_VERSION", "DType", "GraphIR", "Node", "TensorSpec"]
