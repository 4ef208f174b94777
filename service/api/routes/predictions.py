"""Batch predictions for one device."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import Client, State
from service.schemas import PredictionsIn, PredictionsOut
from service.scoring import predict

router = APIRouter(prefix="/predictions", tags=["predictions"])


@router.post("", response_model=PredictionsOut)
def create_predictions(body: PredictionsIn, state: State, _principal: Client) -> PredictionsOut:
    """Predict metrics for up to 1,000 models or specs on one device."""
    return predict(state, body)
