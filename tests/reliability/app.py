"""App factory for replicas started by the reliability tests (uvicorn --factory).

Settings come from ``PERFLOOP_*`` variables; predictions use the linear test predictor
(tests/service/predictors.py) so no trained GNN artifact is needed.
"""

from __future__ import annotations

from fastapi import FastAPI

from service.main import create_app
from tests.service.predictors import load_linear


def create_test_app() -> FastAPI:
    """The service app with the linear test predictor loader."""
    return create_app(predictor_loader=load_linear)
