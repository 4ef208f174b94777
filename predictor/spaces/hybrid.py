"""Conv-attention hybrids: a convolutional stem and MBConv stages, then attention.

``attn`` picks the attention part: ``global`` (pre-norm transformer blocks over all positions),
``pooled`` (keys and values from a strided conv of the token map, PVT-like) or ``mobilevit``
(local conv, unfold into patches, transformer across patches, fold, fuse with the input).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from predictor.ir.schema import GraphIR
from predictor.spaces.attention_ir import fold, token_block, tokens, unfold
from predictor.spaces.base import InvalidSpecError
from predictor.spaces.dictspace import DictSpace
from predictor.spaces.irgraph import IRWriter, TensorRef
from predictor.spaces.plan import ConvBN, Layer, MBConv, plan_to_ir_layer
from predictor.spaces.transformer_ir import layer_norm
from predictor.spaces.zoo_layers import concat

if TYPE_CHECKING:
    import torch


class HybridSpace(DictSpace):
    """Conv stem (stride 2), ``len(stages)`` MBConv stages (stride 2 each), attention, head."""

    name = "hybrid"
    choices = {
        "resolution": (64, 96, 128, 160, 192, 224),
        "width": (16, 24, 32),
        "expand": (2, 4),
        "dim": (64, 96, 128, 192),
        "depth": (1, 2, 3, 4),
        "heads": (1, 2, 4),
        "mlp_ratio": (2, 4),
        "attn": ("global", "pooled", "mobilevit"),
        "pool": (1, 2, 4),
        "classes": (10, 100, 1000),
    }
    lists = {"stages": ((1, 2, 3), (1, 2, 3))}

    def sample(self, rng: random.Random) -> dict[str, Any]:
        """Uniform over the choices; ``pool`` is 1 exactly for global attention."""
        while True:
            spec = super().sample(rng)
            spec["pool"] = 1 if spec["attn"] == "global" else max(2, spec["pool"])
            if self._problem(spec) is None:
                return spec

    def _problem(self, spec: dict[str, Any]) -> str | None:
        if (spec["pool"] == 1) != (spec["attn"] == "global"):
            return f"pool={spec['pool']} must be 1 exactly when attn='global'"
        if self.grid(spec) % spec["pool"]:
            return f"pool={spec['pool']} must divide the {self.grid(spec)}-wide token map"
        return None

    def check_consistency(self, spec: dict[str, Any]) -> None:
        """``pool`` matches ``attn`` and divides the token map."""
        problem = self._problem(spec)
        if problem:
            raise InvalidSpecError(f"hybrid: {problem}")

    @staticmethod
    def grid(spec: dict[str, Any]) -> int:
        """Side of the feature map the attention part sees."""
        return int(spec["resolution"] // 2 ** (1 + len(spec["stages"])))

    @staticmethod
    def conv_layers(spec: dict[str, Any]) -> list[Layer]:
        """Stem and MBConv stages (channels double per stage)."""
        cin = spec["width"]
        layers: list[Layer] = [ConvBN(cin, (3, 3), (2, 2))]
        for stage, blocks in enumerate(spec["stages"]):
            cout = spec["width"] * 2 ** (stage + 1)
            for i in range(blocks):
                hidden = (cin if i == 0 else cout) * spec["expand"]
                layers.append(MBConv(cout, hidden, 3, 2 if i == 0 else 1, "relu"))
            cin = cout
        return layers

    def input_shape(self, spec: Any) -> tuple[int, ...]:
        """``(1, 3, resolution, resolution)``."""
        self.validate(spec)
        return (1, 3, spec["resolution"], spec["resolution"])

    def build(self, spec: Any) -> torch.nn.Module:
        """The torch network (seeded, eval mode)."""
        from predictor.spaces.nets.hybrid import HybridNet

        self.validate(spec)
        return HybridNet(spec, self.conv_layers(spec), self.grid(spec))

    def to_ir(self, spec: Any) -> GraphIR:
        """Conv part as plan layers, then the attention part and the head."""
        self.validate(spec)
        w = IRWriter(f"{self.name}:{self.encode(spec)}", self.input_shape(spec))
        x = w.input
        for layer in self.conv_layers(spec):
            x = plan_to_ir_layer(w, x, layer)
        g = self.grid(spec)
        if spec["attn"] == "mobilevit":
            x = mobilevit_ir(w, x, spec)
            return w.finish((w.linear(w.flatten(w.global_avgpool(x)), spec["classes"]),))
        t = tokens(w, w.conv(x, spec["dim"], 1))
        for _ in range(spec["depth"]):
            t = token_block(w, t, spec["heads"], spec["mlp_ratio"], spec["pool"], (g, g))
        t = layer_norm(w, t)
        t = w.node("ReduceMean", (t,), (1, spec["dim"]), attrs={"axes": (1,), "keepdims": 0})
        return w.finish((w.linear(t, spec["classes"]),))


def mobilevit_ir(w: IRWriter, x: TensorRef, spec: dict[str, Any]) -> TensorRef:
    """Local 3x3 + 1x1 to ``dim``, unfold, blocks, LayerNorm, fold, 1x1 back, concat, 3x3 fuse."""
    _, c, h, wd = w.shape(x)
    y = w.conv(w.relu(w.conv(x, c, 3)), spec["dim"], 1)
    t = unfold(w, y, spec["pool"])
    for _ in range(spec["depth"]):
        t = token_block(w, t, spec["heads"], spec["mlp_ratio"])
    y = w.relu(w.conv(fold(w, layer_norm(w, t), spec["pool"], (h, wd)), c, 1))
    return w.relu(w.conv(concat(w, (x, y)), c, 3))
