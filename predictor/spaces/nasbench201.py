"""NAS-Bench-201: the 15,625-cell search space on the CIFAR-10 network (C=16, N=5).

A spec is the ``arch`` string of the measured latency table, e.g.
``|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|``.
A cell has four nodes; node 0 is the cell input, node 3 its output, each node the sum of its
incoming edges. ``none`` is a zero edge: it contributes nothing, and so does every edge leaving
a node whose incoming edges all contribute nothing (such a node is zero). A cell whose output is
zero is written as ``input * 0`` (one ``Mul``) so the network stays connected.
"""

from __future__ import annotations

import random
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from predictor.ir.schema import GraphIR
from predictor.spaces import nb201_ir
from predictor.spaces.base import InvalidSpecError, SearchSpace
from predictor.spaces.nb201_ir import CELLS_PER_STAGE, CHANNELS, CLASSES, INPUT_SHAPE, LiveEdge

if TYPE_CHECKING:
    import torch

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: (target node, source node) of the six edges in string order.
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))


def parse_arch(arch: str) -> tuple[str, ...]:
    """The six edge ops of an ``arch`` string, in string order.

    Raises:
        InvalidSpecError: the string is malformed or names an unknown op.
    """
    if not isinstance(arch, str):
        raise InvalidSpecError(
            f"nasbench201: spec must be an arch string, got {type(arch).__name__}"
        )
    groups = arch.split("+")
    if len(groups) != 3:
        raise InvalidSpecError(f"nasbench201: arch {arch!r} must have 3 '+'-separated node groups")
    ops: list[str] = []
    for target, group in enumerate(groups, start=1):
        parts = group.split("|")
        if len(parts) != target + 2 or parts[0] or parts[-1]:
            raise InvalidSpecError(f"nasbench201: node {target} group {group!r} must be |op~i|...")
        for source, token in enumerate(parts[1:-1]):
            op, _, index = token.partition("~")
            if op not in OPS:
                raise InvalidSpecError(
                    f"nasbench201: op {op!r} on edge {target}<-{source} "
                    f"is not valid; choose one of {list(OPS)}"
                )
            if index != str(source):
                raise InvalidSpecError(f"nasbench201: edge token {token!r} must end in ~{source}")
            ops.append(op)
    return tuple(ops)


def format_arch(ops: tuple[str, ...]) -> str:
    """Inverse of :func:`parse_arch`."""
    groups, k = [], 0
    for target in (1, 2, 3):
        groups.append("|" + "|".join(f"{ops[k + s]}~{s}" for s in range(target)) + "|")
        k += target
    return "+".join(groups)


def write_ir(spec: str) -> GraphIR:
    """The IR of ``spec`` written node by node in one builder (the reference for ``to_ir``)."""
    return nb201_ir.write_ir(f"nasbench201:{spec}", *live_edges(spec))


@lru_cache(maxsize=16384)
def live_edges(arch: str) -> tuple[tuple[LiveEdge, ...], bool]:
    """Edges that reach the cell output (in string order) and whether the output is non-zero.

    An edge counts when its op is not ``none``, its source is non-zero (reached from node 0)
    and its target feeds the output: exporters drop computations whose result is never read.
    """
    live = {0}
    edges: list[LiveEdge] = []
    for (target, source), op in zip(EDGES, parse_arch(arch), strict=True):
        if op != "none" and source in live:
            edges.append((target, source, op))
            live.add(target)
    useful = {3}
    for target, source, _ in reversed(edges):
        if target in useful:
            useful.add(source)
    return tuple(e for e in edges if e[0] in useful), 3 in live


class NasBench201(SearchSpace):
    """The NAS-Bench-201 cell space."""

    name = "nasbench201"

    def sample(self, rng: random.Random) -> str:
        """A uniformly random arch string."""
        return format_arch(tuple(rng.choice(OPS) for _ in EDGES))

    def all_archs(self) -> list[str]:
        """All 5**6 = 15,625 arch strings."""
        import itertools

        return [format_arch(ops) for ops in itertools.product(OPS, repeat=len(EDGES))]

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
        """The CIFAR-10 network for ``spec`` with seeded weights, in eval mode."""
        import torch

        from predictor.spaces.nets.nasbench201 import NB201Net
        from predictor.spaces.torch_blocks import randomize_batchnorm

        edges, output_live = live_edges(spec)
        torch.manual_seed(0)
        net = NB201Net(list(edges), output_live, CHANNELS, CELLS_PER_STAGE, CLASSES)
        return randomize_batchnorm(net, seed=1)

    def to_ir(self, spec: Any) -> GraphIR:
        """The IR of ``spec``, joined from cached fragments (equals :func:`write_ir`)."""
        return nb201_ir.fragment_ir(f"nasbench201:{spec}", *live_edges(spec))

    def manifest(self) -> dict[str, Any]:
        """Choices and network constants."""
        return {
            "name": self.name,
            "spec": "arch string |op~0|+|op~0|op~1|+|op~0|op~1|op~2| (edges 1<-0; 2<-0, 2<-1; "
            "3<-0, 3<-1, 3<-2)",
            "ops": list(OPS),
            "edges": [list(e) for e in EDGES],
            "channels": CHANNELS,
            "cells_per_stage": CELLS_PER_STAGE,
            "classes": CLASSES,
            "input_shape": list(INPUT_SHAPE),
            "size": len(OPS) ** len(EDGES),
        }
