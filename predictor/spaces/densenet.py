"""Densely connected CNNs: each layer's output is concatenated to its input."""

from __future__ import annotations

from typing import Any

from predictor.spaces.dictspace import ZooPlanSpace
from predictor.spaces.plan import Classifier, ConvBN, MaxPool
from predictor.spaces.zoo_layers import AvgPool, DenseLayer, ZooLayer, ZooPlan

#: Inputs up to this size get a 3x3 stride-1 stem; larger ones 7x7/2 + max pool.
SMALL_INPUT = 64


class DenseNet(ZooPlanSpace):
    """Dense blocks joined by 1x1 + 2x2 average-pool transitions that halve the channels."""

    name = "densenet"
    choices = {
        "resolution": (32, 64, 96, 128, 160),
        "growth": (8, 12, 16, 24, 32),
        "bottleneck": (2, 4),
        "kernel": (3, 5),
        "classes": (10, 100, 1000),
    }
    lists = {"blocks": ((2, 3, 4), (2, 3, 4, 6, 8))}

    def plan(self, spec: dict[str, Any]) -> ZooPlan:
        """Stem, dense blocks with transitions between them, classifier."""
        growth, res = spec["growth"], spec["resolution"]
        channels = 2 * growth
        layers: list[ZooLayer]
        if res > SMALL_INPUT:
            layers = [ConvBN(channels, (7, 7), (2, 2)), MaxPool(3, 2, 1)]
        else:
            layers = [ConvBN(channels, (3, 3))]
        for i, depth in enumerate(spec["blocks"]):
            for _ in range(depth):
                layers.append(DenseLayer(growth, spec["bottleneck"] * growth, spec["kernel"]))
                channels += growth
            if i < len(spec["blocks"]) - 1:
                channels //= 2
                layers.extend((ConvBN(channels, (1, 1)), AvgPool(2, 2)))
        layers.append(Classifier(spec["classes"]))
        return ZooPlan((1, 3, res, res), tuple(layers))
