"""Keyword-spotting CNNs that fit microcontrollers (DS-CNN and MicroNet-style plain CNNs).

Input: one 49x10 MFCC image (49 frames of 10 coefficients), 12 classes, as in the ARM
ML-zoo / MLPerf Tiny keyword-spotting models.
"""

from __future__ import annotations

from typing import Any

from predictor.spaces.dictspace import PlanSpace
from predictor.spaces.plan import Classifier, ConvBN, Layer, Plan

INPUT_SHAPE = (1, 1, 49, 10)
CLASSES = 12


class KeywordSpotting(PlanSpace):
    """DS-CNN (depthwise-separable blocks) or a plain CNN over an MFCC input."""

    name = "kws"
    choices = {
        "arch": ("dscnn", "cnn"),
        "stem_kernel": ((10, 4), (3, 3)),
        "stem_channels": (16, 32, 64, 84, 128, 172, 276),
    }
    lists = {"channels": ((2, 3, 4, 5, 6), (16, 32, 48, 64, 84, 112, 128, 172, 196, 276))}

    def sample(self, rng: Any) -> dict[str, Any]:
        """Random DS-CNN or CNN (stem kernels as lists, the JSON form)."""
        spec = super().sample(rng)
        spec["stem_kernel"] = list(spec["stem_kernel"])
        return spec

    def validate(self, spec: Any) -> None:
        """As :meth:`DictSpace.validate`, accepting ``stem_kernel`` as a JSON list."""
        if isinstance(spec, dict) and isinstance(spec.get("stem_kernel"), list):
            spec = {**spec, "stem_kernel": tuple(spec["stem_kernel"])}
        super().validate(spec)

    def plan(self, spec: dict[str, Any]) -> Plan:
        """Strided stem conv, then DS blocks (depthwise 3x3 + pointwise) or 3x3 convs."""
        kernel = tuple(spec["stem_kernel"])
        layers: list[Layer] = [ConvBN(spec["stem_channels"], (kernel[0], kernel[1]), (2, 2))]
        cin = spec["stem_channels"]
        for cout in spec["channels"]:
            if spec["arch"] == "dscnn":
                layers.append(ConvBN(cin, (3, 3), groups=cin))
                layers.append(ConvBN(cout, (1, 1)))
            else:
                layers.append(ConvBN(cout, (3, 3)))
            cin = cout
        layers.append(Classifier(CLASSES))
        return Plan(INPUT_SHAPE, tuple(layers))
