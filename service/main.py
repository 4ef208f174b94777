"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.exc import SQLAlchemyError

from service import __version__
from service.api.responses import AUTHENTICATED
from service.api.routes import (
    devices,
    health,
    jobs,
    measurements,
    models,
    predictions,
    predictors,
    reports,
)
from service.caches import PredictorLoader
from service.core.config import Settings, get_settings
from service.core.errors import Conflict, Unavailable, install_error_handlers
from service.core.limits import BodySizeLimit
from service.dashboard import install_dashboard
from service.state import AppState
from service.train_requests import Trainer, default_trainer

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


def _default_loader() -> PredictorLoader:
    from predictor.api import load_predictor

    return load_predictor


def api_router() -> APIRouter:
    """All ``/api/v1`` routes."""
    router = APIRouter(prefix=API_PREFIX, responses=AUTHENTICATED)
    for module in (models, devices, predictions, jobs, measurements, predictors, reports):
        router.include_router(_with_summaries(module.router))
    return router


def _with_summaries(router: APIRouter) -> APIRouter:
    """Use each route's one-line docstring as its OpenAPI summary."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.summary is None and route.endpoint.__doc__:
            route.summary = route.endpoint.__doc__.strip().splitlines()[0].rstrip(".")
    return router


def create_app(
    settings: Settings | None = None,
    *,
    predictor_loader: PredictorLoader | None = None,
    trainer: Trainer | None = None,
) -> FastAPI:
    """Build the application (the database must already be migrated; see ``service.migrate``).

    Args:
        settings: defaults to :func:`get_settings`.
        predictor_loader: artifact directory -> predictor; defaults to
            ``predictor.api.load_predictor``.
        trainer: runs training requests; defaults to one backed by
            ``predictor.api.train_predictor`` when the predictor package provides it.
    """
    settings = settings or get_settings()
    state = AppState.build(settings, predictor_loader or _default_loader())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:  # load the active predictor once at start; requests re-check it periodically
            state.predictors.current(state.db)
        except Conflict:
            logger.warning("no active predictor yet: predictions answer 409 until one is")
        except Unavailable as exc:
            logger.error("%s; predictions answer 503 until it loads", exc.message)
        except SQLAlchemyError as exc:  # /readyz reports it; the process still starts
            logger.error("database not usable at start: %s", exc)
        yield
        state.audit_queue.close()  # queues the drawn audit jobs
        state.prediction_log.close()  # writes the queued prediction-log rows
        state.db.dispose()

    app = FastAPI(
        title="perfloop",
        version=__version__,
        summary="Latency, energy and peak-memory prediction for neural networks on devices.",
        lifespan=lifespan,
    )
    app.state.perfloop = state
    app.state.perfloop_trainer = trainer if trainer is not None else default_trainer()
    install_error_handlers(app)
    app.add_middleware(
        BodySizeLimit, max_bytes=settings.max_request_bytes, exempt=(f"{API_PREFIX}/models",)
    )
    app.include_router(_with_summaries(health.router))
    app.include_router(api_router())
    # Dashboard (server-rendered pages, login, static files): owned by service/dashboard/.
    install_dashboard(app)
    return app
