from __future__ import annotations

import csv
import gzip
import random

import pytest
import torch

from predictor.ir.onnx_import import ir_from_onnx
from predictor.spaces import InvalidSpecError, get_space
from predictor.spaces.datafiles import load_reference_archs
from predictor.spaces.fbnet import CHOICE_NAMES, LAYER_SHAPES, NUM_LAYERS, write_ir

from .conftest import MEASURED_DATA

SPACE = get_space("fbnet")


def test_layer_shapes_follow_the_stage_table() -> None:
    assert NUM_LAYERS == 22 == len(LAYER_SHAPES)
    assert LAYER_SHAPES[0] == (16, 16, 1)
    assert LAYER_SHAPES[1] == (16, 24, 1)
    assert LAYER_SHAPES[5] == (24, 32, 2)
    assert LAYER_SHAPES[-1] == (184, 352, 1)
    assert sum(stride == 2 for _, _, stride in LAYER_SHAPES) == 3


def test_skip_everywhere_keeps_only_channel_changing_convs() -> None:
    ir = SPACE.to_ir("8" * 22)
    # stem + 6 stage-entry 1x1 convs (channels or stride change) + head conv; no depthwise
    assert ir.op_counts["Conv"] == 1 + 6 + 1
    assert "Add" not in ir.op_counts


def test_grouped_choice_has_channel_shuffle() -> None:
    ir = SPACE.to_ir("1" + "8" * 21)
    assert ir.op_counts["Transpose"] == 1
    groups = [n.attr("groups") for n in ir.nodes if n.op_type == "Conv"]
    assert groups.count(2) == 2 and 16 in groups  # two grouped 1x1s, one depthwise


@pytest.mark.parametrize(
    ("arch", "fragment"),
    [("0" * 21, "expected 22"), ("0" * 21 + "9", "choice '9'"), (None, "22-digit")],
)
def test_invalid_arch_raises_typed_error(arch: object, fragment: str) -> None:
    with pytest.raises(InvalidSpecError) as info:
        SPACE.validate(arch)
    assert fragment in str(info.value)
    if "choice" in fragment:
        assert all(name in str(info.value) for name in CHOICE_NAMES)


def test_to_ir_equals_import_random_samples() -> None:
    rng = random.Random(99)
    archs = ["8" * 22, "0" * 22, "7" * 22, "5" * 22] + [SPACE.sample(rng) for _ in range(5)]
    for arch in archs:
        assert SPACE.to_ir(arch) == ir_from_onnx(SPACE.to_onnx(arch)), arch


def test_to_ir_equals_the_written_reference() -> None:
    rng = random.Random(31)
    archs = [c * NUM_LAYERS for c in "012345678"] + load_reference_archs()["fbnet"]
    archs += [SPACE.sample(rng) for _ in range(300)]
    for arch in archs:
        ir = SPACE.to_ir(arch)
        assert ir == write_ir(arch), arch
        assert ir.name == f"fbnet:{arch}"


def test_equal_nodes_are_one_shared_object() -> None:
    rng = random.Random(3)
    nodes = [n for _ in range(20) for n in SPACE.to_ir(SPACE.sample(rng)).nodes]
    assert len({id(n) for n in nodes}) == len(set(nodes)) < len(nodes) / 5


def test_forward_output_is_cifar100_logits() -> None:
    arch = SPACE.sample(random.Random(5))
    with torch.no_grad():
        out = SPACE.build(arch)(SPACE.example_input(arch))
    assert out.shape == (1, 100)


@pytest.mark.skipif(
    not (MEASURED_DATA / "fbnet_latency_ms.csv.gz").exists(),
    reason="measured tables not on this machine",
)
def test_measured_table_archs_decode_and_build() -> None:
    with gzip.open(MEASURED_DATA / "fbnet_latency_ms.csv.gz", "rt") as handle:
        archs = [row["arch"] for row in csv.DictReader(handle)]
    assert len(archs) == 5000
    for arch in archs[::250]:
        assert SPACE.to_ir(SPACE.decode(arch)).macs > 0
    model = SPACE.build(SPACE.decode(archs[0]))
    with torch.no_grad():
        assert model(SPACE.example_input(archs[0])).shape == (1, 100)
