"""In-process state for serving predictions: the active predictor, IR and sample caches.

Replicas read the active predictor version row at most every ``refresh_seconds`` and load a
newly activated artifact without restart. Graph IRs are cached by model id (LRU) so repeated
scoring does no ONNX or JSON work; a device's measured samples are cached and rebuilt only
when its measurements change.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Generic, TypeVar

from predictor.api import DeviceContext, GraphIR, Predictor, Sample
from service.core.db import Database
from service.core.errors import Conflict, NotFound, Unavailable
from service.crud import devices as device_crud
from service.crud import measurements as measurement_crud
from service.crud import models as model_crud
from service.crud import predictors as predictor_crud

logger = logging.getLogger(__name__)

PredictorLoader = Callable[[Path], Predictor]

#: Environment defaults for API worker processes (applied unless already set). One intra-op
#: thread per worker: workers scale across cores (``--workers``), and on a busy machine torch's
#: default of one thread per core makes OpenMP threads wait on each other while descheduled,
#: slowing a one-graph predict by two orders of magnitude (docs/BENCHMARKS.md "Service").
WORKER_ENV_DEFAULTS: dict[str, str] = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
NO_PREDICTOR = (
    "no active predictor; train one with POST /api/v1/predictors/train (activate: true) or "
    "`perfloop train` then `perfloop predictors add ARTIFACT_DIR --activate`"
)


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """A small thread-safe least-recently-used cache."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The cached value (refreshing its recency) or None."""
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        """Cache ``value``, evicting the least recently used entries over capacity."""
        if self.capacity <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.capacity:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


class PredictorHolder:
    """The active predictor of this process, re-checked against the database periodically."""

    def __init__(self, loader: PredictorLoader, refresh_seconds: float) -> None:
        self._loader = loader
        self._refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._version: str | None = None
        self._predictor: Predictor | None = None
        self._checked_at = float("-inf")

    def current(self, db: Database) -> Predictor:
        """The active predictor.

        Raises:
            Conflict: no version is active.
        """
        now = time.monotonic()
        if now - self._checked_at >= self._refresh_seconds:
            self._refresh(db, now)
        if self._predictor is None:
            raise Conflict(NO_PREDICTOR, code="no_active_predictor")
        return self._predictor

    def _refresh(self, db: Database, now: float) -> None:
        with self._lock:
            if now - self._checked_at < self._refresh_seconds:
                return
            with db.session() as session:
                row = predictor_crud.active(session)
                wanted = (row.version, row.artifact_path) if row is not None else None
            if wanted is None:
                self._version, self._predictor = None, None
            elif wanted[0] != self._version:
                self._load(*wanted)
            self._checked_at = now

    def _load(self, version: str, artifact_path: str) -> None:
        logger.info("loading predictor %s from %s", version, artifact_path)
        try:
            predictor = self._loader(Path(artifact_path))
        except Exception as exc:  # a broken artifact must not take the API down
            logger.exception("cannot load predictor %s", version)
            if self._predictor is None:
                raise Unavailable(
                    f"active predictor {version!r} cannot be loaded from {artifact_path}: "
                    f"{type(exc).__name__}: {exc}",
                    code="predictor_unavailable",
                ) from exc
            return  # keep serving the previous version; retried at the next refresh
        self._predictor, self._version = predictor, version

    def invalidate(self) -> None:
        """Force a database check on the next call (after an activation in this process)."""
        self._checked_at = float("-inf")

    def load(self, artifact_path: Path) -> Predictor:
        """Load the artifact at ``artifact_path`` with this process's loader (not cached)."""
        return self._loader(artifact_path)


class GraphStore:
    """GraphIR by model id: LRU in front of the stored IR JSON."""

    def __init__(self, capacity: int) -> None:
        self._cache: LRU[str, GraphIR] = LRU(capacity)

    def graphs(self, db: Database, model_ids: Sequence[str]) -> list[GraphIR]:
        """The graphs of ``model_ids`` in order.

        Raises:
            NotFound: a model id is unknown (the message names it).
        """
        found = {mid: g for mid in model_ids if (g := self._cache.get(mid)) is not None}
        missing = [mid for mid in dict.fromkeys(model_ids) if mid not in found]
        if missing:
            with db.session() as session:
                stored = model_crud.ir_json_by_id(session, missing)
            for mid in missing:
                if mid not in stored:
                    raise NotFound(f"model {mid!r} does not exist", field="model_ids")
                found[mid] = GraphIR.from_json(stored[mid])
                self._cache.put(mid, found[mid])
        return [found[mid] for mid in model_ids]

    def remember(self, key: str, graph: GraphIR) -> None:
        """Cache a graph just built (at upload, or from a spec)."""
        self._cache.put(key, graph)

    def cached(self, key: str) -> GraphIR | None:
        """A cached graph or None."""
        return self._cache.get(key)


class SampleStore:
    """A device's measurements as predictor samples, rebuilt when they change.

    Each call checks the device row and its measurement stamp (one transaction), unless this
    process checked them less than ``ttl_seconds`` ago: then the cached context is served
    without touching the database. So a measurement stored through another replica is used
    here at most ``ttl_seconds`` later (one stored through this process, at once:
    :meth:`invalidate`), and a deleted device answers until then too.
    """

    def __init__(self, graphs: GraphStore, ttl_seconds: float = 0.0) -> None:
        self._graphs = graphs
        self._ttl_seconds = ttl_seconds
        # name -> (checked at (monotonic), kind, measurement stamp, samples)
        self._cache: dict[str, tuple[float, str, tuple[int, int], tuple[Sample, ...]]] = {}
        self._lock = threading.Lock()

    def context(self, db: Database, name: str, kind: str | None = None) -> DeviceContext:
        """The device context (with all its measured samples) for ``name``.

        Args:
            db: the database.
            name: the device.
            kind: the device's kind; looked up (in the same transaction) when None.

        Raises:
            NotFound: ``kind`` is None and the device is not registered.
        """
        now = time.monotonic()
        cached = self._cache.get(name)
        if cached is not None and now - cached[0] < self._ttl_seconds:
            return DeviceContext(name=name, kind=kind or cached[1], samples=cached[3])
        with db.session() as session:  # one transaction (one pool checkout) per request
            kind = kind if kind is not None else device_crud.get(session, name).kind
            stamp = measurement_crud.device_stamp(session, name)
            if cached is not None and cached[2] == stamp:
                self._cache[name] = (now, kind, stamp, cached[3])
                return DeviceContext(name=name, kind=kind, samples=cached[3])
            targets = measurement_crud.device_targets(session, name)
        graphs = self._graphs.graphs(db, [t[0] for t in targets])
        samples = tuple(
            Sample(graph=g, device=name, latency_ms=lat, energy_mj=en, peak_memory_bytes=mem)
            for g, (_mid, lat, en, mem) in zip(graphs, targets, strict=True)
        )
        with self._lock:
            self._cache[name] = (now, kind, stamp, samples)
        return DeviceContext(name=name, kind=kind, samples=samples)

    def invalidate(self, name: str) -> None:
        """Check ``name`` against the database on its next use (a measurement was stored)."""
        with self._lock:
            cached = self._cache.get(name)
            if cached is not None:
                self._cache[name] = (float("-inf"), cached[1], cached[2], cached[3])
