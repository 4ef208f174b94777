"""Measurement jobs: enqueue and read (clients), lease/heartbeat/complete/fail (agents)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from service.api.deps import Agent, Anyone, Client, State, check_device_scope, usable_device
from service.api.responses import errors
from service.crud import devices as device_crud
from service.crud import jobs as job_crud
from service.crud import measurements as measurement_crud
from service.crud import models as model_crud
from service.crud.tokens import Principal
from service.models import Job
from service.schemas import (
    INT32_MAX,
    CompleteOut,
    FailIn,
    HeartbeatIn,
    JobDetail,
    JobList,
    JobOut,
    JobsIn,
    JobStatus,
    LeaseIn,
    MeasurementIn,
)
from service.state import AppState

router = APIRouter(prefix="/jobs", tags=["jobs"])

JobId = Annotated[int, Path(ge=1, le=INT32_MAX)]


@router.post("", response_model=JobList, status_code=201, responses=errors(404))
def enqueue_jobs(body: JobsIn, state: State, principal: Client) -> JobList:
    """Queue measurement jobs (an open job for the same device and model is reused)."""
    with state.db.session(write=True) as session:
        usable_device(session, principal, body.device)
        for model_id in body.model_ids:
            model_crud.get(session, model_id, field="model_ids")
        jobs = [
            job_crud.enqueue_one(
                session, body.device, mid, body.priority, state.settings.job_max_attempts
            )
            for mid in body.model_ids
        ]
        return JobList(jobs=[JobOut.model_validate(j) for j in jobs])


@router.get("", response_model=JobList)
def list_jobs(
    state: State,
    principal: Anyone,
    device: str | None = None,
    status: JobStatus | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0, le=INT32_MAX),
) -> JobList:
    """List jobs, newest first."""
    if principal.scope == "agent":
        device = device or principal.device
        check_device_scope(principal, device or "")
    with state.db.session() as session:
        jobs = job_crud.list_jobs(session, device, status, limit, offset)
        return JobList(jobs=[JobOut.model_validate(j) for j in jobs])


@router.get("/{job_id}", response_model=JobDetail, responses=errors(404))
def get_job(job_id: JobId, state: State, principal: Anyone) -> JobDetail:
    """Get a job; once done it includes its measurement."""
    with state.db.session() as session:
        job = job_crud.get(session, job_id)
        check_device_scope(principal, job.device)
        detail = JobDetail.model_validate(job)
        if job.measurement_id is not None:
            row = measurement_crud.get(session, job.measurement_id)
            detail.measurement = measurement_crud.to_out(row)
        return detail


@router.post("/lease", response_model=JobList, responses=errors(404))
def lease_jobs(body: LeaseIn, state: State, principal: Agent) -> JobList:
    """Lease queued jobs of one device (expired leases are requeued first)."""
    seconds = body.lease_seconds or state.settings.job_lease_seconds
    with state.db.session(write=True) as session:
        usable_device(session, principal, body.device)
        jobs = job_crud.lease(session, body.device, body.max_jobs, seconds, principal.token_id)
        device_crud.touch(session, body.device)
        return JobList(jobs=[JobOut.model_validate(j) for j in jobs])


def _own_job(state: AppState, principal: Principal, job_id: int) -> Job:
    """The job, checking that this token may act on its device."""
    with state.db.session() as session:
        job = job_crud.get(session, job_id)
    check_device_scope(principal, job.device)
    return job


@router.post("/{job_id}/heartbeat", response_model=JobOut, responses=errors(404, 409))
def heartbeat(job_id: JobId, body: HeartbeatIn, state: State, principal: Agent) -> JobOut:
    """Extend a job's lease (409 when the lease was lost)."""
    _own_job(state, principal, job_id)
    holder = None if principal.scope == "admin" else principal.token_id
    with state.db.session(write=True) as session:
        job = job_crud.heartbeat(session, job_id, holder, state.settings.job_lease_seconds)
        device_crud.touch(session, job.device)
        return JobOut.model_validate(job)


@router.post("/{job_id}/complete", response_model=CompleteOut, responses=errors(404, 409))
def complete(job_id: JobId, body: MeasurementIn, state: State, principal: Agent) -> CompleteOut:
    """Complete a job with its measurement (idempotent by idempotency_key)."""
    _own_job(state, principal, job_id)
    with state.db.session(write=True) as session:
        job, measurement = job_crud.complete(session, job_id, body)
        out = CompleteOut(job=JobOut.model_validate(job), measurement_id=measurement.id)
        device = measurement.device
    state.samples.invalidate(device)  # this replica predicts with it at once
    return out


@router.post("/{job_id}/fail", response_model=JobOut, responses=errors(404, 409))
def fail(job_id: JobId, body: FailIn, state: State, principal: Agent) -> JobOut:
    """Report a failed job (requeued when retryable and attempts remain)."""
    _own_job(state, principal, job_id)
    holder = None if principal.scope == "admin" else principal.token_id
    with state.db.session(write=True) as session:
        job = job_crud.fail(session, job_id, body.reason, body.retryable, holder)
        return JobOut.model_validate(job)
