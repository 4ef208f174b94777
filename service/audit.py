"""Audit sampling: a random share of served predictions is queued for measurement.

Doubt-triggered measurements (``on_uncertain: measure``) check only the predictions whose
interval was wide: a biased sample of what the service answers. Here each served prediction is
drawn with probability ``audit_rate`` (per deployment, or ``audit_rate_per_device``), uniformly
at random and independently of its interval, so the error of the audited predictions is an
unbiased estimate of the live error. A drawn network (fingerprint) is queued at most once per
device and process, at :data:`AUDIT_PRIORITY` (after every other job), and not at all when a
model with that fingerprint is already measured or queued on the device.

The draw costs one ``random()`` per prediction on the request path; exporting a drawn spec to
ONNX and queueing the job run in one background thread (:class:`AuditQueue`).
"""

from __future__ import annotations

import logging
import queue
import random
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

#: Priority of audit jobs: agents lease higher priorities first, doubt jobs use 0.
AUDIT_PRIORITY = -10
#: (device, fingerprint) pairs remembered as drawn; the set is cleared when it grows past this.
MAX_REMEMBERED = 100_000


@dataclass(frozen=True, slots=True)
class AuditTask:
    """One drawn prediction: the network to measure on ``device``."""

    device: str
    fingerprint: str
    model_id: str | None
    spec: Any = None


class AuditSampler:
    """Draws the predictions to audit (thread-safe)."""

    def __init__(
        self, rate: float, per_device: Mapping[str, float] | None = None, seed: int | None = None
    ) -> None:
        self.rate = rate
        self.per_device = dict(per_device or {})
        self._rng = random.Random(seed)
        self._drawn: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def rate_for(self, device: str) -> float:
        """The audit rate of ``device`` (its override, else the deployment's)."""
        return self.per_device.get(device, self.rate)

    def draw(
        self, device: str, fingerprints: Sequence[str | None], exclude: Collection[int] = ()
    ) -> list[int]:
        """Positions drawn for audit among ``fingerprints`` (one per served prediction).

        Each prediction is drawn with probability :meth:`rate_for` ``device``; positions in
        ``exclude`` (already queued for doubt), without a fingerprint, or whose network was
        drawn before on this device are skipped.
        """
        rate = self.rate_for(device)
        if rate <= 0:
            return []
        with self._lock:
            chosen = [i for i in range(len(fingerprints)) if self._rng.random() < rate]
            drawn = []
            for i in chosen:
                fp = fingerprints[i]
                if fp is None or i in exclude or (device, fp) in self._drawn:
                    continue
                if len(self._drawn) >= MAX_REMEMBERED:
                    self._drawn.clear()  # the database check still keeps repeats out
                self._drawn.add((device, fp))
                drawn.append(i)
            return drawn


class AuditQueue:
    """Runs the drawn tasks (export a spec, queue its job) in one background thread."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Callable[[AuditTask], None], AuditTask] | None] = (
            queue.Queue()
        )
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, handler: Callable[[AuditTask], None], tasks: Sequence[AuditTask]) -> None:
        """Queue ``handler(task)`` for every task."""
        if not tasks:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="audit", daemon=True)
                self._thread.start()
        for task in tasks:
            self._queue.put((handler, task))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                handler, task = item
                handler(task)
            except Exception:  # one failed audit must not stop the others
                logger.exception("audit of %s failed", item[1] if item else None)
            finally:
                self._queue.task_done()

    def join(self) -> None:
        """Wait until every submitted task has run."""
        if self._thread is not None:
            self._queue.join()

    def close(self) -> None:
        """Run what is queued, then stop the thread (application shutdown)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)
