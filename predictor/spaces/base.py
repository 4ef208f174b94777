"""The search-space interface shared by every architecture family.

A *spec* is a small JSON-serialisable description of one network: for NAS-Bench-201 and FBNet it
is the ``arch`` string of the measured latency tables, for the broader families a dict of
hyper-parameters. Every space can turn a spec into a torch module, an ONNX file and, without
torch or ONNX, straight into the graph IR (``to_ir``), which must equal the IR imported from the
exported ONNX.
"""

from __future__ import annotations

import json
import random
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from predictor.ir.schema import GraphIR

if TYPE_CHECKING:
    import torch

#: A network description: an ``arch`` string (NB201, FBNet) or a dict of hyper-parameters.
Spec = Any


class InvalidSpecError(ValueError):
    """A spec is not a member of its search space; the message names the bad part and choices."""

    code = "invalid_spec"


class UnknownSpaceError(KeyError):
    """No search space has the requested name; the message lists the valid names."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown search space"


def check_choice(space: str, key: str, value: object, choices: Iterable[object]) -> None:
    """Raise :class:`InvalidSpecError` unless ``value`` is one of ``choices``.

    Args:
        space: name of the space (for the message).
        key: which part of the spec is checked.
        value: the value found.
        choices: the valid values.

    Raises:
        InvalidSpecError: ``value`` is not in ``choices``.
    """
    options = list(choices)
    if value not in options or isinstance(value, bool) != any(isinstance(c, bool) for c in options):
        raise InvalidSpecError(f"{space}: {key}={value!r} is not valid; choose one of {options}")


def canonical_json(spec: dict[str, Any]) -> str:
    """Stable string form of a dict spec (sorted keys, no spaces)."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


class SearchSpace(ABC):
    """One family of architectures: sample, validate, build, export and describe as IR."""

    name: str

    @abstractmethod
    def sample(self, rng: random.Random) -> Spec:
        """Draw one valid spec using ``rng`` only (same seed, same spec)."""

    @abstractmethod
    def validate(self, spec: Spec) -> None:
        """Check ``spec``.

        Raises:
            InvalidSpecError: naming the bad part of the spec and the valid choices.
        """

    @abstractmethod
    def build(self, spec: Spec) -> torch.nn.Module:
        """The network as a torch module in eval mode with deterministic (seeded) weights."""

    @abstractmethod
    def input_shape(self, spec: Spec) -> tuple[int, ...]:
        """Shape of the single input tensor (batch 1)."""

    @abstractmethod
    def to_ir(self, spec: Spec) -> GraphIR:
        """The graph IR built straight from the spec (no torch, no ONNX)."""

    def encode(self, spec: Spec) -> str:
        """Stable string form of ``spec`` (canonical JSON for dict specs)."""
        self.validate(spec)
        return spec if isinstance(spec, str) else canonical_json(spec)

    def decode(self, text: str) -> Spec:
        """Inverse of :meth:`encode`.

        Raises:
            InvalidSpecError: the text is not a valid spec of this space.
        """
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidSpecError(f"{self.name}: spec is not JSON: {text[:80]!r}") from exc
        self.validate(spec)
        return spec

    def input_dtype(self, spec: Spec) -> str:
        """Element type of the input tensor (``"float32"``; token models override)."""
        return "float32"

    def example_input(self, spec: Spec) -> torch.Tensor:
        """A deterministic example input tensor for export and tests."""
        import torch

        gen = torch.Generator().manual_seed(0)
        return torch.randn(self.input_shape(spec), generator=gen)

    def example_inputs(self, spec: Spec) -> tuple[torch.Tensor, ...]:
        """Every graph input, in order (one tensor unless a space has several inputs)."""
        return (self.example_input(spec),)

    def to_onnx(self, spec: Spec, *, dynamo: bool = False) -> bytes:
        """Export the network to one self-contained ONNX file (batch 1, fixed input shape).

        Args:
            spec: a valid spec of this space.
            dynamo: use the torch.export-based exporter instead of the TorchScript one.

        Returns:
            The serialised ONNX model.
        """
        from predictor.spaces.export import export_onnx

        self.validate(spec)
        return export_onnx(self.build(spec), self.example_input(spec), dynamo=dynamo)

    def manifest(self) -> dict[str, Any]:
        """Human-readable description of the space's choices (``datasets/spaces/<name>.json``)."""
        return {"name": self.name}
