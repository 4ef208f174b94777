"""Coalescing concurrent prediction calls (group commit).

Each predictor call has a fixed cost (device context, few-shot head, model invocation) next
to its per-graph cost, so many concurrent single-model requests are far cheaper as one call.
Callers for the same predictor and device queue up, whatever metrics they ask for (the call
predicts the union; each caller gets its own metrics back); one of them (the leader) runs a
single ``predict`` over everything queued while the previous call ran, then hands leadership to
the next waiting caller. No timer: an idle server answers a lone request at once, and a busy one
gathers exactly the requests that arrived during the previous call.

The wait is bounded: a caller still queued after ``max_wait_s`` (the predictor is stuck or the
queue is far longer than one call can take) leaves the queue with :class:`Unavailable` (503,
Retry-After) instead of holding its worker thread forever.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from predictor.api import METRICS, DeviceContext, GraphIR, Metric, PredictionBatch, Predictor
from service.core.errors import Unavailable

#: Most graphs one coalesced call may carry (callers beyond wait for the next call).
MAX_BATCH_GRAPHS = 4096
#: Longest a queued caller waits for a predictor call to take it (a cold 1,000-graph call took
#: 30-45 s on the loaded 2-core test machine, so less would refuse ordinary cold starts).
MAX_WAIT_S = 120.0


@dataclass(eq=False)
class _Call:
    graphs: Sequence[GraphIR]
    context: DeviceContext
    metrics: tuple[Metric, ...]
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    result: PredictionBatch | None = None
    error: BaseException | None = None


@dataclass(eq=False)
class _Group:
    pending: list[_Call] = field(default_factory=list)
    running: bool = False


class PredictionBatcher:
    """Runs concurrent ``predict`` calls for the same key as one call."""

    def __init__(self, max_graphs: int = MAX_BATCH_GRAPHS, max_wait_s: float = MAX_WAIT_S) -> None:
        self._max_graphs = max_graphs
        self._max_wait_s = max_wait_s
        self._lock = threading.Lock()
        self._groups: dict[Hashable, _Group] = {}

    def predict(
        self,
        predictor: Predictor,
        graphs: Sequence[GraphIR],
        context: DeviceContext,
        metrics: Sequence[Metric],
    ) -> PredictionBatch:
        """``predictor.predict(graphs, context, metrics)``, possibly shared with other callers.

        Raises:
            Unavailable: still queued after ``max_wait_s``.
        """
        key = (id(predictor), context.name)
        call = _Call(graphs, context, tuple(metrics))
        with self._lock:
            group = self._groups.setdefault(key, _Group())
            group.pending.append(call)
            call.lead = not group.running
            group.running = True
        if not call.lead and not call.done.wait(self._max_wait_s):
            self._give_up_or_wait(group, call)
        if call.lead:
            self._lead(key, group, predictor)
        if call.error is not None:
            raise call.error
        assert call.result is not None
        return call.result

    def _give_up_or_wait(self, group: _Group, call: _Call) -> None:
        """Leave the queue after a timeout, unless a leader already took (or chose) ``call``."""
        with self._lock:
            if call in group.pending and not call.lead:
                group.pending.remove(call)
                error = Unavailable(
                    f"prediction queue for device {call.context.name!r} did not move for "
                    f"{self._max_wait_s:g} s; retry later",
                    code="prediction_queue_stalled",
                )
                error.headers = {"Retry-After": "5"}  # type: ignore[attr-defined]
                raise error
        call.done.wait()  # taken into a running call (or made its successor): its answer comes

    def _take(self, group: _Group) -> list[_Call]:
        batch: list[_Call] = []
        total = 0
        while group.pending and (
            not batch or total + len(group.pending[0].graphs) <= self._max_graphs
        ):
            call = group.pending.pop(0)
            batch.append(call)
            total += len(call.graphs)
        return batch

    def _lead(self, key: Hashable, group: _Group, predictor: Predictor) -> None:
        with self._lock:
            batch = self._take(group)
        _run(predictor, batch)
        with self._lock:
            if group.pending:
                successor = group.pending[0]
                successor.lead = True
                successor.done.set()
            else:
                group.running = False
                self._groups.pop(key, None)
        for call in batch:
            call.done.set()


def _union(batch: list[_Call]) -> tuple[Metric, ...]:
    """Every metric some call of ``batch`` asks for, in the canonical order."""
    wanted = {m for call in batch for m in call.metrics}
    return tuple(m for m in METRICS if m in wanted)


def _run(predictor: Predictor, batch: list[_Call]) -> None:
    """One predictor call for every graph of ``batch``; results (or the error) split back.

    The newest caller's device context is used (its samples are the freshest).
    """
    graphs = [g for call in batch for g in call.graphs]
    metrics = _union(batch)
    try:
        result = predictor.predict(graphs, batch[-1].context, metrics)
    except BaseException as exc:  # every waiting caller re-raises it in its own thread
        for call in batch:
            call.error = exc
        return
    start = 0
    for call in batch:
        end = start + len(call.graphs)
        estimates = result.estimates[start:end]
        if call.metrics != metrics:  # asked for fewer metrics, or in another order
            estimates = [{m: e[m] for m in call.metrics} for e in estimates]
        call.result = PredictionBatch(
            version=result.version, estimates=estimates, low_confidence=result.low_confidence
        )
        start = end
