from __future__ import annotations

import csv
import gzip
import random

import pytest
import torch

from predictor.ir.onnx_import import ir_from_onnx
from predictor.spaces import InvalidSpecError
from predictor.spaces.datafiles import load_reference_archs
from predictor.spaces.nasbench201 import (
    OPS,
    NasBench201,
    format_arch,
    live_edges,
    parse_arch,
    write_ir,
)

from .conftest import MEASURED_DATA

SPACE = NasBench201()
ALL_CONV3 = format_arch(("nor_conv_3x3",) * 6)
EDGE_CASES = [
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",  # every cell output is zero
    "|skip_connect~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|",  # identity cells
    "|none~0|+|none~0|none~1|+|none~0|skip_connect~1|nor_conv_1x1~2|",  # output zero
    "|nor_conv_1x1~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|",
    "|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|avg_pool_3x3~2|",
    "|skip_connect~0|+|skip_connect~0|none~1|+|nor_conv_3x3~0|none~1|none~2|",  # final conv->BN
    ALL_CONV3,
]


def _hand_params(c: int = 16, cells: int = 5, classes: int = 10) -> tuple[int, int]:
    """Parameters of the all-3x3-conv network: (torch count, IR count with BN folded)."""
    torch_count = ir_count = 3 * c * 9  # stem conv
    torch_count += 2 * c  # stem BN (weight, bias)
    ir_count += c  # folded into the conv's bias
    for width in (c, 2 * c, 4 * c):
        conv = width * width * 9
        torch_count += cells * 6 * (conv + 2 * width)
        ir_count += cells * 6 * (conv + width)
        if width > c:  # residual reduction width/2 -> width before this stage
            half = width // 2
            convs = half * width * 9 + width * width * 9
            torch_count += convs + 2 * 2 * width + half * width
            ir_count += convs + 2 * width + half * width
    torch_count += 2 * 4 * c + 4 * c * classes + classes  # last BN, classifier
    ir_count += 4 * 4 * c + 4 * c * classes + classes  # unfolded BN keeps its 4 vectors
    return torch_count, ir_count


def test_param_count_matches_hand_computation() -> None:
    torch_count, ir_count = _hand_params()
    assert torch_count == 1_531_546  # NAS-Bench-201's published size of this cell
    model = SPACE.build(ALL_CONV3)
    assert sum(p.numel() for p in model.parameters()) == torch_count
    assert SPACE.to_ir(ALL_CONV3).params == ir_count


def test_all_archs_enumerated_and_round_trip() -> None:
    archs = SPACE.all_archs()
    assert len(archs) == len(set(archs)) == 15_625
    for arch in archs[::997]:
        assert format_arch(parse_arch(arch)) == arch
        assert SPACE.decode(SPACE.encode(arch)) == arch


def test_live_edges_prune_zero_and_dead_end_nodes() -> None:
    edges, live = live_edges(EDGE_CASES[3])
    assert live
    # node 2 feeds nothing, so its two pooling edges are dropped
    assert edges == ((1, 0, "nor_conv_1x1"), (3, 0, "skip_connect"), (3, 1, "nor_conv_1x1"))
    assert live_edges(EDGE_CASES[0]) == ((), False)


@pytest.mark.parametrize(
    ("arch", "fragment"),
    [
        ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "'conv'"),
        ("|none~0|+|none~0|none~1|", "3 '+'-separated"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "~0"),
        (42, "arch string"),
    ],
)
def test_invalid_arch_raises_typed_error(arch: object, fragment: str) -> None:
    with pytest.raises(InvalidSpecError) as info:
        SPACE.validate(arch)
    assert fragment in str(info.value)
    if fragment == "'conv'":
        assert all(op in str(info.value) for op in OPS)


def test_zero_cell_is_mul_by_zero_and_runs() -> None:
    ir = SPACE.to_ir(EDGE_CASES[0])
    assert ir.op_counts["Mul"] == 15
    with torch.no_grad():
        out = SPACE.build(EDGE_CASES[0])(SPACE.example_input(EDGE_CASES[0]))
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("arch", EDGE_CASES)
def test_to_ir_equals_import_edge_cases(arch: str) -> None:
    assert SPACE.to_ir(arch) == ir_from_onnx(SPACE.to_onnx(arch))


def test_to_ir_equals_import_random_samples() -> None:
    rng = random.Random(2024)
    for _ in range(8):
        arch = SPACE.sample(rng)
        assert SPACE.to_ir(arch) == ir_from_onnx(SPACE.to_onnx(arch)), arch


def test_to_ir_equals_the_written_reference() -> None:
    archs = EDGE_CASES + load_reference_archs()["nasbench201"] + SPACE.all_archs()[::37]
    for arch in archs:
        ir = SPACE.to_ir(arch)
        assert ir == write_ir(arch), arch
        assert ir.name == f"nasbench201:{arch}"


def test_equal_nodes_are_one_shared_object() -> None:
    rng = random.Random(3)
    nodes = [n for _ in range(20) for n in SPACE.to_ir(SPACE.sample(rng)).nodes]
    assert len({id(n) for n in nodes}) == len(set(nodes)) < len(nodes) / 5


def test_macs_spread_and_order() -> None:
    small = SPACE.to_ir(EDGE_CASES[1]).macs
    large = SPACE.to_ir(ALL_CONV3).macs
    assert small < 20e6 < 200e6 < large < 250e6  # NB201 spans roughly 8M..220M MACs


@pytest.mark.skipif(
    not (MEASURED_DATA / "nasbench201_latency_ms.csv.gz").exists(),
    reason="measured tables not on this machine",
)
def test_measured_table_archs_decode_and_build() -> None:
    with gzip.open(MEASURED_DATA / "nasbench201_latency_ms.csv.gz", "rt") as handle:
        archs = [row["arch"] for row in csv.DictReader(handle)]
    assert set(archs) == set(SPACE.all_archs())
    for arch in archs[::500]:
        assert SPACE.to_ir(SPACE.decode(arch)).macs > 0
    model = SPACE.build(SPACE.decode(archs[0]))
    with torch.no_grad():
        assert model(SPACE.example_input(archs[0])).shape == (1, 10)
