"""Decoder-LM configurations for the LLM latency benchmark, and their hand-counted size.

Drawn from the ``llm`` search space's own choices (never from a public model zoo), restricted
to the widths, depths and vocabularies of 60M-350M-parameter models.
"""

from __future__ import annotations

import random
from typing import Any

from predictor.spaces.llm import DecoderLMSpace

VOCABS = (16384, 32000)
DIMS = (512, 576, 640, 768, 896, 960, 1024)
LAYERS = (8, 10, 12, 16, 20, 24, 28, 30, 32)
HEADS = (4, 8, 9, 12, 15, 16)
KV_HEADS = (1, 2, 3, 4, 5)
PROMPT_LENGTHS = (64, 128, 256)
CONTEXTS = (64, 128, 256, 512, 1024)


def param_count(spec: dict[str, Any]) -> int:
    """Parameters of the network, each tensor once (a tied embedding counts once).

    Embedding ``V*d`` (and the head ``d*V`` unless tied); per layer q/o ``2*d*d``, k/v
    ``2*d*kv*hd``, SwiGLU ``3*d*f``, two RMSNorm scales ``2*d``; final norm ``d``.
    """
    vocab, dim, kv = spec["vocab"], spec["dim"], spec["kv_heads"]
    hd, ffn = dim // spec["heads"], dim * spec["ffn_ratio"]
    embed = vocab * dim * (1 if spec.get("tie_embeddings") else 2)
    block = 2 * dim * dim + 2 * dim * kv * hd + 3 * dim * ffn + 2 * dim
    return embed + spec["layers"] * block + dim


def sample_architectures(
    count: int, seed: int, low: int = 60_000_000, high: int = 350_000_000
) -> list[dict[str, Any]]:
    """``count`` distinct prefill-phase architectures with ``low <= params <= high``."""
    rng = random.Random(seed)
    space = DecoderLMSpace()
    found: dict[str, dict[str, Any]] = {}
    while len(found) < count:
        spec: dict[str, Any] = {
            "vocab": rng.choice(VOCABS),
            "dim": rng.choice(DIMS),
            "layers": rng.choice(LAYERS),
            "heads": rng.choice(HEADS),
            "kv_heads": rng.choice(KV_HEADS),
            "ffn_ratio": rng.choice((2, 3, 4)),
            "seq_len": 128,
            "tie_embeddings": rng.random() < 0.5,
        }
        if not space._consistent(spec) or not low <= param_count(spec) <= high:
            continue
        spec = space.canonical(spec)
        found.setdefault(space.encode(spec), spec)
    return list(found.values())


def phase_specs(arch: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """One prefill (a drawn prompt length) and two decode steps (two drawn contexts)."""
    prefill = {**arch, "seq_len": rng.choice(PROMPT_LENGTHS)}
    contexts = rng.sample(CONTEXTS, 2)
    decode = [{**arch, "seq_len": 1, "phase": "decode", "context": c} for c in contexts]
    return [prefill, *decode]
