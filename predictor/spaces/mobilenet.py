"""MobileNetV2/V3-like networks: inverted residuals, optional squeeze-excite, ReLU or hard-swish.

From MCU-sized (width 0.25 at 32x32) to phone-sized (width 1.0 at 224x224).
"""

from __future__ import annotations

import math
from typing import Any

from predictor.spaces.dictspace import PlanSpace
from predictor.spaces.plan import Act, Classifier, ConvBN, Layer, MBConv, Plan, make_divisible

#: MobileNetV2 stages: (expansion, channels, repeats, stride); expansion 0 = the spec's.
BASE_STAGES: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (0, 24, 2, 2),
    (0, 32, 3, 2),
    (0, 64, 4, 2),
    (0, 96, 3, 1),
    (0, 160, 3, 2),
    (0, 320, 1, 1),
)


class MobileNet(PlanSpace):
    """MobileNetV2 (``v2``: ReLU) and V3-like (``v3``: hard-swish) with scaled width/depth."""

    name = "mobilenet"
    choices = {
        "version": ("v2", "v3"),
        "resolution": (32, 48, 64, 96, 128, 160, 192, 224),
        "width": (0.25, 0.35, 0.5, 0.75, 1.0),
        "depth": (0.5, 0.75, 1.0),
        "kernel": (3, 5),
        "expand": (3, 4, 6),
        "se": (False, True),
        "classes": (10, 100, 1000),
    }

    def plan(self, spec: dict[str, Any]) -> Plan:
        """Stem, scaled inverted-residual stages, 1x1 head conv, classifier."""
        act: Act = "hswish" if spec["version"] == "v3" else "relu"
        width, cin = spec["width"], make_divisible(32 * spec["width"])
        layers: list[Layer] = [ConvBN(cin, (3, 3), (2, 2), act=act)]
        for expand, channels, repeats, stride in BASE_STAGES:
            cout = make_divisible(channels * width)
            hidden_ratio = expand or spec["expand"]
            for i in range(max(1, math.ceil(repeats * spec["depth"]))):
                hidden = make_divisible(cin * hidden_ratio) if hidden_ratio > 1 else cin
                se = make_divisible(hidden / 4) if spec["se"] else 0
                layers.append(
                    MBConv(cout, hidden, spec["kernel"], stride if i == 0 else 1, act, se, "relu")
                )
                cin = cout
        layers.append(ConvBN(make_divisible(1280 * max(1.0, width)), (1, 1), act=act))
        layers.append(Classifier(spec["classes"]))
        res = spec["resolution"]
        return Plan((1, 3, res, res), tuple(layers))
