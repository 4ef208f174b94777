"""ResNet-like networks: basic or bottleneck blocks, 3 or 4 stages, scaled depth and width."""

from __future__ import annotations

from typing import Any

from predictor.spaces.dictspace import PlanSpace
from predictor.spaces.plan import Classifier, ConvBN, Layer, MaxPool, Plan, ResBlock

BOTTLENECK_EXPANSION = 4
#: Inputs up to this size get the CIFAR stem (3x3, stride 1); larger ones the ImageNet stem.
CIFAR_STEM_MAX_RESOLUTION = 64


class ResNet(PlanSpace):
    """ResNet; small inputs get a CIFAR stem (3x3), larger an ImageNet stem (7x7/2 + max pool)."""

    name = "resnet"
    choices = {
        "block": ("basic", "bottleneck"),
        "width": (8, 16, 24, 32, 48),
        "resolution": (32, 64, 96, 128, 160, 224),
        "classes": (10, 100, 1000),
    }
    lists = {"depths": ((3, 4), (1, 2, 3, 4))}

    def plan(self, spec: dict[str, Any]) -> Plan:
        """Stem, stages of residual blocks (stride 2 from the second stage), classifier."""
        width = spec["width"]
        layers: list[Layer]
        if spec["resolution"] > CIFAR_STEM_MAX_RESOLUTION:
            layers = [ConvBN(width, (7, 7), (2, 2)), MaxPool(3, 2, 1)]
        else:
            layers = [ConvBN(width, (3, 3))]
        expansion = BOTTLENECK_EXPANSION if spec["block"] == "bottleneck" else 1
        for stage, depth in enumerate(spec["depths"]):
            mid = width * 2**stage
            for i in range(depth):
                stride = 2 if stage > 0 and i == 0 else 1
                layers.append(ResBlock(spec["block"], mid, mid * expansion, stride))
        layers.append(Classifier(spec["classes"]))
        res = spec["resolution"]
        return Plan((1, 3, res, res), tuple(layers))
