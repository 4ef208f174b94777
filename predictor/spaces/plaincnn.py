"""Plain (VGG-like) CNNs: stages of kxk conv-BN-ReLU separated by 2x2 max pooling."""

from __future__ import annotations

from typing import Any

from predictor.spaces.dictspace import PlanSpace
from predictor.spaces.plan import Classifier, ConvBN, Layer, MaxPool, Plan

MAX_CHANNELS = 512


class PlainCNN(PlanSpace):
    """Plain CNNs: ``len(convs)`` stages of ``convs[i]`` convolutions, channels doubling."""

    name = "plaincnn"
    choices = {
        "resolution": (32, 48, 64, 96, 128, 160),
        "width": (8, 16, 24, 32, 48, 64),
        "kernel": (3, 5),
        "classes": (10, 100, 1000),
    }
    lists = {"convs": ((3, 4, 5), (1, 2, 3))}

    def plan(self, spec: dict[str, Any]) -> Plan:
        """Conv stages, max pool after each, classifier."""
        k = spec["kernel"]
        layers: list[Layer] = []
        for stage, convs in enumerate(spec["convs"]):
            channels = min(MAX_CHANNELS, spec["width"] * 2**stage)
            layers.extend(ConvBN(channels, (k, k)) for _ in range(convs))
            layers.append(MaxPool(2, 2, 0))
        layers.append(Classifier(spec["classes"]))
        res = spec["resolution"]
        return Plan((1, 3, res, res), tuple(layers))
