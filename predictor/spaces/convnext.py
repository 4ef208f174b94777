"""ConvNeXt-style CNNs: patchify stem, depthwise kxk + channels-last LayerNorm + GELU MLP blocks."""

from __future__ import annotations

from typing import Any

from predictor.spaces.base import InvalidSpecError
from predictor.spaces.dictspace import ZooPlanSpace
from predictor.spaces.plan import Classifier
from predictor.spaces.zoo_layers import BiasConv, ChannelNorm, ConvNeXtBlock, ZooLayer, ZooPlan


class ConvNeXt(ZooPlanSpace):
    """Stem (patch conv + LayerNorm), stages (LayerNorm + 2x2/2 conv between), classifier."""

    name = "convnext"
    choices = {
        "resolution": (32, 64, 96, 128, 160, 224),
        "patch": (2, 4),
        "dim": (16, 24, 32, 48, 64, 96),
        "kernel": (3, 5, 7),
        "expand": (2, 3, 4),
        "classes": (10, 100, 1000),
    }
    lists = {"depths": ((2, 3, 4), (1, 2, 3, 4, 6))}

    @staticmethod
    def _ok(spec: dict[str, Any]) -> bool:
        # At a 1x1 last map the dynamo exporter indexes its way through the global pool.
        return bool(spec["resolution"] >= 2 * spec["patch"] * 2 ** (len(spec["depths"]) - 1))

    def check_consistency(self, spec: dict[str, Any]) -> None:
        """The last stage must keep at least a 2x2 map."""
        if not self._ok(spec):
            raise InvalidSpecError(
                f"convnext: resolution={spec['resolution']} is too small for patch="
                f"{spec['patch']} and {len(spec['depths'])} stages (last map >= 2x2)"
            )

    def sample(self, rng: Any) -> dict[str, Any]:
        """Uniform over the choices, redrawn until consistent."""
        while True:
            spec = super().sample(rng)
            if self._ok(spec):
                return spec

    def plan(self, spec: dict[str, Any]) -> ZooPlan:
        """Channels double from stage to stage."""
        dim = spec["dim"]
        layers: list[ZooLayer] = [BiasConv(dim, spec["patch"], spec["patch"]), ChannelNorm()]
        for stage, depth in enumerate(spec["depths"]):
            if stage:
                layers.extend((ChannelNorm(), BiasConv(dim * 2**stage, 2, 2)))
            layers.extend(ConvNeXtBlock(spec["kernel"], spec["expand"]) for _ in range(depth))
        layers.append(Classifier(spec["classes"]))
        res = spec["resolution"]
        return ZooPlan((1, 3, res, res), tuple(layers))
