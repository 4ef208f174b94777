"""Decoder-only language models of the MobileLLM kind: GQA, SwiGLU, RMSNorm; prefill graphs.

The input is one prompt of ``seq_len`` token ids; the graph computes the logits of every
position (a prefill). Positions are not encoded (no RoPE): its cost is small next to the
projections and would add many tiny ops; the IR stays honest about what the ONNX contains.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from predictor.ir.schema import GraphIR
from predictor.spaces.base import InvalidSpecError
from predictor.spaces.dictspace import DictSpace
from predictor.spaces.irgraph import IRWriter, tspec
from predictor.spaces.transformer_ir import decoder_block, rms_norm

if TYPE_CHECKING:
    import torch


class DecoderLMSpace(DictSpace):
    """Small decoder-only transformers (a few M to ~20M parameters)."""

    name = "llm"
    choices = {
        "vocab": (1024, 2048, 4096, 8192),
        "dim": (64, 128, 192, 256, 384),
        "layers": (1, 2, 4, 6, 8),
        "heads": (2, 4, 6, 8),
        "kv_heads": (1, 2),
        "ffn_ratio": (2, 3, 4),
        "seq_len": (16, 32, 64, 128, 256),
    }

    def sample(self, rng: random.Random) -> dict[str, Any]:
        """Uniform over the choices, redrawn until heads divide the width and group evenly."""
        while True:
            spec = super().sample(rng)
            if self._consistent(spec):
                return spec

    @staticmethod
    def _consistent(spec: dict[str, Any]) -> bool:
        return spec["dim"] % spec["heads"] == 0 and spec["heads"] % spec["kv_heads"] == 0

    def check_consistency(self, spec: dict[str, Any]) -> None:
        """``heads`` must divide ``dim`` and be a multiple of ``kv_heads``."""
        if not self._consistent(spec):
            raise InvalidSpecError(
                f"llm: heads={spec['heads']} must divide dim={spec['dim']} and be a multiple of "
                f"kv_heads={spec['kv_heads']}"
            )

    def input_shape(self, spec: Any) -> tuple[int, ...]:
        """``(1, seq_len)`` token ids."""
        self.validate(spec)
        return (1, spec["seq_len"])

    def input_dtype(self, spec: Any) -> str:
        """Token ids are int64."""
        return "int64"

    def example_input(self, spec: Any) -> torch.Tensor:
        """Deterministic token ids."""
        import torch

        gen = torch.Generator().manual_seed(0)
        return torch.randint(0, spec["vocab"], self.input_shape(spec), generator=gen)

    def build(self, spec: Any) -> torch.nn.Module:
        """The torch decoder (seeded, eval mode)."""
        import torch

        from predictor.spaces.nets.transformer import DecoderLM

        self.validate(spec)
        torch.manual_seed(0)
        net = DecoderLM(
            spec["vocab"],
            spec["dim"],
            spec["layers"],
            spec["heads"],
            spec["kv_heads"],
            spec["dim"] * spec["ffn_ratio"],
            spec["seq_len"],
        )
        return net.eval()

    def to_ir(self, spec: Any) -> GraphIR:
        """Embedding gather, decoder blocks, final RMSNorm, LM head."""
        self.validate(spec)
        vocab, dim, seq = spec["vocab"], spec["dim"], spec["seq_len"]
        w = IRWriter(f"{self.name}:{self.encode(spec)}", (1, seq), "int64")
        x = w.node("Gather", (w.input,), (1, seq, dim), (tspec((vocab, dim)),), {"axis": 0})
        for _ in range(spec["layers"]):
            x = decoder_block(w, x, spec["heads"], spec["kv_heads"], dim * spec["ffn_ratio"])
        return w.finish((w.linear(rms_norm(w, x), vocab, bias=False),))
