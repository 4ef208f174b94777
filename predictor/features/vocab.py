"""The fixed operator vocabulary of the featurizer (index 0 is "other")."""

from __future__ import annotations

#: Op types with their own one-hot slot; everything else maps to ``"other"`` (index 0).
OP_VOCAB: tuple[str, ...] = (
    "other",
    "Conv",
    "ConvTranspose",
    "Gemm",
    "MatMul",
    "Einsum",
    "BatchNormalization",
    "LayerNormalization",
    "InstanceNormalization",
    "Relu",
    "Clip",
    "LeakyRelu",
    "Sigmoid",
    "HardSigmoid",
    "HardSwish",
    "Tanh",
    "Gelu",
    "Softmax",
    "Add",
    "Mul",
    "Sub",
    "Div",
    "AveragePool",
    "MaxPool",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "ReduceMean",
    "Concat",
    "Split",
    "Slice",
    "Reshape",
    "Flatten",
    "Transpose",
    "Identity",
    "Pad",
    "Resize",
    "Gather",
    "LSTM",
    "GRU",
)
_INDEX: dict[str, int] = {op: i for i, op in enumerate(OP_VOCAB)}


def op_index(op_type: str) -> int:
    """Vocabulary index of ``op_type`` (0 for an op outside the vocabulary)."""
    return _INDEX.get(op_type, 0)
