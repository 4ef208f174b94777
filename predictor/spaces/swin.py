"""Windowed-attention vision transformers (Swin-like, without shifted windows).

Patch embedding, stages of pre-norm blocks attending within non-overlapping windows, a 2x2
strided conv between stages that halves the token map and doubles the width, mean-pooled head.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from predictor.ir.schema import GraphIR
from predictor.spaces.attention_ir import image, tokens, window_block, window_for
from predictor.spaces.base import InvalidSpecError
from predictor.spaces.dictspace import DictSpace
from predictor.spaces.irgraph import IRWriter
from predictor.spaces.transformer_ir import layer_norm

if TYPE_CHECKING:
    import torch


class WindowTransformerSpace(DictSpace):
    """Stages of windowed-attention blocks; heads and width double per stage."""

    name = "swin"
    choices = {
        "resolution": (32, 64, 96, 128, 160, 224),
        "patch": (2, 4),
        "dim": (32, 48, 64, 96),
        "heads": (1, 2, 4),
        "window": (4, 7, 8),
        "mlp_ratio": (2, 4),
        "classes": (10, 100, 1000),
    }
    lists = {"depths": ((2, 3), (1, 2, 3, 4))}

    @staticmethod
    def grids(spec: dict[str, Any]) -> list[int]:
        """Token-map side of each stage."""
        first = spec["resolution"] // spec["patch"]
        return [first // 2**i for i in range(len(spec["depths"]))]

    def _ok(self, spec: dict[str, Any]) -> bool:
        first = spec["resolution"] // spec["patch"]
        return first % 2 ** (len(spec["depths"]) - 1) == 0

    def sample(self, rng: Any) -> dict[str, Any]:
        """Uniform over the choices, redrawn until every stage halves evenly."""
        while True:
            spec = super().sample(rng)
            if self._ok(spec):
                return spec

    def check_consistency(self, spec: dict[str, Any]) -> None:
        """The token map must halve evenly at every stage."""
        if not self._ok(spec):
            raise InvalidSpecError(
                f"swin: resolution={spec['resolution']} / patch={spec['patch']} must be divisible"
                f" by {2 ** (len(spec['depths']) - 1)} for {len(spec['depths'])} stages"
            )

    def input_shape(self, spec: Any) -> tuple[int, ...]:
        """``(1, 3, resolution, resolution)``."""
        self.validate(spec)
        return (1, 3, spec["resolution"], spec["resolution"])

    def build(self, spec: Any) -> torch.nn.Module:
        """The torch network (seeded, eval mode)."""
        from predictor.spaces.nets.swin import WindowTransformer

        self.validate(spec)
        return WindowTransformer(spec, self.grids(spec))

    def to_ir(self, spec: Any) -> GraphIR:
        """Patch conv, LayerNorm, stages (merge conv between), LayerNorm, mean, head."""
        self.validate(spec)
        w = IRWriter(f"{self.name}:{self.encode(spec)}", self.input_shape(spec))
        dim, grids = spec["dim"], self.grids(spec)
        t = layer_norm(w, tokens(w, w.conv(w.input, dim, spec["patch"], spec["patch"], pad=0)))
        for stage, depth in enumerate(spec["depths"]):
            g = grids[stage]
            if stage:
                c = dim * 2**stage
                t = layer_norm(w, tokens(w, w.conv(image(w, t, (2 * g, 2 * g)), c, 2, 2, pad=0)))
            win = window_for(g, spec["window"])
            for _ in range(depth):
                t = window_block(w, t, spec["heads"] * 2**stage, spec["mlp_ratio"], (g, g), win)
        t = layer_norm(w, t)
        c = w.shape(t)[-1]
        t = w.node("ReduceMean", (t,), (1, c), attrs={"axes": (1,), "keepdims": 0})
        return w.finish((w.linear(t, spec["classes"]),))
