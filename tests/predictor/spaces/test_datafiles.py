from __future__ import annotations

import json
import random

import pytest

from predictor.spaces import SPACES, get_space
from predictor.spaces.datafiles import (
    DATA_DIR,
    REFERENCE_FILE,
    load_reference_archs,
    read_measured_archs,
    select_by_macs,
)

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


@pytest.mark.skipif(
    not (MEASURED_DATA / "fbnet_latency_ms.csv.gz").exists(),
    reason="measured tables not on this machine",
)
def test_fbnet_references_have_measured_latencies() -> None:
    measured = set(read_measured_archs(MEASURED_DATA / "fbnet_latency_ms.csv.gz"))
    assert set(load_reference_archs()["fbnet"]) <= measured
