"""Coalescing concurrent prediction calls (group commit).

Each predictor call has a fixed cost (device context, few-shot head, model invocation) next
to its per-graph cost, so many concurrent single-model requests are far cheaper as one call.
Callers for the same predictor, device and metrics queue up; one of them (the leader) runs a
single ``predict`` over everything queued while the previous call ran, then hands leadership to
the next waiting caller. No timer: an idle server answers a lone request at once.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from predictor.api import DeviceContext, Metric, PredictionBatch, Predictor
from predictor.ir.schema import GraphIR

#: Most graphs one coalesced call may carry (callers beyond wait for the next call).
MAX_BATCH_GRAPHS = 4096


@dataclass(eq=False)
class _Call:
    graphs: Sequence[GraphIR]
    context: DeviceContext
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

    def __init__(self, max_graphs: int = MAX_BATCH_GRAPHS) -> None:
        self._max_graphs = max_graphs
        self._lock = threading.Lock()
        self._groups: dict[Hashable, _Group] = {}

    def predict(
        self,
        predictor: Predictor,
        graphs: Sequence[GraphIR],
        context: DeviceContext,
        metrics: Sequence[Metric],
    ) -> PredictionBatch:
        """``predictor.predict(graphs, context, metrics)``, possibly shared with other callers."""
        key = (id(predictor), context.name, tuple(metrics))
        call = _Call(graphs, context)
        with self._lock:
            group = self._groups.setdefault(key, _Group())
            group.pending.append(call)
            call.lead = not group.running
            group.running = True
        if not call.lead:
            call.done.wait()
        if call.lead:
            self._lead(key, group, predictor, metrics)
        if call.error is not None:
            raise call.error
        assert call.result is not None
        return call.result

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

    def _lead(
        self, key: Hashable, group: _Group, predictor: Predictor, metrics: Sequence[Metric]
    ) -> None:
        with self._lock:
            batch = self._take(group)
        _run(predictor, batch, metrics)
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


def _run(predictor: Predictor, batch: list[_Call], metrics: Sequence[Metric]) -> None:
    """One predictor call for every graph of ``batch``; results (or the error) split back."""
    graphs = [g for call in batch for g in call.graphs]
    try:
        result = predictor.predict(graphs, batch[-1].context, metrics)
    except BaseException as exc:  # every waiting caller re-raises it in its own thread
        for call in batch:
            call.error = exc
        return
    start = 0
    for call in batch:
        end = start + len(call.graphs)
        call.result = PredictionBatch(
            version=result.version,
            estimates=result.estimates[start:end],
            low_confidence=result.low_confidence,
        )
        start = end
