"""Shared exports for the IR tests (each network is exported once per test session)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from .nets import SMALL_NETS, export_onnx, randomize


@dataclass(frozen=True)
class Exported:
    """A network, its example input and both exporters' ONNX bytes."""

    model: nn.Module
    x: torch.Tensor
    torchscript: bytes
    dynamo: bytes


_CACHE: dict[str, Exported] = {}


def _export(name: str) -> Exported:
    if name not in _CACHE:
        factory, shape = SMALL_NETS[name]
        torch.manual_seed(0)
        model = randomize(factory())
        x = torch.randn(*shape)
        _CACHE[name] = Exported(
            model, x, export_onnx(model, x, dynamo=False), export_onnx(model, x, dynamo=True)
        )
    return _CACHE[name]


@pytest.fixture(scope="session")
def exported() -> Callable[[str], Exported]:
    """Function name -> :class:`Exported` (cached for the session)."""
    return _export
