"""FBNet: the 22-layer, 9-choice layer-wise search space on a CIFAR-100 network (32x32 input).

A spec is the ``arch`` string of the measured latency table: 22 digits, one per searchable layer,
each indexing :data:`CHOICES` (``k3_e1, k3_e1_g2, k3_e3, k3_e6, k5_e1, k5_e1_g2, k5_e3, k5_e6,
skip``).
"""

from __future__ import annotations

import random
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from predictor.ir.fragments import Fragment, join_fragments
from predictor.ir.schema import GraphIR
from predictor.spaces.base import InvalidSpecError, SearchSpace
from predictor.spaces.irgraph import IRWriter, TensorRef, conv_out

if TYPE_CHECKING:
    import torch

#: Choice name -> (kernel, expansion, groups), ``None`` for skip.
CHOICES: dict[str, tuple[int, int, int] | None] = {
    "k3_e1": (3, 1, 1),
    "k3_e1_g2": (3, 1, 2),
    "k3_e3": (3, 3, 1),
    "k3_e6": (3, 6, 1),
    "k5_e1": (5, 1, 1),
    "k5_e1_g2": (5, 1, 2),
    "k5_e3": (5, 3, 1),
    "k5_e6": (5, 6, 1),
    "skip": None,
}
CHOICE_NAMES: tuple[str, ...] = tuple(CHOICES)
STAGE_LAYERS: tuple[int, ...] = (1, 4, 4, 4, 4, 4, 1)
STAGE_CHANNELS: tuple[int, ...] = (16, 24, 32, 64, 112, 184, 352)
STAGE_STRIDES: tuple[int, ...] = (1, 1, 2, 2, 1, 2, 1)
STEM_CHANNELS = 16
HEAD_CHANNELS = 1504
CLASSES = 100
INPUT_SHAPE = (1, 3, 32, 32)
NUM_LAYERS = sum(STAGE_LAYERS)

#: (cin, cout, stride) of each of the 22 searchable layers.
LAYER_SHAPES: tuple[tuple[int, int, int], ...] = tuple(
    (
        STEM_CHANNELS if s == 0 and i == 0 else (STAGE_CHANNELS[s] if i else STAGE_CHANNELS[s - 1]),
        STAGE_CHANNELS[s],
        STAGE_STRIDES[s] if i == 0 else 1,
    )
    for s, n in enumerate(STAGE_LAYERS)
    for i in range(n)
)


def parse_arch(arch: Any) -> tuple[int, ...]:
    """The 22 choice indices of an arch string.

    Raises:
        InvalidSpecError: wrong type or length, or a digit outside 0-8.
    """
    if not isinstance(arch, str):
        raise InvalidSpecError(f"fbnet: spec must be a 22-digit string, got {type(arch).__name__}")
    if len(arch) != NUM_LAYERS:
        raise InvalidSpecError(
            f"fbnet: arch {arch!r} has {len(arch)} digits; expected {NUM_LAYERS}"
        )
    for layer, ch in enumerate(arch):
        if ch not in "012345678":
            raise InvalidSpecError(
                f"fbnet: layer {layer} choice {ch!r} is not valid; choose a digit 0-8 meaning "
                f"{list(CHOICE_NAMES)}"
            )
    return tuple(int(ch) for ch in arch)


def write_ir(spec: str) -> GraphIR:
    """The IR of ``spec`` written node by node in one builder (the reference for ``to_ir``)."""
    w = IRWriter(f"fbnet:{spec}", INPUT_SHAPE)
    x = _stem(w, w.input)
    for (cin, cout, stride), index in zip(LAYER_SHAPES, parse_arch(spec), strict=True):
        x = _layer(w, x, cin, cout, stride, CHOICES[CHOICE_NAMES[index]])
    return w.finish((_head(w, x),))


class FBNet(SearchSpace):
    """The FBNet layer-choice space."""

    name = "fbnet"

    def sample(self, rng: random.Random) -> str:
        """A uniformly random arch string."""
        return "".join(str(rng.randrange(len(CHOICES))) for _ in range(NUM_LAYERS))

    def validate(self, spec: Any) -> None:
        """Check an arch string (see :func:`parse_arch`)."""
        parse_arch(spec)

    def decode(self, text: str) -> str:
        """Arch strings are their own encoding."""
        self.validate(text)
        return text

    def input_shape(self, spec: Any) -> tuple[int, ...]:
        """CIFAR input, batch 1."""
        return INPUT_SHAPE

    def build(self, spec: Any) -> torch.nn.Module:
        """The CIFAR-100 network for ``spec`` with seeded weights, in eval mode."""
        import torch

        from predictor.spaces.nets.fbnet import FBNetNet
        from predictor.spaces.torch_blocks import randomize_batchnorm

        choices = [CHOICES[CHOICE_NAMES[i]] for i in parse_arch(spec)]
        layers = [(*shape, c) for shape, c in zip(LAYER_SHAPES, choices, strict=True)]
        torch.manual_seed(0)
        net = FBNetNet(layers, STEM_CHANNELS, HEAD_CHANNELS, CLASSES)
        return randomize_batchnorm(net, seed=1)

    def to_ir(self, spec: Any) -> GraphIR:
        """The IR of ``spec``, joined from cached per-layer fragments (equals :func:`write_ir`)."""
        layers = [_layer_fragment(i, c) for i, c in enumerate(parse_arch(spec))]
        return join_fragments(f"fbnet:{spec}", [_stem_fragment(), *layers, _head_fragment()])

    def manifest(self) -> dict[str, Any]:
        """Choices and network constants."""
        return {
            "name": self.name,
            "spec": "22 digits, one per searchable layer, indexing choices",
            "choices": {
                k: (
                    None
                    if v is None
                    else dict(zip(("kernel", "expansion", "groups"), v, strict=True))
                )
                for k, v in CHOICES.items()
            },
            "stage_layers": list(STAGE_LAYERS),
            "stage_channels": list(STAGE_CHANNELS),
            "stage_strides": list(STAGE_STRIDES),
            "stem_channels": STEM_CHANNELS,
            "head_channels": HEAD_CHANNELS,
            "classes": CLASSES,
            "input_shape": list(INPUT_SHAPE),
            "size": len(CHOICES) ** NUM_LAYERS,
        }


def _stem(w: IRWriter, x: TensorRef) -> TensorRef:
    return w.relu(w.conv(x, STEM_CHANNELS, 3))


def _head(w: IRWriter, x: TensorRef) -> TensorRef:
    x = w.relu(w.conv(x, HEAD_CHANNELS, 1))
    return w.linear(w.flatten(w.global_avgpool(x)), CLASSES)


def _layer_input_shapes() -> tuple[tuple[int, int, int, int], ...]:
    """Input shape of each searchable layer, then of the head (every choice keeps the stride)."""
    shapes, size = [], INPUT_SHAPE[2]  # the stem keeps the size
    for cin, _, stride in LAYER_SHAPES:
        shapes.append((INPUT_SHAPE[0], cin, size, size))
        size = conv_out(size, 3, stride, 1)
    shapes.append((INPUT_SHAPE[0], LAYER_SHAPES[-1][1], size, size))
    return tuple(shapes)


#: Input shape of each of the 22 searchable layers and, last, of the head.
LAYER_INPUT_SHAPES = _layer_input_shapes()


@lru_cache(maxsize=1)
def _stem_fragment() -> Fragment:
    w = IRWriter("fbnet:stem", INPUT_SHAPE)
    return w.fragment(_stem(w, w.input))


@lru_cache(maxsize=1)
def _head_fragment() -> Fragment:
    w = IRWriter("fbnet:head", LAYER_INPUT_SHAPES[NUM_LAYERS])
    return w.fragment(_head(w, w.input))


@lru_cache(maxsize=NUM_LAYERS * len(CHOICES))
def _layer_fragment(layer: int, index: int) -> Fragment:
    """Layer ``layer`` with choice ``index``, written once and shared by every graph."""
    w = IRWriter(f"fbnet:layer{layer}", LAYER_INPUT_SHAPES[layer])
    choice = CHOICES[CHOICE_NAMES[index]]
    return w.fragment(_layer(w, w.input, *LAYER_SHAPES[layer], choice))


def _layer(
    w: IRWriter, x: TensorRef, cin: int, cout: int, stride: int, choice: tuple[int, int, int] | None
) -> TensorRef:
    if choice is None:
        if cin == cout and stride == 1:
            return x
        return w.relu(w.conv(x, cout, 1, stride))
    kernel, expand, groups = choice
    hidden = cin * expand
    y = w.relu(w.conv(x, hidden, 1, groups=groups))
    if groups > 1:
        y = _shuffle(w, y, groups)
    y = w.relu(w.conv(y, hidden, kernel, stride, groups=hidden))
    y = w.conv(y, cout, 1, groups=groups)
    return w.add(y, x) if cin == cout and stride == 1 else y


@lru_cache(maxsize=64)
def _shuffle_shapes(shape: tuple[int, ...], groups: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    n, c, h, w = shape
    return (n, groups, c // groups, h, w), (n, c // groups, groups, h, w)


def _shuffle(w: IRWriter, x: TensorRef, groups: int) -> TensorRef:
    shape = w.shape(x)
    split, swapped = _shuffle_shapes(shape, groups)
    y = w.transpose(w.reshape(x, split), (0, 2, 1, 3, 4))
    assert w.shape(y) == swapped
    return w.reshape(y, shape)
