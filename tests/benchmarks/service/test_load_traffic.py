"""The operation mix of ``perfloop bench load``."""

from __future__ import annotations

import pytest

from benchmarks.service.load_traffic import WEIGHTS, parse_mix


def test_parse_mix_keeps_named_weights_and_zeroes_the_rest() -> None:
    weights = parse_mix("predict_single=3, job_cycle=1")
    assert weights == dict.fromkeys(WEIGHTS, 0) | {"predict_single": 3, "job_cycle": 1}


@pytest.mark.parametrize(
    "text", ["predict=1", "predict_single=x", "job_cycle=-1", "", "job_cycle=0"]
)
def test_parse_mix_refuses_bad_entries_naming_the_choices(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_mix(text)
    assert text == "" or "predict_single" in str(info.value) or "weight 0" in str(info.value)
