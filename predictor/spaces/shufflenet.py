"""Grouped-convolution CNNs with channel shuffles (ShuffleNet-v1-like units)."""

from __future__ import annotations

import math
from typing import Any

from predictor.spaces.dictspace import ZooPlanSpace
from predictor.spaces.plan import Classifier, ConvBN, MaxPool
from predictor.spaces.zoo_layers import ShuffleUnit, ZooLayer, ZooPlan

STEM_CHANNELS = 24


class ShuffleNet(ZooPlanSpace):
    """Stem, max pool, three stages of shuffle units (the first strided), classifier."""

    name = "shufflenet"
    choices = {
        "resolution": (32, 64, 96, 128, 160, 224),
        "groups": (1, 2, 3, 4, 8),
        "base": (48, 96, 144, 192, 240),
        "kernel": (3, 5),
        "classes": (10, 100, 1000),
    }
    lists = {"depths": ((2, 3), (1, 2, 3, 4, 6))}

    def plan(self, spec: dict[str, Any]) -> ZooPlan:
        """Channel counts are multiples of ``4 * groups`` so every grouped conv divides."""
        g = spec["groups"]
        unit = 4 * g
        layers: list[ZooLayer] = [ConvBN(STEM_CHANNELS, (3, 3), (2, 2)), MaxPool(3, 2, 1)]
        for stage, depth in enumerate(spec["depths"]):
            cout = math.ceil(spec["base"] * 2**stage / unit) * unit
            for i in range(depth):
                stride = 2 if i == 0 else 1
                layers.append(ShuffleUnit(cout, cout // 4, g, spec["kernel"], stride))
        layers.append(Classifier(spec["classes"]))
        res = spec["resolution"]
        return ZooPlan((1, 3, res, res), tuple(layers))
