"""Measure the graph zoo on backends: the corpus behind the shipped predictor.

Each sampled network is exported to ONNX once and profiled by every backend that still lacks it,
through the same :class:`BackendRunner` and :class:`MeasurementProtocol` the agents use, but
in-process and without the service: the service's upload, lease and result round trips add
nothing to a number and cost a 2-core host most of its time. One record per (network, backend)
is appended to ``<out>/<backend>.jsonl.gz`` as soon as it is measured; networks a backend cannot
run go to ``<out>/<backend>.skipped.jsonl.gz`` with the reason, never as a number. A run killed
midway resumes from the files: finished pairs are not redone, and a pair that was being profiled
when the process died is retried once, then (a native crash) recorded as skipped.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from device_agents.backends.base import BackendResult, UnsupportedModelError
from device_agents.environment import cpu_model
from device_agents.isolation import BackendCrashError, BackendRunner
from device_agents.protocol import MeasurementProtocol
from predictor.data.zoo import ZooRecord, append_records, measured_keys
from predictor.spaces.registry import get_space
from predictor.spaces.zoo import ZooMember

logger = logging.getLogger(__name__)

#: The corpus protocol: the demo agents' short series on the thread-CPU clock (the host is
#: shared, so wall time would mostly be other processes' time slices).
ZOO_PROTOCOL = MeasurementProtocol(
    warmup_runs=3,
    min_runs=10,
    min_time_s=0.2,
    max_remeasure=1,
    threads=1,
    clock="thread_cpu",
    keep_raw_samples=False,
)

#: A pair whose profiling killed the process this many times is recorded as skipped.
MAX_ATTEMPTS = 2
#: ``(members done, members total, what was just done)``.
Progress = Callable[[int, int, str], None]


@dataclass
class ZooTally:
    """How many (network, backend) pairs a run measured, skipped, or found already done."""

    measured: int = 0
    skipped: int = 0
    already: int = 0


def corpus_path(out: Path, backend: str, skipped: bool = False) -> Path:
    """``<out>/<backend>.jsonl.gz`` (``.skipped.jsonl.gz`` for networks it cannot run)."""
    return out / f"{backend}{'.skipped' if skipped else ''}.jsonl.gz"


def done_keys(out: Path, backend: str) -> set[tuple[str, str, str]]:
    """Keys of every pair of ``backend`` already measured or skipped under ``out``."""
    return measured_keys([corpus_path(out, backend), corpus_path(out, backend, skipped=True)])


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _record(
    member: ZooMember, backend: str, result: BackendResult | None, reason: str | None
) -> ZooRecord:
    clock = ""  # a skipped pair was never timed
    if result is not None and result.measurement_kind == "simulated":
        clock = f"simulated@{result.clock_mhz:g}MHz" if result.clock_mhz else "simulated"
    elif result is not None:
        clock = ZOO_PROTOCOL.clock
    return ZooRecord(
        space=member.family,
        spec=member.spec,
        spec_key=member.spec_key,
        device=backend,
        backend=backend,
        measurement_kind=result.measurement_kind if result else "measured",
        runtime=result.runtime if result else "",
        runtime_version=result.runtime_version if result else "",
        clock=clock,
        threads=(result.threads or 0) if result else 0,
        host_cpu=(result.cpu if result and result.cpu else cpu_model()),
        measured_at=_now(),
        latency_ms=result.latency_ms.median if result and result.latency_ms else None,
        energy_mj=result.energy_mj if result else None,
        peak_memory_bytes=result.peak_memory_bytes if result else None,
        skip_reason=reason,
    )


class ZooMeasurer:
    """Profiles zoo members on a set of backends into a corpus directory, resumably.

    Args:
        backends: Backend registry names.
        out: Corpus directory.
        protocol: How host backends time (simulators ignore it).
        isolate: Profile each model in a child process (slower; survives native crashes).
    """

    def __init__(
        self,
        backends: Sequence[str],
        out: Path,
        protocol: MeasurementProtocol = ZOO_PROTOCOL,
        isolate: bool = False,
    ) -> None:
        self.out = out
        self.protocol = protocol
        self.runners = {b: BackendRunner(b, isolate=isolate, timeout_s=600.0) for b in backends}
        self.done = {b: done_keys(out, b) for b in backends}
        self.tally = ZooTally()
        self.attempts: dict[tuple[str, str, str], int] = {}
        # One pending file per backend set: runs of disjoint backends may share ``out``.
        self.pending = out / f".pending.{'+'.join(sorted(backends))}.json"
        out.mkdir(parents=True, exist_ok=True)
        self._recover_pending()

    def _recover_pending(self) -> None:
        """A pair left pending by a killed process is retried once, then recorded as skipped."""
        pending = self.pending
        if not pending.exists():
            return
        data = json.loads(pending.read_text())
        pending.unlink()
        backend, member = data["backend"], ZooMember(data["family"], data["spec"], data["key"], 0)
        if backend not in self.runners or member.key_for(backend) in self.done[backend]:
            return
        attempts = int(data.get("attempts", 1))
        if attempts >= MAX_ATTEMPTS:
            self._write(member, backend, None, f"the process died while profiling it {attempts}x")
        else:  # killed from outside (SIGKILL, OOM) or a crash: one more try tells which
            self.attempts[member.key_for(backend)] = attempts

    def missing(self, member: ZooMember) -> list[str]:
        """Backends that have neither measured nor skipped ``member``."""
        return [b for b in self.runners if (member.family, member.spec_key, b) not in self.done[b]]

    def measure(self, members: Sequence[ZooMember], progress: Progress | None = None) -> ZooTally:
        """Profile every member on every backend lacking it; returns the tally."""
        for i, member in enumerate(members, start=1):
            todo = self.missing(member)
            self.tally.already += len(self.runners) - len(todo)
            if todo:
                self._measure_member(member, todo)
            if progress is not None:
                progress(i, len(members), member.family)
        return self.tally

    def _measure_member(self, member: ZooMember, backends: list[str]) -> None:
        try:
            onnx_bytes = get_space(member.family).to_onnx(member.spec)
        except Exception as exc:
            for backend in backends:
                self._write(member, backend, None, f"ONNX export failed: {exc}"[:500])
            return
        for backend in backends:
            self._profile(member, backend, onnx_bytes)

    def _profile(self, member: ZooMember, backend: str, onnx_bytes: bytes) -> None:
        pending = self.pending
        pending.write_text(
            json.dumps(
                {
                    "backend": backend,
                    "family": member.family,
                    "spec": member.spec,
                    "key": member.spec_key,
                    "attempts": self.attempts.get(member.key_for(backend), 0) + 1,
                }
            )
        )
        try:
            result = self.runners[backend].profile(onnx_bytes, self.protocol)
        except (UnsupportedModelError, BackendCrashError) as exc:
            self._write(member, backend, None, str(exc)[:500] or type(exc).__name__)
        except Exception as exc:
            self._write(member, backend, None, f"{type(exc).__name__}: {exc}"[:500])
        else:
            self._write(member, backend, result, None)
        finally:
            pending.unlink(missing_ok=True)

    def _write(
        self, member: ZooMember, backend: str, result: BackendResult | None, reason: str | None
    ) -> None:
        record = _record(member, backend, result, reason)
        append_records(corpus_path(self.out, backend, skipped=reason is not None), [record])
        self.done[backend].add(record.key)
        if reason is None:
            self.tally.measured += 1
        else:
            self.tally.skipped += 1
            logger.info("%s skipped %s: %s", backend, member.spec_key, reason)
