"""EfficientNet-like networks: MBConv + squeeze-excite + swish, compound width/depth/resolution."""

from __future__ import annotations

import math
from typing import Any

from predictor.spaces.dictspace import PlanSpace
from predictor.spaces.plan import Classifier, ConvBN, Layer, MBConv, Plan, make_divisible

#: EfficientNet-B0 stages: (expansion, kernel, stride, channels, repeats).
B0_STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)
SE_RATIO = 0.25


class EfficientNet(PlanSpace):
    """EfficientNet-B0 scaled by width, depth and input resolution."""

    name = "efficientnet"
    choices = {
        "width": (0.25, 0.5, 0.75, 1.0, 1.1),
        "depth": (0.34, 0.5, 0.75, 1.0, 1.2),
        "resolution": (32, 64, 96, 128, 160, 192, 224),
        "classes": (10, 100, 1000),
    }

    def plan(self, spec: dict[str, Any]) -> Plan:
        """Stem, scaled MBConv stages (SE on each block), 1x1 head conv, classifier."""
        width = spec["width"]
        cin = make_divisible(32 * width)
        layers: list[Layer] = [ConvBN(cin, (3, 3), (2, 2), act="swish")]
        for expand, kernel, stride, channels, repeats in B0_STAGES:
            cout = make_divisible(channels * width)
            for i in range(max(1, math.ceil(repeats * spec["depth"]))):
                se = max(1, int(cin * SE_RATIO))
                hidden = cin * expand
                layers.append(
                    MBConv(cout, hidden, kernel, stride if i == 0 else 1, "swish", se, "swish")
                )
                cin = cout
        layers.append(ConvBN(make_divisible(1280 * max(1.0, width)), (1, 1), act="swish"))
        layers.append(Classifier(spec["classes"]))
        res = spec["resolution"]
        return Plan((1, 3, res, res), tuple(layers))
