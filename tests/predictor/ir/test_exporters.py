"""MAC counts against analytic formulas and IR equality across the two torch exporters."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable

import pytest
import torch

from predictor.errors import DynamicShapeError
from predictor.ir.onnx_import import ir_from_onnx

from .conftest import Exported
from .nets import SMALL_NETS, MobileNetV2, ResNet18, analytic_macs, export_onnx, randomize


def _close(value: int, expected: float, tolerance: float = 0.01) -> bool:
    return abs(value - expected) <= tolerance * expected


@pytest.mark.parametrize("name", sorted(SMALL_NETS))
def test_macs_match_analytic_count(name: str, exported: Callable[[str], Exported]) -> None:
    net = exported(name)
    expected = analytic_macs(net.model, net.x)
    graph = ir_from_onnx(net.torchscript)
    assert expected > 0
    assert _close(graph.macs, expected), (graph.macs, expected)
    assert graph.unknown_ops == ()


@pytest.mark.parametrize("name", sorted(SMALL_NETS))
def test_both_torch_exporters_give_equal_ir(name: str, exported: Callable[[str], Exported]) -> None:
    net = exported(name)
    from_torchscript = ir_from_onnx(net.torchscript)
    from_dynamo = ir_from_onnx(net.dynamo)
    assert [n.op_type for n in from_torchscript.nodes] == [n.op_type for n in from_dynamo.nodes]
    assert from_torchscript == from_dynamo


@pytest.mark.parametrize(
    ("factory", "reference_macs"),
    [(ResNet18, 1.82e9), (MobileNetV2, 0.30e9)],
    ids=["resnet18", "mobilenetv2"],
)
def test_reference_cnns_at_224(
    factory: Callable[[], torch.nn.Module], reference_macs: float
) -> None:
    torch.manual_seed(0)
    model = randomize(factory())
    x = torch.randn(1, 3, 224, 224)
    graph = ir_from_onnx(export_onnx(model, x, dynamo=False))
    assert _close(graph.macs, analytic_macs(model, x))
    assert _close(graph.macs, reference_macs, tolerance=0.02)
    assert graph.op_counts.get("BatchNormalization", 0) == 0  # folded into the convs
    assert graph.outputs[0].shape == (1, 1000)


def test_linear_weight_layout_is_canonical(exported: Callable[[str], Exported]) -> None:
    graph = ir_from_onnx(exported("mlp").dynamo)
    gemms = [n for n in graph.nodes if n.op_type == "Gemm"]
    assert [g.weights[0].shape for g in gemms] == [(48, 16), (16, 48)]
    assert [g.weights[1].shape for g in gemms] == [(48,), (16,)]


@pytest.mark.parametrize("name", ["manual_attention", "lstm_2x_bi", "mobilenetv2_64"])
def test_dynamic_batch_export_with_input_shapes_equals_static(
    name: str, exported: Callable[[str], Exported]
) -> None:
    net = exported(name)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net.model,
            (net.x,),
            buffer,  # type: ignore[arg-type]
            dynamo=False,
            input_names=["x"],
            dynamic_axes={"x": {0: "batch"}},
        )
    with pytest.raises(DynamicShapeError):
        ir_from_onnx(buffer.getvalue())
    dynamic = ir_from_onnx(buffer.getvalue(), input_shapes={"x": tuple(net.x.shape)})
    assert dynamic == ir_from_onnx(net.torchscript)
