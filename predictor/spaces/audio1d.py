"""1-D convolutional audio networks over time (kx1 kernels on an ``(1, C, T, 1)`` input).

Written as 2-D convolutions with ``(k, 1)`` kernels, as TFLite audio models are: the frames of a
spectrogram (its coefficients as channels, TC-ResNet-like) or a raw waveform (one channel).
"""

from __future__ import annotations

from typing import Any

from predictor.spaces.dictspace import PlanSpace
from predictor.spaces.plan import Classifier, ConvBN, Layer, Plan

#: Input name -> (channels, time steps, stem kernel, stem stride).
INPUTS: dict[str, tuple[int, int, int, int]] = {
    "mfcc10x49": (10, 49, 3, 1),
    "mfcc40x101": (40, 101, 3, 1),
    "mel64x200": (64, 200, 5, 2),
    "wave8k": (1, 8000, 80, 8),
    "wave16k": (1, 16000, 80, 16),
}


class Audio1D(PlanSpace):
    """Stem conv, conv layers (plain or depthwise-separable) striding every few, classifier."""

    name = "audio1d"
    choices = {
        "input": tuple(INPUTS),
        "kernel": (3, 5, 7, 9),
        "separable": (False, True),
        "stride_every": (1, 2, 3),
        "classes": (12, 35, 50),
    }
    lists = {"channels": ((3, 4, 5, 6, 8), (16, 24, 32, 48, 64, 96, 128, 192, 256))}

    def plan(self, spec: dict[str, Any]) -> Plan:
        """Time stride 2 on every ``stride_every``-th layer while more than 4 steps remain."""
        cin, steps, stem_k, stem_s = INPUTS[spec["input"]]
        k = spec["kernel"]
        first = spec["channels"][0]
        layers: list[Layer] = [ConvBN(first, (stem_k, 1), (stem_s, 1))]
        steps = (steps + 2 * (stem_k // 2) - stem_k) // stem_s + 1
        c = first
        for i, cout in enumerate(spec["channels"][1:], start=1):
            s = 2 if i % spec["stride_every"] == 0 and steps > 4 else 1
            steps = (steps + 2 * (k // 2) - k) // s + 1
            if spec["separable"]:
                layers.append(ConvBN(c, (k, 1), (s, 1), groups=c))
                layers.append(ConvBN(cout, (1, 1)))
            else:
                layers.append(ConvBN(cout, (k, 1), (s, 1)))
            c = cout
        layers.append(Classifier(spec["classes"]))
        return Plan((1, cin, INPUTS[spec["input"]][1], 1), tuple(layers))
