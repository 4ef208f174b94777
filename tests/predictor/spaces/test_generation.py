"""Generation time from prefill and decode predictions: contexts, interpolation, errors."""

from __future__ import annotations

import pytest

from predictor.spaces.base import InvalidSpecError
from predictor.spaces.generation import (
    Interval,
    decode_contexts,
    generation_time,
    plan_generation,
)

ARCH = {"vocab": 1024, "dim": 64, "layers": 2, "heads": 4, "kv_heads": 2, "ffn_ratio": 2}


def test_contexts_are_log_spaced_and_include_both_ends() -> None:
    contexts = decode_contexts(128, 64)
    assert contexts[0] == 128 and contexts[-1] == 191 and len(contexts) == 6
    assert decode_contexts(5, 1) == (5,)
    assert decode_contexts(1, 1000, points=4) == (1, 10, 100, 1000)


def test_plan_has_one_prefill_and_decode_steps_at_the_contexts() -> None:
    plan = plan_generation({**ARCH, "seq_len": 7}, 128, 64)
    assert plan.prefill == {**ARCH, "seq_len": 128}
    assert [d["context"] for d in plan.decode] == list(plan.contexts)
    assert all(d["phase"] == "decode" and d["seq_len"] == 1 for d in plan.decode)


def test_linear_decode_latency_is_summed_exactly() -> None:
    plan = plan_generation(ARCH, 100, 50)
    step = [Interval(1.0 + 0.01 * c, 0.5 + 0.01 * c, 2.0 + 0.01 * c) for c in plan.contexts]
    ttft, total = generation_time(plan, Interval(10.0, 8.0, 12.0), step)
    exact = sum(1.0 + 0.01 * c for c in range(100, 150))
    assert ttft.mean_ms == 10.0
    assert total.mean_ms == pytest.approx(10.0 + exact)
    assert total.lo_ms < total.mean_ms < total.hi_ms


@pytest.mark.parametrize(
    ("arch", "prompt", "new", "match"),
    [
        ({**ARCH, "heads": 3}, 16, 4, "heads=3 must divide dim=64"),
        (ARCH, 0, 4, "prompt_tokens=0"),
        (ARCH, 16, 0, "new_tokens=0"),
        (ARCH, 4096, 16384, "new_tokens=16384"),
        ({**ARCH, "vocab": 7}, 16, 4, "vocab=7"),
    ],
)
def test_bad_requests_name_the_field(arch: dict, prompt: int, new: int, match: str) -> None:
    with pytest.raises(InvalidSpecError, match=match):
        plan_generation(arch, prompt, new)
