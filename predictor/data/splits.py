"""The published HELP few-shot device splits per search space."""

from __future__ import annotations

from dataclasses import dataclass

_NB201_TRAIN = (
    "1080ti_1",
    "1080ti_32",
    "1080ti_256",
    "silver_4114",
    "silver_4210r",
    "samsung_a50",
    "pixel3",
    "essential_ph_1",
    "samsung_s7",
)
_NB201_VAL = ("titanx_1", "titanx_32", "titanx_256", "gold_6240")
_NB201_TEST = ("titan_rtx_256", "gold_6226", "fpga", "pixel2", "raspi4", "eyeriss")


@dataclass(frozen=True, slots=True)
class DeviceSplit:
    """Meta-train, validation and test devices of one space."""

    train: tuple[str, ...]
    validation: tuple[str, ...]
    test: tuple[str, ...]

    def restricted_to(self, available: tuple[str, ...]) -> DeviceSplit:
        """The same split keeping only devices present in ``available``."""
        keep = set(available)
        return DeviceSplit(
            tuple(d for d in self.train if d in keep),
            tuple(d for d in self.validation if d in keep),
            tuple(d for d in self.test if d in keep),
        )


PUBLISHED_SPLITS: dict[str, DeviceSplit] = {
    "nasbench201": DeviceSplit(_NB201_TRAIN, _NB201_VAL, _NB201_TEST),
    "fbnet": DeviceSplit(_NB201_TRAIN, _NB201_VAL, ("raspi4", "eyeriss", "fpga")),
}

#: Measurements per meta-train device in the published protocol.
META_TRAIN_SAMPLES = 900
