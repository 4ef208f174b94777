"""Cost rules of single operators, checked against hand-computed counts."""

from __future__ import annotations

import pytest

from predictor.ir.costs import KNOWN_OPS, is_known_op, node_cost
from predictor.ir.schema import TensorSpec as T


def test_conv_macs_and_bias_flops() -> None:
    cost = node_cost(
        "Conv",
        {"kernel_shape": (3, 3), "groups": 1},
        (T((2, 3, 8, 8)),),
        (T((2, 16, 8, 8)),),
        (T((16, 3, 3, 3)), T((16,))),
    )
    assert cost.macs == 2 * 16 * 8 * 8 * 3 * 9
    assert cost.flops == 2 * cost.macs + 2 * 16 * 8 * 8


def test_depthwise_conv_counts_one_input_channel_per_output() -> None:
    cost = node_cost(
        "Conv", {"groups": 32}, (T((1, 32, 10, 10)),), (T((1, 32, 5, 5)),), (T((32, 1, 3, 3)),)
    )
    assert cost.macs == 32 * 25 * 9
    assert cost.flops == 2 * cost.macs


def test_conv_without_weight_tensor_uses_attributes() -> None:
    cost = node_cost(
        "Conv",
        {"kernel_shape": (5,), "groups": 2},
        (T((1, 8, 20)),),
        (T((1, 4, 16)),),
        (),
    )
    assert cost.macs == 4 * 16 * 4 * 5


def test_conv_transpose_counts_per_input_element() -> None:
    cost = node_cost(
        "ConvTranspose", {}, (T((1, 8, 4, 4)),), (T((1, 4, 8, 8)),), (T((8, 4, 2, 2)),)
    )
    assert cost.macs == 8 * 16 * 4 * 4


def test_gemm_and_batched_matmul() -> None:
    gemm = node_cost("Gemm", {}, (T((4, 7, 10)),), (T((4, 7, 3)),), (T((3, 10)), T((3,))))
    assert gemm.macs == 4 * 7 * 3 * 10
    assert gemm.flops == 2 * gemm.macs + 4 * 7 * 3
    attn = node_cost("MatMul", {}, (T((2, 4, 9, 16)), T((2, 4, 16, 9))), (T((2, 4, 9, 9)),), ())
    assert attn.macs == 2 * 4 * 9 * 9 * 16


def test_einsum_multiplies_all_index_sizes() -> None:
    cost = node_cost(
        "Einsum", {"equation": "bij,bjk->bik"}, (T((2, 3, 4)), T((2, 4, 5))), (T((2, 3, 5)),), ()
    )
    assert cost.macs == 2 * 3 * 4 * 5


@pytest.mark.parametrize(("op", "gates"), [("LSTM", 4), ("GRU", 3), ("RNN", 1)])
def test_recurrent_cells_count_all_gates_steps_and_directions(op: str, gates: int) -> None:
    seq, batch, inp, hidden, dirs = 5, 2, 6, 7, 2
    cost = node_cost(
        op,
        {},
        (T((seq, batch, inp)),),
        (T((seq, dirs, batch, hidden)),),
        (T((dirs, gates * hidden, inp)), T((dirs, gates * hidden, hidden))),
    )
    assert cost.macs == seq * batch * dirs * gates * hidden * (inp + hidden)
    assert cost.flops > 2 * cost.macs


def test_elementwise_pooling_and_data_movement() -> None:
    x = (T((1, 4, 6, 6)),)
    assert node_cost("Relu", {}, x, x, ()).flops == 144
    assert node_cost("Relu", {}, x, x, ()).macs == 0
    pooled = (T((1, 4, 3, 3)),)
    assert node_cost("MaxPool", {"kernel_shape": (2, 2)}, x, pooled, ()).flops == 36 * 4
    assert node_cost("GlobalAveragePool", {}, x, (T((1, 4, 1, 1)),), ()).flops == 144
    assert node_cost("Transpose", {}, x, x, ()).flops == 0


def test_unknown_op_costs_nothing_and_is_not_known() -> None:
    x = (T((1, 4)),)
    assert node_cost("MyCustomOp", {}, x, x, ()).flops == 0
    assert not is_known_op("MyCustomOp")
    assert {"Conv", "Gemm", "MatMul", "LSTM", "Softmax", "Resize"} <= KNOWN_OPS


def test_degenerate_shapes_never_raise() -> None:
    empty = (T(()),)
    for op in sorted(KNOWN_OPS):
        cost = node_cost(op, {}, empty, empty, empty)
        assert cost.macs >= 0
        assert cost.flops >= 0


def test_matmul_with_constant_first_operand_contracts_its_last_dim() -> None:
    # W (6, 4) @ x (2, 4, 5) -> (2, 6, 5): K = 4
    cost = node_cost("MatMul", {"weight_first": 1}, (T((2, 4, 5)),), (T((2, 6, 5)),), (T((6, 4)),))
    assert cost.macs == 2 * 6 * 5 * 4
