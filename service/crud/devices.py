"""Device queries."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from service.core.errors import NotFound
from service.models import Device, Job, Measurement, utcnow
from service.schemas import DeviceIn


def get(session: Session, name: str) -> Device:
    """The device ``name``.

    Raises:
        NotFound: no such device.
    """
    device = session.get(Device, name)
    if device is None:
        raise NotFound(f"device {name!r} is not registered", field="device")
    return device


def list_all(session: Session) -> list[Device]:
    """All devices by name."""
    return list(session.scalars(select(Device).order_by(Device.name)))


def upsert(session: Session, body: DeviceIn) -> tuple[Device, bool]:
    """Create or update a device; returns it and whether it was created."""
    now = utcnow()
    device = session.get(Device, body.name)
    created = device is None
    if device is None:
        device = Device(name=body.name, created_at=now)
        session.add(device)
    device.kind = body.kind
    device.runtime = body.runtime
    device.simulated = body.simulated
    device.hardware = body.hardware
    device.updated_at = now
    device.last_seen_at = now
    session.flush()
    return device, created


def touch(session: Session, name: str) -> None:
    """Record that the device's agent was seen now."""
    device = session.get(Device, name)
    if device is not None:
        device.last_seen_at = utcnow()


def kinds(session: Session) -> dict[str, str]:
    """Device name -> kind, for every device."""
    return {d.name: d.kind for d in session.scalars(select(Device))}


def without_work(session: Session) -> list[str]:
    """Devices with neither a job nor a measurement (new ones), by name."""
    query = select(Device.name).where(
        ~exists().where(Job.device == Device.name),
        ~exists().where(Measurement.device == Device.name),
    )
    return list(session.scalars(query.order_by(Device.name)))
