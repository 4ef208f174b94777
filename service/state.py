"""Per-application state (no module-level globals): settings, database, stores, caches."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from service.audit import AuditQueue, AuditSampler
from service.batching import PredictionBatcher
from service.blobstore import BlobStore
from service.caches import LRU, GraphStore, PredictorHolder, PredictorLoader, SampleStore
from service.core.config import Settings
from service.core.db import Database
from service.core.limits import RateLimiter
from service.crud import tokens as token_crud
from service.crud.tokens import Principal
from service.log_writer import PredictionLogWriter


class TokenCache:
    """Token hash -> principal, remembered for a few seconds (revocation takes effect after)."""

    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def cached(self, raw: str) -> tuple[bool, Principal | None]:
        """(hit, principal) from the cache alone: ``hit`` is False when the database must be asked
        (a hit may carry None: a token known to be unknown or revoked)."""
        entry = self._entries.get(token_crud.hash_token(raw))
        if entry is not None and entry[0] > time.monotonic():
            return True, entry[1]
        return False, None

    def lookup(self, db: Database, raw: str) -> Principal | None:
        """The principal of ``raw`` (None when unknown or revoked)."""
        key = token_crud.hash_token(raw)
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        with db.session() as session:
            principal = token_crud.find_principal(session, raw)
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key] = (now + self._ttl, principal)
        return principal


@dataclass
class AppState:
    """Everything a request handler needs, built once per application."""

    settings: Settings
    db: Database
    blobs: BlobStore
    predictors: PredictorHolder
    graphs: GraphStore
    samples: SampleStore
    tokens: TokenCache
    prediction_log: PredictionLogWriter
    rate_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(0.0, 1))
    batcher: PredictionBatcher = field(default_factory=PredictionBatcher)
    training_threads: list[threading.Thread] = field(default_factory=list)
    #: Network fingerprint by model id or ``"spec:" + spec key`` (service.predict_batch).
    fingerprints: LRU[str, str] = field(default_factory=lambda: LRU(10_000))
    audit_sampler: AuditSampler = field(default_factory=lambda: AuditSampler(0.0))
    audit_queue: AuditQueue = field(default_factory=AuditQueue)

    @classmethod
    def build(cls, settings: Settings, loader: PredictorLoader) -> AppState:
        """Create the state for ``settings`` (opens the engine; does not migrate)."""
        graphs = GraphStore(settings.ir_cache_size)
        db = Database(settings.resolved_database_url)
        return cls(
            settings=settings,
            db=db,
            blobs=BlobStore(settings.blob_dir),
            predictors=PredictorHolder(loader, settings.predictor_refresh_seconds),
            graphs=graphs,
            samples=SampleStore(graphs, settings.device_cache_seconds),
            tokens=TokenCache(settings.token_cache_seconds),
            prediction_log=PredictionLogWriter(db, settings.prediction_log_flush_seconds),
            rate_limiter=RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst),
            fingerprints=LRU(settings.ir_cache_size),
            audit_sampler=AuditSampler(settings.audit_rate, settings.audit_rate_per_device),
        )
