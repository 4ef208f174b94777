"""The graph zoo: seeded samples of every architecture family, sized for quick measurement.

Each family is one search space (its name is the family, the leave-one-family-out unit). The
sampler draws specs from a family's own seeded stream, drops repeats and networks outside the
MAC window (so a 1-thread CPU run takes roughly 0.3-100 ms), and interleaves the families, so a
corpus cut short at any point still covers every family about equally.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from predictor.spaces.base import UnknownSpaceError
from predictor.spaces.registry import SPACES, get_space

#: Families of the zoo in display order; the NAS cell spaces have published tables instead.
ZOO_FAMILIES: tuple[str, ...] = tuple(s for s in SPACES if s not in ("nasbench201", "fbnet"))
#: Sampled networks outside this MAC window are redrawn (about 0.3-100 ms on one host core).
MIN_MACS = 200_000
MAX_MACS = 1_500_000_000
#: Draws per wanted network before a family is declared exhausted (its space is small).
MAX_DRAWS_PER_SPEC = 30


@dataclass(frozen=True, slots=True)
class ZooMember:
    """One sampled network: its family (= space), spec and the spec's canonical encoding."""

    family: str
    spec: Any
    spec_key: str
    macs: int

    def key_for(self, device: str) -> tuple[str, str, str]:
        """The corpus key of this member measured on ``device``."""
        return (self.family, self.spec_key, device)


def check_families(families: Sequence[str]) -> None:
    """Raise :class:`UnknownSpaceError` naming the first unknown family and the valid ones."""
    for family in families:
        if family not in ZOO_FAMILIES:
            raise UnknownSpaceError(
                f"unknown zoo family {family!r}; valid families: {list(ZOO_FAMILIES)}"
            )


def family_members(
    family: str,
    count: int,
    seed: int = 0,
    min_macs: int = MIN_MACS,
    max_macs: int = MAX_MACS,
) -> Iterator[ZooMember]:
    """Up to ``count`` distinct members of ``family`` from its own seeded stream.

    The stream depends on ``seed`` and the family name only, so adding a family or asking for
    more members keeps every member drawn before.
    """
    space = get_space(family)
    rng = random.Random(seed * 1_000_003 + zlib.crc32(family.encode()))
    # A space spanning sizes far beyond quick measurement (llm: up to ~1B parameters) offers a
    # small-model sampler; its stream is the one the committed corpus was measured with.
    draw = getattr(space, "reference_sample", space.sample)
    seen: set[str] = set()
    for _ in range(count * MAX_DRAWS_PER_SPEC):
        if len(seen) >= count:
            return
        spec = draw(rng)
        key = space.encode(spec)
        if key in seen:
            continue
        macs = space.to_ir(spec).macs
        if not min_macs <= macs <= max_macs:
            continue
        seen.add(key)
        yield ZooMember(family, spec, key, macs)


def sample_zoo(
    families: Sequence[str] = ZOO_FAMILIES,
    per_family: int = 100,
    seed: int = 0,
    min_macs: int = MIN_MACS,
    max_macs: int = MAX_MACS,
) -> list[ZooMember]:
    """``per_family`` members of each family, interleaved family by family (round robin).

    A family whose space rarely reaches the MAC window gives fewer (or none).

    Raises:
        UnknownSpaceError: a family is not in :data:`ZOO_FAMILIES`.
        ValueError: the MAC window is empty.
    """
    check_families(families)
    if not 0 <= min_macs <= max_macs:
        raise ValueError(f"empty MAC window: min_macs {min_macs} > max_macs {max_macs}")
    streams = [list(family_members(f, per_family, seed, min_macs, max_macs)) for f in families]
    out: list[ZooMember] = []
    for i in range(max((len(s) for s in streams), default=0)):
        out.extend(s[i] for s in streams if i < len(s))
    return out
