from __future__ import annotations

import pytest

from predictor.spaces import SPACES, SearchSpace, UnknownSpaceError, get_space


def test_all_spaces_registered() -> None:
    assert set(SPACES) == {
        "nasbench201",
        "fbnet",
        "mobilenet",
        "resnet",
        "efficientnet",
        "kws",
        "rnn",
        "vit",
        "llm",
        "plaincnn",
        "shufflenet",
        "densenet",
        "inception",
        "convnext",
        "audio1d",
        "hybrid",
        "swin",
    }
    for name in SPACES:
        space = get_space(name)
        assert isinstance(space, SearchSpace)
        assert space.name == name
        assert get_space(name) is space


def test_unknown_space_names_valid_choices() -> None:
    with pytest.raises(UnknownSpaceError) as info:
        get_space("nasbench101")
    message = str(info.value)
    assert "nasbench101" in message
    for name in SPACES:
        assert name in message
