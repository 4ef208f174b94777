"""Measurements: upload outside a job (agents) and list (clients)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from service.api.deps import Agent, Client, State, usable_device
from service.api.responses import errors
from service.crud import devices as device_crud
from service.crud import measurements as measurement_crud
from service.crud import models as model_crud
from service.schemas import INT32_MAX, MeasurementCreated, MeasurementIn, MeasurementOut

router = APIRouter(prefix="/measurements", tags=["measurements"])


@router.post(
    "",
    response_model=MeasurementCreated,
    status_code=201,
    responses={
        200: {"model": MeasurementCreated, "description": "Duplicate idempotency key."},
        **errors(404),
    },
)
def upload_measurement(
    body: MeasurementIn, state: State, principal: Agent, response: Response
) -> MeasurementCreated:
    """Upload a measurement (201 stored, 200 duplicate idempotency key)."""
    with state.db.session(write=True) as session:
        usable_device(session, principal, body.device)
        model_crud.get(session, body.model_id)
        row, duplicate = measurement_crud.create(session, body)
        device_crud.touch(session, body.device)
        out = MeasurementCreated(id=row.id, duplicate=duplicate)
    state.samples.invalidate(body.device)  # this replica predicts with it at once
    response.status_code = 200 if duplicate else 201
    return out


@router.get("", response_model=list[MeasurementOut])
def list_measurements(
    state: State,
    _principal: Client,
    device: str | None = None,
    model_id: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0, le=INT32_MAX),
) -> list[MeasurementOut]:
    """List measurements, newest first."""
    with state.db.session() as session:
        rows = measurement_crud.list_page(session, device, model_id, limit, offset)
        return [measurement_crud.to_out(r) for r in rows]
