"""Decoder-only language models of the MobileLLM kind (GQA, SwiGLU, RMSNorm), prefill or decode.

A spec names the phase. ``prefill`` (the default): one prompt of ``seq_len`` token ids in, the
logits of every position out. ``decode``: one new token (``seq_len`` = 1) against a KV cache of
``context`` past positions; the graph inputs are the token id and, per layer, the past keys and
values ``(1, kv_heads, context, head_dim)``, the outputs the logits and the grown caches
(``context + 1``), as exported decoders with a cache are written. The cache is graph input and
output, so ``peak_activation_bytes`` counts it next to the activations, and ``model_bytes`` the
weights.

Positions are not encoded (no RoPE): its cost is small next to the projections and would add many
tiny ops; the IR stays honest about what the ONNX contains. ``tie_embeddings`` shares the
embedding matrix with the LM head (MobileLLM's parameter saving); compute is the same, and the IR
counts the matrix in both nodes that read it (the exported ONNX holds the head's transposed copy).

Fields added for large models (``phase``, ``context``, ``tie_embeddings``) have defaults and are
left out of the canonical form at their default, so specs stored before them keep their encoding.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from predictor.ir.schema import GraphIR
from predictor.spaces.base import InvalidSpecError, canonical_json, check_choice
from predictor.spaces.dictspace import DictSpace
from predictor.spaces.irgraph import IRWriter, TensorRef, tspec
from predictor.spaces.transformer_ir import cached_decoder_block, decoder_block, rms_norm

if TYPE_CHECKING:
    import torch

#: Optional fields and their defaults (left out of the canonical form when at the default).
DEFAULTS: dict[str, Any] = {"phase": "prefill", "context": 0, "tie_embeddings": False}
PHASES = ("prefill", "decode")
#: Inclusive bounds of the integer fields that take any value in a range.
MAX_SEQ_LEN = 4096
MAX_CONTEXT = 16384
#: The small prefill models the space first had (a few M to ~20M parameters): the onboarding
#: reference architectures are drawn from them (:meth:`DecoderLMSpace.reference_sample`).
SMALL_CHOICES: dict[str, tuple[int, ...]] = {
    "vocab": (1024, 2048, 4096, 8192),
    "dim": (64, 128, 192, 256, 384),
    "layers": (1, 2, 4, 6, 8),
    "heads": (2, 4, 6, 8),
    "kv_heads": (1, 2),
    "ffn_ratio": (2, 3, 4),
    "seq_len": (16, 32, 64, 128, 256),
}
#: What :meth:`DecoderLMSpace.sample` draws for the ranged fields.
SAMPLED_SEQ_LENS = (16, 32, 64, 128, 256, 512)
SAMPLED_CONTEXTS = (32, 64, 128, 256, 512, 1024, 2048)


class DecoderLMSpace(DictSpace):
    """Decoder-only transformers from a few M to ~1B parameters (dim up to 2048, 32 layers)."""

    name = "llm"
    choices = {
        "vocab": (1024, 2048, 4096, 8192, 16384, 32000),
        "dim": (64, 128, 192, 256, 384, 512, 576, 640, 768, 896, 960, 1024, 1280, 1536, 2048),
        "layers": (1, 2, 4, 6, 8, 10, 12, 16, 20, 24, 28, 30, 32),
        "heads": (2, 3, 4, 5, 6, 8, 9, 12, 15, 16, 20, 24, 32),
        "kv_heads": (1, 2, 3, 4, 5, 8),
        "ffn_ratio": (2, 3, 4),
        "seq_len": SAMPLED_SEQ_LENS,
    }

    def sample(self, rng: random.Random) -> dict[str, Any]:
        """Uniform over the choices and phases, redrawn until heads divide the width evenly."""
        while True:
            spec = {key: rng.choice(options) for key, options in self.choices.items()}
            spec["phase"] = rng.choice(PHASES)
            spec["tie_embeddings"] = rng.random() < 0.5
            if spec["phase"] == "decode":
                spec["seq_len"], spec["context"] = 1, rng.choice(SAMPLED_CONTEXTS)
            if self._consistent(spec):
                return self.canonical(spec)

    def reference_sample(self, rng: random.Random) -> dict[str, Any]:
        """A small prefill model (:data:`SMALL_CHOICES`) for the onboarding references.

        Every new device measures the references, so they must run anywhere and fit the
        upload limit; a 500M-parameter draw of :meth:`sample` would do neither.
        """
        while True:
            spec = {key: rng.choice(options) for key, options in SMALL_CHOICES.items()}
            if self._consistent(spec):
                return spec

    @staticmethod
    def canonical(spec: dict[str, Any]) -> dict[str, Any]:
        """``spec`` without the optional fields that are at their default."""
        return {k: v for k, v in spec.items() if k not in DEFAULTS or v != DEFAULTS[k]}

    @staticmethod
    def full(spec: dict[str, Any]) -> dict[str, Any]:
        """``spec`` with every optional field filled in."""
        return {**DEFAULTS, **spec}

    @staticmethod
    def _consistent(spec: dict[str, Any]) -> bool:
        return spec["dim"] % spec["heads"] == 0 and spec["heads"] % spec["kv_heads"] == 0

    def validate(self, spec: Any) -> None:
        """Check fields, choices, ranges and cross-field rules (naming the bad field)."""
        if not isinstance(spec, dict):
            raise InvalidSpecError(f"{self.name}: spec must be a dict, got {type(spec).__name__}")
        required, optional = set(self.choices), set(DEFAULTS)
        missing, extra = sorted(required - set(spec)), sorted(set(spec) - required - optional)
        if missing or extra:
            raise InvalidSpecError(
                f"{self.name}: spec fields must be {sorted(required)} plus optional "
                f"{sorted(optional)} (missing {missing}, unknown {extra})"
            )
        spec = self.full(spec)
        for key, options in self.choices.items():
            if key != "seq_len":
                check_choice(self.name, key, spec[key], options)
        check_choice(self.name, "phase", spec["phase"], PHASES)
        check_choice(self.name, "tie_embeddings", spec["tie_embeddings"], (False, True))
        _check_int(self.name, "seq_len", spec["seq_len"], 1, MAX_SEQ_LEN)
        _check_int(self.name, "context", spec["context"], 0, MAX_CONTEXT)
        self.check_consistency(spec)

    def check_consistency(self, spec: dict[str, Any]) -> None:
        """Heads divide ``dim`` and group ``kv_heads`` evenly; phase fixes seq_len/context."""
        if not self._consistent(spec):
            raise InvalidSpecError(
                f"llm: heads={spec['heads']} must divide dim={spec['dim']} and be a multiple of "
                f"kv_heads={spec['kv_heads']}"
            )
        if spec["phase"] == "decode":
            if spec["seq_len"] != 1:
                raise InvalidSpecError(
                    f"llm: seq_len={spec['seq_len']} is not valid for phase 'decode', which "
                    "reads one new token: use seq_len=1 (the prompt length is a prefill's)"
                )
            if spec["context"] < 1:
                raise InvalidSpecError(
                    f"llm: context={spec['context']} is not valid for phase 'decode': the KV "
                    f"cache holds 1 to {MAX_CONTEXT} past positions"
                )
        elif spec["context"] != 0:
            raise InvalidSpecError(
                f"llm: context={spec['context']} is only valid with phase 'decode'; a prefill "
                "reads its whole prompt (seq_len) and has no cache"
            )

    def encode(self, spec: Any) -> str:
        """Canonical JSON of the spec without optional fields at their default."""
        self.validate(spec)
        return canonical_json(self.canonical(spec))

    def decode(self, text: str) -> dict[str, Any]:
        """Inverse of :meth:`encode` (the canonical form)."""
        spec: dict[str, Any] = super().decode(text)
        return self.canonical(spec)

    def input_shape(self, spec: Any) -> tuple[int, ...]:
        """``(1, seq_len)`` token ids (the first input; decode adds the caches)."""
        self.validate(spec)
        return (1, spec["seq_len"])

    def cache_shape(self, spec: Any) -> tuple[int, ...]:
        """Shape of one layer's past keys (or values) in a decode step."""
        spec = self.full(spec)
        return (1, spec["kv_heads"], spec["context"], spec["dim"] // spec["heads"])

    def input_dtype(self, spec: Any) -> str:
        """Token ids are int64."""
        return "int64"

    def example_input(self, spec: Any) -> torch.Tensor:
        """Deterministic token ids."""
        import torch

        gen = torch.Generator().manual_seed(0)
        return torch.randint(0, spec["vocab"], self.input_shape(spec), generator=gen)

    def example_inputs(self, spec: Any) -> tuple[torch.Tensor, ...]:
        """Token ids, then per layer seeded past keys and values (decode only)."""
        import torch

        ids = self.example_input(spec)
        if self.full(spec)["phase"] != "decode":
            return (ids,)
        gen = torch.Generator().manual_seed(1)
        shape = self.cache_shape(spec)
        return (ids, *(torch.randn(shape, generator=gen) for _ in range(2 * spec["layers"])))

    def io_names(self, spec: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Graph input and output names (``past_key_<i>``/``present_key_<i>`` in decode)."""
        if self.full(spec)["phase"] != "decode":
            return ("input",), ("output",)
        layers = range(spec["layers"])
        past = tuple(f"past_{kind}_{i}" for i in layers for kind in ("key", "value"))
        present = tuple(f"present_{kind}_{i}" for i in layers for kind in ("key", "value"))
        return ("input", *past), ("output", *present)

    def build(self, spec: Any) -> torch.nn.Module:
        """The torch decoder (seeded, eval mode)."""
        import torch

        from predictor.spaces.nets.transformer import DecoderLM

        self.validate(spec)
        spec = self.full(spec)
        torch.manual_seed(0)
        net = DecoderLM(
            spec["vocab"],
            spec["dim"],
            spec["layers"],
            spec["heads"],
            spec["kv_heads"],
            spec["dim"] * spec["ffn_ratio"],
            spec["seq_len"] if spec["phase"] == "prefill" else 0,
            tie=spec["tie_embeddings"],
        )
        return net.eval()

    def to_onnx(self, spec: Any, *, dynamo: bool = False) -> bytes:
        """Export with every graph input (token ids and, in decode, the caches)."""
        from predictor.spaces.export import export_onnx

        self.validate(spec)
        inputs, outputs = self.io_names(spec)
        return export_onnx(
            self.build(spec),
            self.example_inputs(spec),
            dynamo=dynamo,
            input_names=inputs,
            output_names=outputs,
        )

    def to_ir(self, spec: Any) -> GraphIR:
        """Embedding gather, decoder blocks, final RMSNorm, LM head (and caches in decode)."""
        self.validate(spec)
        spec = self.full(spec)
        vocab, dim, seq = spec["vocab"], spec["dim"], spec["seq_len"]
        heads, kv_heads, ffn = spec["heads"], spec["kv_heads"], dim * spec["ffn_ratio"]
        w = IRWriter(f"{self.name}:{self.encode(spec)}", (1, seq), "int64")
        caches: list[TensorRef] = []
        if spec["phase"] == "decode":
            caches = [w.add_input(self.cache_shape(spec)) for _ in range(2 * spec["layers"])]
        x = w.node("Gather", (w.input,), (1, seq, dim), (tspec((vocab, dim)),), {"axis": 0})
        present: list[TensorRef] = []
        for layer in range(spec["layers"]):
            if caches:
                past = (caches[2 * layer], caches[2 * layer + 1])
                x, k, v = cached_decoder_block(w, x, heads, kv_heads, ffn, past)
                present += [k, v]
            else:
                x = decoder_block(w, x, heads, kv_heads, ffn)
        return w.finish((w.linear(rms_norm(w, x), vocab, bias=False), *present))

    def manifest(self) -> dict[str, Any]:
        """Field choices, ranges and the optional fields with their defaults."""
        out = super().manifest()
        out["choices"].pop("seq_len")
        out["ranges"] = {"seq_len": [1, MAX_SEQ_LEN], "context": [0, MAX_CONTEXT]}
        out["optional"] = {**DEFAULTS, "phase choices": list(PHASES)}
        out["rules"] = [
            "heads divides dim; kv_heads divides heads",
            "phase 'prefill': seq_len = prompt length, context = 0 (omitted)",
            "phase 'decode': seq_len = 1, context = KV cache length >= 1",
        ]
        return out


def _check_int(space: str, key: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidSpecError(
            f"{space}: {key}={value!r} is not valid; it must be an integer from {low} to {high}"
        )
