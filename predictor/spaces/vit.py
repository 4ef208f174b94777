"""ViT-style encoders: patch embedding, pre-norm multi-head attention and GELU MLP blocks."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from predictor.ir.schema import GraphIR
from predictor.spaces.base import InvalidSpecError
from predictor.spaces.dictspace import DictSpace
from predictor.spaces.irgraph import IRWriter, tspec
from predictor.spaces.transformer_ir import encoder_block, layer_norm, reshape_transpose

if TYPE_CHECKING:
    import torch

MAX_TOKENS = 256


class VisionTransformerSpace(DictSpace):
    """Tiny to small ViTs (mean-pooled tokens, no class token)."""

    name = "vit"
    choices = {
        "resolution": (32, 64, 96, 128, 160, 224),
        "patch": (4, 8, 16, 32),
        "dim": (48, 96, 144, 192, 384),
        "depth": (1, 2, 4, 6, 8, 12),
        "heads": (1, 2, 3, 4, 6),
        "mlp_ratio": (2, 3, 4),
        "classes": (10, 100, 1000),
    }

    def sample(self, rng: random.Random) -> dict[str, Any]:
        """Uniform over the choices, redrawn until the patch grid has 1..256 tokens."""
        while True:
            spec = super().sample(rng)
            if spec["resolution"] % spec["patch"] == 0 and self._tokens(spec) <= MAX_TOKENS:
                return spec

    def check_consistency(self, spec: dict[str, Any]) -> None:
        """Patch must tile the image into at most :data:`MAX_TOKENS` tokens."""
        if spec["resolution"] % spec["patch"] or self._tokens(spec) > MAX_TOKENS:
            raise InvalidSpecError(
                f"vit: patch={spec['patch']} must divide resolution={spec['resolution']} into "
                f"at most {MAX_TOKENS} tokens"
            )

    @staticmethod
    def _tokens(spec: dict[str, Any]) -> int:
        return int((spec["resolution"] // spec["patch"]) ** 2)

    def input_shape(self, spec: Any) -> tuple[int, ...]:
        """``(1, 3, resolution, resolution)``."""
        self.validate(spec)
        return (1, 3, spec["resolution"], spec["resolution"])

    def build(self, spec: Any) -> torch.nn.Module:
        """The torch ViT (seeded, eval mode)."""
        import torch

        from predictor.spaces.nets.transformer import VisionTransformer

        self.validate(spec)
        torch.manual_seed(0)
        mlp = spec["dim"] * spec["mlp_ratio"]
        net = VisionTransformer(
            spec["resolution"],
            spec["patch"],
            spec["dim"],
            spec["depth"],
            spec["heads"],
            mlp,
            spec["classes"],
        )
        return net.eval()

    def to_ir(self, spec: Any) -> GraphIR:
        """Patch conv, token reshape/transpose, + positions, blocks, LayerNorm, mean, head."""
        self.validate(spec)
        dim, tokens = spec["dim"], self._tokens(spec)
        w = IRWriter(f"{self.name}:{self.encode(spec)}", self.input_shape(spec))
        x = w.conv(w.input, dim, spec["patch"], spec["patch"], pad=0)
        x = reshape_transpose(w, x, (1, dim, tokens), (0, 2, 1))
        x = w.node("Add", (x,), (1, tokens, dim), (tspec((1, tokens, dim)),))
        for _ in range(spec["depth"]):
            x = encoder_block(w, x, spec["heads"], dim * spec["mlp_ratio"])
        x = layer_norm(w, x)
        x = w.node("ReduceMean", (x,), (1, dim), attrs={"axes": (1,), "keepdims": 0})
        return w.finish((w.linear(x, spec["classes"]),))
