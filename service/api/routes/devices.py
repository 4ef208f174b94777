"""Devices: register/update (agents, admins) and read."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.api.deps import Anyone, DeviceWriter, State, check_device_scope, usable_device
from service.api.responses import errors
from service.crud import devices as device_crud
from service.schemas import DeviceIn, DeviceOut

router = APIRouter(prefix="/devices", tags=["devices"])


@router.post(
    "",
    response_model=DeviceOut,
    status_code=201,
    responses={200: {"model": DeviceOut, "description": "Updated."}},
)
def upsert_device(
    body: DeviceIn, state: State, principal: DeviceWriter, response: Response
) -> DeviceOut:
    """Register a device, or update it (201 created, 200 updated)."""
    check_device_scope(principal, body.name)
    with state.db.session(write=True) as session:
        device, created = device_crud.upsert(session, body)
        out = DeviceOut.model_validate(device)
    response.status_code = 201 if created else 200
    return out


@router.get("", response_model=list[DeviceOut])
def list_devices(state: State, _principal: Anyone) -> list[DeviceOut]:
    """List all devices."""
    with state.db.session() as session:
        return [DeviceOut.model_validate(d) for d in device_crud.list_all(session)]


@router.get("/{name}", response_model=DeviceOut, responses=errors(404))
def get_device(name: str, state: State, principal: Anyone) -> DeviceOut:
    """Get one device."""
    with state.db.session() as session:
        return DeviceOut.model_validate(usable_device(session, principal, name))
