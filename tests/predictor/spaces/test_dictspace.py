from __future__ import annotations

import pytest

from predictor.spaces import InvalidSpecError, get_space


def _valid(name: str) -> dict[str, object]:
    import random

    spec = get_space(name).sample(random.Random(0))
    assert isinstance(spec, dict)
    return spec


@pytest.mark.parametrize(
    ("name", "change", "fragments"),
    [
        ("mobilenet", {"width": 0.3}, ["width=0.3", "0.25", "1.0"]),
        ("mobilenet", {"se": 1}, ["se=1", "False", "True"]),
        ("resnet", {"depths": [1, 2]}, ["len(depths)=2", "[3, 4]"]),
        ("resnet", {"depths": [1, 2, 9]}, ["depths[2]=9"]),
        ("kws", {"arch": "transformer"}, ["arch='transformer'", "dscnn"]),
        ("rnn", {"cell": "rnn"}, ["cell='rnn'", "lstm", "gru"]),
        ("vit", {"resolution": 32, "patch": 32, "heads": 7}, ["heads=7"]),
        ("vit", {"resolution": 224, "patch": 4}, ["at most 256 tokens"]),
        ("llm", {"dim": 64, "heads": 6}, ["heads=6 must divide dim=64"]),
        ("efficientnet", {"extra": 1}, ["unknown ['extra']"]),
    ],
)
def test_invalid_dict_spec_names_bad_part_and_choices(
    name: str, change: dict[str, object], fragments: list[str]
) -> None:
    spec = {**_valid(name), **change}
    with pytest.raises(InvalidSpecError) as info:
        get_space(name).validate(spec)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_missing_field_and_wrong_type() -> None:
    space = get_space("resnet")
    spec = _valid("resnet")
    del spec["width"]
    with pytest.raises(InvalidSpecError, match=r"missing \['width'\]"):
        space.validate(spec)
    with pytest.raises(InvalidSpecError, match="must be a dict"):
        space.validate("resnet18")
    with pytest.raises(InvalidSpecError, match="not JSON"):
        space.decode("{width: 3")
