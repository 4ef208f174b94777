"""The zoo sampler: seeded, interleaved, deduplicated, inside the MAC window, stable streams."""

from __future__ import annotations

import pytest

from predictor.spaces import UnknownSpaceError, get_space
from predictor.spaces.zoo import MAX_MACS, MIN_MACS, ZOO_FAMILIES, family_members, sample_zoo


def test_zoo_covers_the_issue_families() -> None:
    for family in ("plaincnn", "resnet", "mobilenet", "shufflenet", "densenet", "inception"):
        assert family in ZOO_FAMILIES
    for family in ("convnext", "vit", "hybrid", "swin", "audio1d", "rnn", "llm"):
        assert family in ZOO_FAMILIES
    assert "nasbench201" not in ZOO_FAMILIES and "fbnet" not in ZOO_FAMILIES


def test_sample_is_seeded_interleaved_distinct_and_in_window() -> None:
    families = ("kws", "plaincnn", "swin")
    members = sample_zoo(families, per_family=4, seed=3)
    assert members == sample_zoo(families, per_family=4, seed=3)
    assert [m.family for m in members[:3]] == list(families)
    assert len({(m.family, m.spec_key) for m in members}) == len(members) == 12
    for m in members:
        space = get_space(m.family)
        assert space.encode(m.spec) == m.spec_key
        assert MIN_MACS <= m.macs == space.to_ir(m.spec).macs <= MAX_MACS
    assert sample_zoo(families, per_family=4, seed=4) != members


def test_family_stream_is_independent_of_other_families_and_count() -> None:
    alone = list(family_members("densenet", 3, seed=1))
    mixed = [
        m for m in sample_zoo(("kws", "densenet"), per_family=5, seed=1) if m.family == "densenet"
    ]
    assert mixed[:3] == alone


def test_unknown_family_names_the_valid_ones() -> None:
    with pytest.raises(UnknownSpaceError, match=r"nasbench201.*valid families.*convnext"):
        sample_zoo(("nasbench201",), per_family=1)


def test_a_larger_mac_window_samples_larger_networks() -> None:
    members = sample_zoo(("resnet", "vit"), 3, seed=0, min_macs=MAX_MACS, max_macs=4 * MAX_MACS)
    assert {m.family for m in members} == {"resnet", "vit"}
    assert all(MAX_MACS <= m.macs <= 4 * MAX_MACS for m in members)
    with pytest.raises(ValueError, match="empty MAC window"):
        sample_zoo(("resnet",), 1, min_macs=2, max_macs=1)
