"""Synthetic zoo-corpus rows for tests (latency is a made-up function of MACs, never measured)."""

from __future__ import annotations

import random
from pathlib import Path

from predictor.data.zoo import ZooRecord, append_records
from predictor.spaces.registry import get_space


def synthetic_records(
    families: tuple[str, ...], per_family: int, devices: tuple[str, ...], seed: int = 0
) -> list[ZooRecord]:
    """``per_family`` distinct specs of each family on each device, latency from MACs."""
    rng = random.Random(seed)
    out: list[ZooRecord] = []
    for family in families:
        space = get_space(family)
        seen: set[str] = set()
        while len(seen) < per_family:
            spec = space.sample(rng)
            key = space.encode(spec)
            if key in seen:
                continue
            seen.add(key)
            macs = space.to_ir(spec).macs
            for d, device in enumerate(devices):
                latency = (0.05 + macs / 1e8) * (d + 1) * (1.5 if family == "rnn" else 1.0)
                out.append(_record(family, spec, key, device, latency))
    return out


def _record(family: str, spec: object, key: str, device: str, latency_ms: float) -> ZooRecord:
    return ZooRecord(
        space=family,
        spec=spec,
        spec_key=key,
        device=device,
        backend=device.removesuffix("-local"),
        measurement_kind="simulated",
        runtime="test",
        runtime_version="0",
        clock="none",
        threads=1,
        host_cpu="test",
        measured_at="2026-12-06T00:00:00Z",
        latency_ms=latency_ms,
    )


def write_corpus(directory: Path, records: list[ZooRecord]) -> Path:
    """Write ``records`` to ``directory/test.jsonl.gz``."""
    path = directory / "test.jsonl.gz"
    append_records(path, records)
    return path


def write_nb201_table(tmp_path: Path, archs: int, columns: dict[str, tuple[float, float]]) -> Path:
    """A made-up published-style NB201 table: ``archs`` seeded archs, one column per device
    whose i-th value is ``base + i * step`` (``columns``: device -> (base, step))."""
    space = get_space("nasbench201")
    rng = random.Random(0)
    specs = sorted({space.sample(rng) for _ in range(archs)})
    lines = ["arch_index,arch," + ",".join(columns)]
    lines += [
        f"{i},{a}," + ",".join(f"{base + i * step}" for base, step in columns.values())
        for i, a in enumerate(specs)
    ]
    path = tmp_path / "nasbench201_latency_ms.csv"
    path.write_text("\n".join(lines) + "\n")
    return path
