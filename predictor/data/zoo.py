"""The measured graph-zoo corpus: one record per (search space, spec, device) measurement.

Raw stage: gzip JSON lines (``datasets/zoo/*.jsonl.gz``), one :class:`ZooRecord` per line,
appended as measurements finish, so a killed run resumes from what is already on disk
(:func:`measured_keys`). Every record carries its provenance: which backend and runtime measured
it, how (clock, threads, host CPU) and whether it was measured on real hardware or simulated.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

#: ``measured``: timed on a real runtime on real hardware; ``simulated``: a cost model or
#: simulator's estimate (tflm cycle model, Vela, ZigZag).
MeasurementKind = Literal["measured", "simulated"]


@dataclass(frozen=True, slots=True)
class ZooRecord:
    """One measured network on one device, with provenance.

    ``spec`` is the space's spec (an arch string or a dict); ``spec_key`` is the space's
    canonical encoding of it (``SearchSpace.encode``), the deduplication key with ``space`` and
    ``device``.
    """

    space: str
    spec: Any
    spec_key: str
    device: str
    backend: str
    measurement_kind: MeasurementKind
    runtime: str
    runtime_version: str
    clock: str
    threads: int
    host_cpu: str
    measured_at: str
    latency_ms: float | None = None
    energy_mj: float | None = None
    peak_memory_bytes: float | None = None
    #: Set (and every figure None) when the backend cannot run the network: why not.
    skip_reason: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """``(space, spec_key, device)``: what makes a record unique in a corpus."""
        return (self.space, self.spec_key, self.device)


def read_corpus(paths: Iterable[Path]) -> Iterator[ZooRecord]:
    """Records of every file in ``paths`` (gzip JSON lines), in file order.

    A truncated last line (a run killed while writing) is skipped.

    Raises:
        ValueError: a complete line is not a valid record (the message names file and line).
    """
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            try:
                lines = list(fh)
            except EOFError:  # the gzip stream of a killed writer ends early
                lines = []
        for number, line in enumerate(lines, start=1):
            if not line.endswith("\n"):
                break
            yield _parse(line, path, number)


def _parse(line: str, path: Path, number: int) -> ZooRecord:
    try:
        data: dict[str, Any] = json.loads(line)
        return ZooRecord(**data)
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"{path}:{number}: not a zoo record: {exc}") from exc


def measured_keys(paths: Iterable[Path]) -> set[tuple[str, str, str]]:
    """The ``(space, spec_key, device)`` keys already in the corpus files (for resuming)."""
    return {record.key for record in read_corpus(p for p in paths if p.exists())}


def _row(record: ZooRecord) -> dict[str, Any]:
    """The record as a JSON object; optional fields added later are left out while unset, so
    files of measured rows stay readable by readers that predate them."""
    row = asdict(record)
    if row["skip_reason"] is None:
        del row["skip_reason"]
    return row


def append_records(path: Path, records: Iterable[ZooRecord]) -> int:
    """Append ``records`` to ``path`` as one gzip member (a crash loses at most this call's).

    Returns:
        How many records were written.
    """
    lines = [json.dumps(_row(r), sort_keys=True, separators=(",", ":")) + "\n" for r in records]
    if not lines:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "at", encoding="utf-8") as fh:
        fh.writelines(lines)
    return len(lines)
