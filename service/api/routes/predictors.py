"""Predictor versions: list, request training, activate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from service.api.deps import Admin, Client, State
from service.api.responses import errors
from service.crud import predictors as predictor_crud
from service.schemas import INT32_MAX, PredictorOut, TrainIn, TrainRequestOut
from service.train_requests import start_training

router = APIRouter(prefix="/predictors", tags=["predictors"])


@router.get("", response_model=list[PredictorOut])
def list_predictors(state: State, principal: Client) -> list[PredictorOut]:
    """List predictor versions, newest first."""
    with state.db.session() as session:
        rows = [PredictorOut.model_validate(v) for v in predictor_crud.list_versions(session)]
    if principal.scope == "admin":
        return rows
    # a server filesystem path is deployment detail: only admins see it
    return [row.model_copy(update={"artifact_path": None}) for row in rows]


@router.post("/train", response_model=TrainRequestOut, status_code=202)
def train(body: TrainIn, request: Request, state: State, _principal: Admin) -> TrainRequestOut:
    """Request training of a new version on all measurements (runs in the background)."""
    with state.db.session(write=True) as session:
        row = predictor_crud.create_train_request(session, body.model_dump(exclude={"activate"}))
        out = TrainRequestOut.model_validate(row)
    trainer = request.app.state.perfloop_trainer
    if trainer is not None:
        start_training(state, trainer, out.id, body.activate)
    return out


@router.get("/train/{request_id}", response_model=TrainRequestOut, responses=errors(404))
def get_train_request(
    request_id: Annotated[int, Path(ge=1, le=INT32_MAX)], state: State, _principal: Client
) -> TrainRequestOut:
    """Get a training request's state."""
    with state.db.session() as session:
        return TrainRequestOut.model_validate(predictor_crud.get_train_request(session, request_id))


@router.post("/{version}/activate", response_model=PredictorOut, responses=errors(404))
def activate(version: str, state: State, _principal: Admin, response: Response) -> PredictorOut:
    """Make a version the active one (replicas pick it up within seconds)."""
    with state.db.session(write=True) as session:
        out = PredictorOut.model_validate(predictor_crud.activate(session, version))
    state.predictors.invalidate()
    response.status_code = 200
    return out
