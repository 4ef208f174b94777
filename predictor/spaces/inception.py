"""Inception-style multi-branch CNNs: 1x1, kxk, double kxk and pooling branches concatenated."""

from __future__ import annotations

from typing import Any

from predictor.spaces.dictspace import ZooPlanSpace
from predictor.spaces.plan import Classifier, ConvBN, MaxPool, make_divisible
from predictor.spaces.zoo_layers import Inception, ZooLayer, ZooPlan

#: Share of a block's output per branch (1x1, kxk, double kxk, pool) for each ``mix``.
MIXES: dict[str, tuple[float, float, float, float]] = {
    "balanced": (0.25, 0.375, 0.25, 0.125),
    "wide_kxk": (0.125, 0.5, 0.25, 0.125),
    "wide_1x1": (0.375, 0.25, 0.25, 0.125),
}


class InceptionNet(ZooPlanSpace):
    """Stem, stages of inception blocks with 3x3/2 max pooling between stages, classifier."""

    name = "inception"
    choices = {
        "resolution": (32, 64, 96, 128, 160, 224),
        "width": (0.25, 0.5, 0.75, 1.0),
        "kernel": (3, 5),
        "mix": tuple(MIXES),
        "reduce": (0.5, 0.75),
        "classes": (10, 100, 1000),
    }
    lists = {"blocks": ((2, 3), (1, 2, 3))}

    def plan(self, spec: dict[str, Any]) -> ZooPlan:
        """Each stage doubles the block width (base 128 x ``width``)."""
        mix, reduce = MIXES[spec["mix"]], spec["reduce"]
        layers: list[ZooLayer] = [
            ConvBN(make_divisible(32 * spec["width"]), (3, 3), (2, 2)),
            MaxPool(3, 2, 1),
        ]
        for stage, blocks in enumerate(spec["blocks"]):
            if stage:
                layers.append(MaxPool(3, 2, 1))
            out = 128 * spec["width"] * 2**stage
            b1, b2, b3, b4 = (make_divisible(out * share) for share in mix)
            r2, r3 = make_divisible(b2 * reduce), make_divisible(b3 * reduce)
            layers.extend(Inception(b1, r2, b2, r3, b3, b4, spec["kernel"]) for _ in range(blocks))
        layers.append(Classifier(spec["classes"]))
        res = spec["resolution"]
        return ZooPlan((1, 3, res, res), tuple(layers))
