"""Search spaces whose specs are small dicts of hyper-parameters with enumerated choices."""

from __future__ import annotations

import random
from abc import abstractmethod
from typing import TYPE_CHECKING, Any

from predictor.ir.schema import GraphIR
from predictor.spaces.base import InvalidSpecError, SearchSpace, check_choice

if TYPE_CHECKING:
    import torch

    from predictor.spaces.plan import Plan
    from predictor.spaces.zoo_layers import ZooPlan


class DictSpace(SearchSpace):
    """A space of dict specs: scalar fields pick from ``choices``, list fields from ``lists``.

    ``lists`` maps a field to ``(allowed lengths, allowed element values)``.
    """

    choices: dict[str, tuple[Any, ...]] = {}
    lists: dict[str, tuple[tuple[int, ...], tuple[Any, ...]]] = {}

    def sample(self, rng: random.Random) -> dict[str, Any]:
        """Each field drawn uniformly from its choices (list lengths too)."""
        spec: dict[str, Any] = {key: rng.choice(options) for key, options in self.choices.items()}
        for key, (lengths, options) in self.lists.items():
            spec[key] = [rng.choice(options) for _ in range(rng.choice(lengths))]
        return spec

    def validate(self, spec: Any) -> None:
        """Check the field set and every value against its choices."""
        if not isinstance(spec, dict):
            raise InvalidSpecError(f"{self.name}: spec must be a dict, got {type(spec).__name__}")
        expected = set(self.choices) | set(self.lists)
        if set(spec) != expected:
            missing, extra = sorted(expected - set(spec)), sorted(set(spec) - expected)
            raise InvalidSpecError(
                f"{self.name}: spec fields must be {sorted(expected)} (missing {missing}, "
                f"unknown {extra})"
            )
        for key, options in self.choices.items():
            check_choice(self.name, key, spec[key], options)
        for key, (lengths, options) in self.lists.items():
            value = spec[key]
            if not isinstance(value, list):
                raise InvalidSpecError(f"{self.name}: {key} must be a list, got {value!r}")
            check_choice(self.name, f"len({key})", len(value), lengths)
            for i, item in enumerate(value):
                check_choice(self.name, f"{key}[{i}]", item, options)
        self.check_consistency(spec)

    def check_consistency(self, spec: dict[str, Any]) -> None:
        """Cross-field checks beyond per-field choices (none by default)."""

    def manifest(self) -> dict[str, Any]:
        """Field choices of this space."""
        return {
            "name": self.name,
            "spec": "dict of hyper-parameters; encode = canonical JSON (sorted keys)",
            "choices": {k: list(v) for k, v in self.choices.items()},
            "lists": {
                k: {"lengths": list(n), "values": list(v)} for k, (n, v) in self.lists.items()
            },
        }


class PlanSpace(DictSpace):
    """A dict space of CNNs described by a :class:`predictor.spaces.plan.Plan`."""

    @abstractmethod
    def plan(self, spec: dict[str, Any]) -> Plan:
        """The layer plan of a valid spec."""

    def input_shape(self, spec: Any) -> tuple[int, ...]:
        """``(1, C, H, W)`` of the plan."""
        self.validate(spec)
        return self.plan(spec).input_shape

    def build(self, spec: Any) -> torch.nn.Module:
        """The torch network of the spec's plan (seeded, eval mode)."""
        from predictor.spaces.nets.plan import build_plan

        self.validate(spec)
        return build_plan(self.plan(spec))

    def to_ir(self, spec: Any) -> GraphIR:
        """The IR of the spec's plan, written without torch."""
        from predictor.spaces.plan import plan_to_ir

        self.validate(spec)
        return plan_to_ir(self.plan(spec), f"{self.name}:{self.encode(spec)}")


class ZooPlanSpace(DictSpace):
    """A dict space of CNNs described by a :class:`predictor.spaces.zoo_layers.ZooPlan`."""

    @abstractmethod
    def plan(self, spec: dict[str, Any]) -> ZooPlan:
        """The layer plan of a valid spec."""

    def input_shape(self, spec: Any) -> tuple[int, ...]:
        """``(1, C, H, W)`` of the plan."""
        self.validate(spec)
        return self.plan(spec).input_shape

    def build(self, spec: Any) -> torch.nn.Module:
        """The torch network of the spec's plan (seeded, eval mode)."""
        from predictor.spaces.nets.zoo_layers import build_zoo_plan

        self.validate(spec)
        return build_zoo_plan(self.plan(spec))

    def to_ir(self, spec: Any) -> GraphIR:
        """The IR of the spec's plan, written without torch."""
        from predictor.spaces.zoo_layers import zoo_plan_to_ir

        self.validate(spec)
        return zoo_plan_to_ir(self.plan(spec), f"{self.name}:{self.encode(spec)}")
