"""Time to first token and total generation time of a decoder LM from step predictions.

Generating ``N`` new tokens after a prompt of ``P`` tokens is one prefill (``seq_len = P``; its
logits give the first token, so its latency is the time to first token) and ``N`` decode steps
against a cache that grows from ``P`` to ``P + N - 1`` positions. Predicting every step would
cost ``N`` graphs; instead the decode latency is predicted at a few contexts spaced evenly in
log scale over ``[P, P + N - 1]`` (both ends included), linearly interpolated between them and
summed over every step: the trapezoid rule on a log-spaced grid, exact when decode latency is
piecewise linear in the context (it is close to linear: the attention and cache reads grow with
the context, the weight reads do not). Intervals add the step intervals' ends (errors of one
architecture's steps move together, so treating them as fully correlated is the honest bound).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from predictor.spaces.base import InvalidSpecError
from predictor.spaces.llm import MAX_CONTEXT, MAX_SEQ_LEN, DecoderLMSpace

#: Default number of contexts at which decode steps are predicted.
DEFAULT_POINTS = 6


@dataclass(frozen=True)
class GenerationPlan:
    """The specs to predict for one generation: the prefill, then decode steps at ``contexts``."""

    prefill: dict[str, Any]
    contexts: tuple[int, ...]
    decode: tuple[dict[str, Any], ...]
    new_tokens: int


@dataclass(frozen=True)
class Interval:
    """Mean and 90 % interval of a time in milliseconds."""

    mean_ms: float
    lo_ms: float
    hi_ms: float


def decode_contexts(prompt: int, new_tokens: int, points: int = DEFAULT_POINTS) -> tuple[int, ...]:
    """Up to ``points`` distinct contexts, log-spaced over ``[prompt, prompt + new_tokens - 1]``."""
    last = prompt + new_tokens - 1
    grid = np.geomspace(prompt, last, num=max(2, points)) if last > prompt else [prompt]
    return tuple(sorted({prompt, last, *(round(float(c)) for c in grid)}))


def plan_generation(
    arch: dict[str, Any], prompt: int, new_tokens: int, points: int = DEFAULT_POINTS
) -> GenerationPlan:
    """The prefill and decode specs of generating ``new_tokens`` after ``prompt`` tokens.

    Args:
        arch: an ``llm`` spec (its phase, seq_len and context are replaced).
        prompt: prompt length P (1..MAX_SEQ_LEN).
        new_tokens: tokens to generate N (>= 1; P + N - 1 <= MAX_CONTEXT).
        points: contexts at which decode is predicted.

    Raises:
        InvalidSpecError: a bad architecture, prompt or token count (naming the field).
    """
    if not 1 <= prompt <= MAX_SEQ_LEN:
        raise InvalidSpecError(f"prompt_tokens={prompt} must be from 1 to {MAX_SEQ_LEN}")
    if new_tokens < 1 or prompt + new_tokens - 1 > MAX_CONTEXT:
        raise InvalidSpecError(
            f"new_tokens={new_tokens} must be >= 1 with prompt_tokens + new_tokens - 1 <= "
            f"{MAX_CONTEXT} (the longest KV cache)"
        )
    if not isinstance(arch, dict):
        raise InvalidSpecError(f"llm: spec must be a dict, got {type(arch).__name__}")
    space = DecoderLMSpace()
    base = {k: v for k, v in arch.items() if k not in ("phase", "context", "seq_len")}
    prefill = space.canonical({**base, "seq_len": prompt})
    space.validate(prefill)
    contexts = decode_contexts(prompt, new_tokens, points)
    decode = tuple(
        space.canonical({**base, "seq_len": 1, "phase": "decode", "context": c}) for c in contexts
    )
    return GenerationPlan(prefill, contexts, decode, new_tokens)


def integrate_decode(plan: GenerationPlan, step_ms: list[float]) -> float:
    """Sum of the interpolated decode latency over every step (contexts P .. P + N - 1)."""
    first = plan.contexts[0]
    steps = np.arange(first, first + plan.new_tokens, dtype=float)
    return float(np.interp(steps, plan.contexts, step_ms).sum())


def generation_time(
    plan: GenerationPlan, prefill: Interval, decode: list[Interval]
) -> tuple[Interval, Interval]:
    """``(time to first token, total generation time)`` from the step predictions."""
    parts = [
        integrate_decode(plan, [getattr(d, key) for d in decode])
        for key in ("mean_ms", "lo_ms", "hi_ms")
    ]
    total = Interval(prefill.mean_ms + parts[0], prefill.lo_ms + parts[1], prefill.hi_ms + parts[2])
    if not all(math.isfinite(v) for v in (total.mean_ms, total.lo_ms, total.hi_ms)):
        raise ValueError("step predictions are not finite")
    return prefill, total
