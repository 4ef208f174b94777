"""Benchmark: how many specs per second each space turns into graph IR (``to_ir``).

Run ``python -m predictor.spaces.speed [COUNT]``; prints one line per space with specs/s by
process CPU time (stable on a shared machine) and by wall clock.
"""

from __future__ import annotations

import random
import sys
import time

from predictor.spaces.registry import SPACES, get_space


def to_ir_rate(name: str, count: int, seed: int = 0) -> tuple[float, float]:
    """``(specs/s CPU, specs/s wall)`` of ``to_ir`` over ``count`` seeded samples of a space."""
    space = get_space(name)
    rng = random.Random(seed)
    specs = [space.sample(rng) for _ in range(count)]
    cpu, wall = time.process_time(), time.perf_counter()
    for spec in specs:
        space.to_ir(spec)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return count / cpu, count / wall


def main(argv: list[str]) -> None:
    """Print the rate of every space (COUNT specs for NB201/FBNet, COUNT/10 for the others)."""
    count = int(argv[0]) if argv else 1000
    for name in SPACES:
        n = count if name in ("nasbench201", "fbnet") else max(1, count // 10)
        cpu_rate, wall_rate = to_ir_rate(name, n)
        print(f"{name:13s} n={n:6d} {cpu_rate:9.1f} specs/s (CPU) {wall_rate:9.1f} specs/s (wall)")


if __name__ == "__main__":
    main(sys.argv[1:])
