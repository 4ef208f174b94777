"""Batch predictions for one device."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.api.deps import Client, State
from service.api.responses import errors
from service.generation import estimate_generation
from service.predict_batch import predict
from service.schemas import GenerationIn, GenerationOut, PredictionsIn, PredictionsOut

router = APIRouter(prefix="/predictions", tags=["predictions"])


@router.post("", response_model=PredictionsOut, responses=errors(404, 409))
def create_predictions(body: PredictionsIn, state: State, _principal: Client) -> Response:
    """Predict metrics for up to 1,000 models or specs on one device."""
    # The body is serialized by service.predict_batch (a Response skips FastAPI's re-validation);
    # response_model keeps PredictionsOut in the OpenAPI schema.
    return Response(predict(state, body), media_type="application/json")


@router.post("/generation", response_model=GenerationOut, responses=errors(404, 409))
def create_generation_estimate(
    body: GenerationIn, state: State, _principal: Client
) -> GenerationOut:
    """Predict time to first token and total generation time of an llm architecture."""
    return estimate_generation(state, body)
