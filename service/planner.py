"""Active-learning planner: keep each device's queue filled with what is most worth measuring.

Candidates come from the search spaces (random samples) and from what clients asked about (specs
in the prediction log). The default rule (``coverage``) picks by k-center greedy over label-free
static graph features (``predictor.api.select_measurements``): each pick is the candidate
farthest from everything measured or already picked on the device. ``perfloop bench active``
found it ahead of random selection where a device's model is trained from its own measurements,
while picks driven by the predicted interval width lost to random (docs/BENCHMARKS.md, "Active
learning"). ``uncertain`` keeps the earlier rule: the active predictor's relative 90 % interval
width times the distance (log MACs, log params) to what is measured or picked.

Both rules first keep only the candidates the active predictor doubts (relative 90 % interval
width above ``doubt_threshold``, the API's default ``uncertainty_threshold``) when there are any:
the novelty-aware intervals (:mod:`predictor.novelty`) are wide on networks unlike anything the
device measured and narrow on the rest, so the queue goes to what the predictor gets wrong
(docs/BENCHMARKS.md, "Novelty-aware intervals"). With nothing doubtful, or no predictor, every
candidate stays.
"""

from __future__ import annotations

import json
import logging
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from predictor.api import GraphIR, select_measurements
from service.core.errors import Conflict, Unavailable
from service.crud import devices as device_crud
from service.crud import jobs as job_crud
from service.crud import models as model_crud
from service.onboarding import store_spec
from service.schemas import DEFAULT_UNCERTAINTY_THRESHOLD
from service.state import AppState

logger = logging.getLogger(__name__)

#: Planned jobs go after references and after jobs clients asked for.
PLANNED_PRIORITY = -10

PlanStrategy = Literal["coverage", "uncertain"]


@dataclass(frozen=True, slots=True)
class PlannerConfig:
    """How many jobs to keep queued per device and how many candidates to score."""

    spaces: tuple[str, ...] = ("nasbench201", "fbnet")
    min_queue: int = 2
    batch: int = 4
    pool_per_space: int = 32
    log_candidates: int = 64
    strategy: PlanStrategy = "coverage"
    #: Relative width above which a candidate counts as doubtful (0: no filtering).
    doubt_threshold: float = DEFAULT_UNCERTAINTY_THRESHOLD


@dataclass(frozen=True, slots=True)
class Candidate:
    """A spec with its graph (built from the spec, no export)."""

    space: str
    spec: Any
    graph: GraphIR

    @property
    def key(self) -> str:
        """Canonical text of (space, spec)."""
        return json.dumps({"space": self.space, "arch": self.spec}, sort_keys=True)

    @property
    def position(self) -> tuple[float, float]:
        """Where the candidate sits for diversity: (log MACs, log params)."""
        return graph_position(self.graph)


def graph_position(graph: GraphIR) -> tuple[float, float]:
    """(log MACs, log params) of a graph."""
    return math.log1p(float(graph.macs)), math.log1p(float(graph.params))


def queued_counts(state: AppState) -> dict[str, int]:
    """Device -> queued jobs (every known device, zero included)."""
    with state.db.session() as session:
        return job_crud.queued_counts(session)


def measured_keys(state: AppState, device: str) -> set[str]:
    """Canonical (space, spec) texts of the models measured or queued on ``device``."""
    with state.db.session() as session:
        rows = model_crud.specs_measured_or_queued(session, device)
    return {json.dumps({"space": r[0], "arch": r[1]}, sort_keys=True) for r in rows if r[0]}


def logged_specs(state: AppState, device: str, limit: int) -> list[tuple[str, Any]]:
    """The most recent distinct specs clients asked about on ``device``."""
    with state.db.session() as session:
        rows = model_crud.recent_logged_specs(session, device, limit * 4)
    out: dict[str, tuple[str, Any]] = {}
    for text in rows:
        if text is not None and text not in out:
            parsed = json.loads(text)
            out[text] = (str(parsed["space"]), parsed["arch"])
    return list(out.values())[:limit]


def candidates(
    state: AppState, device: str, config: PlannerConfig, rng: random.Random
) -> list[Candidate]:
    """Space samples and logged specs not yet measured or queued on ``device``."""
    from predictor.api import get_space

    pairs: list[tuple[str, Any]] = logged_specs(state, device, config.log_candidates)
    for space in config.spaces:
        pairs += [(space, get_space(space).sample(rng)) for _ in range(config.pool_per_space)]
    seen = measured_keys(state, device)
    out: list[Candidate] = []
    for space, spec in pairs:
        key = json.dumps({"space": space, "arch": spec}, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        try:
            out.append(Candidate(space, spec, get_space(space).to_ir(spec)))
        except (KeyError, ValueError, TypeError):  # a logged spec of a space we do not know
            logger.debug("skipping candidate %s", key)
    return out


def uncertainty(state: AppState, device: str, kind: str, graphs: Sequence[GraphIR]) -> list[float]:
    """Relative width of the active predictor's 90 % latency interval per graph."""
    predictor = state.predictors.current(state.db)
    context = state.samples.context(state.db, device, kind)
    batch = predictor.predict(list(graphs), context, ("latency_ms",))
    return [
        (e["latency_ms"].hi - e["latency_ms"].lo) / max(e["latency_ms"].mean, 1e-12)
        for e in batch.estimates
    ]


def pick(
    cands: Sequence[Candidate], widths: Sequence[float], anchors: list[tuple[float, float]], k: int
) -> list[Candidate]:
    """Greedy: maximise width * (1 + distance to the nearest anchor or earlier pick)."""
    chosen: list[Candidate] = []
    points = list(anchors)
    left = list(range(len(cands)))
    while left and len(chosen) < k:

        def value(i: int) -> float:
            x = cands[i].position
            near = min((math.dist(x, p) for p in points), default=1.0)
            return widths[i] * (1.0 + near)

        best = max(left, key=value)
        left.remove(best)
        chosen.append(cands[best])
        points.append(cands[best].position)
    return chosen


def doubtful(widths: Sequence[float], threshold: float) -> list[int]:
    """Indices of the widths above ``threshold``; all of them when none is (or no threshold)."""
    above = [i for i, w in enumerate(widths) if w > threshold]
    return above if above and threshold > 0 else list(range(len(widths)))


def widths_or_none(
    state: AppState, device: str, kind: str, cands: Sequence[Candidate]
) -> list[float] | None:
    """:func:`uncertainty` of the candidates, or None without a usable predictor."""
    try:
        return uncertainty(state, device, kind, [c.graph for c in cands])
    except (Conflict, Unavailable):
        return None


def pick_uncertain(
    state: AppState,
    device: str,
    kind: str,
    cands: Sequence[Candidate],
    k: int,
    widths: Sequence[float] | None = None,
) -> list[Candidate]:
    """The ``uncertain`` rule: interval width x (1 + distance); distance alone if no predictor."""
    if widths is None:
        widths = widths_or_none(state, device, kind, cands)
    if widths is None:  # no usable predictor yet: diversity alone decides
        widths = [1.0] * len(cands)
    context = state.samples.context(state.db, device, kind)
    anchors = [graph_position(s.graph) for s in context.samples]
    return pick(cands, widths, anchors, k)


def plan_device(
    state: AppState, device: str, kind: str, config: PlannerConfig, rng: random.Random
) -> int:
    """Queue up to ``config.batch`` of the most useful candidates on ``device``."""
    cands = candidates(state, device, config, rng)
    if not cands:
        return 0
    widths = widths_or_none(state, device, kind, cands)
    if widths is not None:
        keep = doubtful(widths, config.doubt_threshold)
        cands, widths = [cands[i] for i in keep], [widths[i] for i in keep]
    if config.strategy == "coverage":
        context = state.samples.context(state.db, device, kind)
        measured = [s.graph for s in context.samples]
        picks = select_measurements([c.graph for c in cands], measured, config.batch)
        chosen = [cands[i] for i in picks]
    else:
        chosen = pick_uncertain(state, device, kind, cands, config.batch, widths)
    from predictor.api import get_space

    model_ids = [store_spec(state, c.space, c.spec, get_space) for c in chosen]
    with state.db.session(write=True) as session:
        for mid in model_ids:
            job_crud.enqueue_one(
                session, device, mid, PLANNED_PRIORITY, state.settings.job_max_attempts
            )
    return len(model_ids)


def plan(state: AppState, config: PlannerConfig, rng: random.Random) -> dict[str, int]:
    """Top up every device whose queue is below ``config.min_queue``; device -> jobs queued."""
    with state.db.session() as session:
        kinds = device_crud.kinds(session)
    out: dict[str, int] = {}
    for device, queued in sorted(queued_counts(state).items()):
        if queued < config.min_queue:
            out[device] = plan_device(state, device, kinds[device], config, rng)
    return out
