from __future__ import annotations

import json
import random

import pytest

from predictor.spaces import SPACES, get_space
from predictor.spaces.datafiles import (
    DATA_DIR,
    REFERENCE_FILE,
    build_reference_archs,
    load_reference_archs,
    read_measured_archs,
    select_by_macs,
)
from predictor.spaces.tokens import position_tokens

from .conftest import MEASURED_DATA


@pytest.mark.parametrize("name", SPACES)
def test_manifest_file_matches_code(name: str) -> None:
    on_disk = json.loads((DATA_DIR / f"{name}.json").read_text())
    assert on_disk == json.loads(json.dumps(get_space(name).manifest()))


def test_reference_archs_are_valid_and_spread() -> None:
    document = json.loads((DATA_DIR / REFERENCE_FILE).read_text())
    references = load_reference_archs()
    assert set(references) == set(SPACES)
    for name, specs in references.items():
        space = get_space(name)
        expected = 10 if name in ("nasbench201", "fbnet") else 3
        assert len(specs) == expected
        macs = [space.to_ir(spec).macs for spec in specs]
        assert macs == [a["macs"] for a in document["spaces"][name]["archs"]]
        assert macs == sorted(macs) and len(set(macs)) == len(macs)
        assert document["spaces"][name]["method"]


def test_select_by_macs_takes_extremes_and_dedupes() -> None:
    space = get_space("nasbench201")
    rng = random.Random(3)
    candidates = [space.sample(rng) for _ in range(60)]
    chosen = select_by_macs(space, candidates, (0.0, 0.5, 1.0))
    macs = sorted({space.to_ir(c).macs for c in candidates})
    assert [space.to_ir(c).macs for c in chosen] == [
        macs[0],
        macs[round(0.5 * (len(macs) - 1))],
        macs[-1],
    ]


POOLS = "|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|"


def test_select_by_macs_breaks_mac_ties_towards_unseen_choices() -> None:
    space = get_space("nasbench201")
    all_pools = POOLS + "avg_pool_3x3~2|"
    one_conv_pools = POOLS + "nor_conv_1x1~2|"  # sorts first among the one-conv cells below
    one_conv_cheap = (
        "|skip_connect~0|+|none~0|skip_connect~1|+|none~0|skip_connect~1|nor_conv_1x1~2|"
    )
    assert space.to_ir(one_conv_pools).macs == space.to_ir(one_conv_cheap).macs
    chosen = select_by_macs(space, [one_conv_pools, all_pools, one_conv_cheap], (0.0, 1.0))
    # the second pick adds 6 unseen (edge, op) pairs, the pooling cell only 1
    assert chosen == [all_pools, one_conv_cheap]
    alone = select_by_macs(space, [one_conv_cheap, one_conv_pools], (0.0,))
    assert alone == [one_conv_pools]  # nothing chosen yet: a tie, the first encoding wins


def test_nasbench201_references_cover_every_op() -> None:
    ops = {op for arch in load_reference_archs()["nasbench201"] for op in position_tokens(arch)}
    assert ops == set(get_space("nasbench201").manifest()["ops"])


@pytest.mark.skipif(
    not (MEASURED_DATA / "fbnet_latency_ms.csv.gz").exists(),
    reason="measured tables not on this machine",
)
def test_fbnet_references_have_measured_latencies() -> None:
    measured = set(read_measured_archs(MEASURED_DATA / "fbnet_latency_ms.csv.gz"))
    assert set(load_reference_archs()["fbnet"]) <= measured


@pytest.mark.skipif(
    not (MEASURED_DATA / "fbnet_latency_ms.csv.gz").exists(),
    reason="measured tables not on this machine",
)
def test_reference_file_matches_the_builder() -> None:
    on_disk = json.loads((DATA_DIR / REFERENCE_FILE).read_text())
    assert on_disk == json.loads(json.dumps(build_reference_archs(MEASURED_DATA)))
