"""Dashboard pages: overview, one device's prediction error, jobs, one model's static features."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from predictor.api import Metric
from service.api.deps import State
from service.crud import predictors as predictor_crud
from service.crud.pairs import pairs
from service.dashboard import accuracy, charts, checks, ops, queries, summaries
from service.dashboard.auth import Viewer
from service.dashboard.render import render
from service.models import Device, Measurement, Model, PredictionLog, utcnow

router = APIRouter(prefix="/dashboard", include_in_schema=False)

METRIC_UNITS: dict[str, str] = {"latency_ms": "ms", "energy_mj": "mJ", "peak_memory_bytes": "B"}
#: The overview's live error of the active predictor covers predictions of the last days.
LIVE_WINDOW_DAYS = 7
#: Time windows offered on the device page (days of predictions; 0 = all time).
DEVICE_WINDOWS_DAYS = (7, 30, 90, 0)


def _active_predictor(session: Session, now: datetime) -> dict[str, Any] | None:
    active = predictor_crud.active(session)
    if active is None:
        return None
    since = now - timedelta(days=LIVE_WINDOW_DAYS)
    recent = pairs("latency_ms", version=active.version, since=since)
    with accuracy.materialized(session, recent) as p:  # lets SQLite range-scan created_at
        live = accuracy.error_by(session, p, "device")
        by_check = checks.error_by_check(session, p, "device")
    return {
        "row": active,
        "held_out": summaries.held_out_by_device(active.metrics),
        "compared": summaries.held_out(active.metrics.get("active_per_device")),
        "facts": summaries.version_facts(active.metrics),
        "live": {s.key: s for s in live},
        "audited": {d: s for (d, kind), s in by_check.items() if kind == "audit"},
    }


@router.get("", response_class=HTMLResponse)
def overview(request: Request, state: State, _viewer: Viewer) -> HTMLResponse:
    """Devices, agents, queue depth, measurements per day and the active predictor."""
    now = utcnow()
    with state.db.session() as session:
        devices = queries.device_summaries(session, now)
        context = {
            "devices": devices,
            "online": sum(d.online for d in devices),
            "jobs": queries.job_counts(session),
            "n_measurements": queries.count_rows(session, Measurement),
            "n_models": queries.count_rows(session, Model),
            "n_predictions": queries.count_rows(session, PredictionLog),
            "per_day": charts.per_day(queries.measurements_per_day(session, now)),
            "active": _active_predictor(session, now),
            "live_window_days": LIVE_WINDOW_DAYS,
            "online_window_s": queries.ONLINE_WINDOW_S,
            "server_url": str(request.base_url).rstrip("/"),
        }
    return render(request, "overview.html", context)


def _device_analysis(
    session: Session,
    name: str,
    metric: str,
    since: datetime | None,
    dominant: ops.DominantOps,
) -> dict[str, Any]:
    with accuracy.materialized(session, pairs(metric, device=name, since=since)) as p:
        by_version = accuracy.error_by(session, p, "version")
        if not by_version:
            return {"has_pairs": False}
        buckets = accuracy.residual_histogram(session, p)
        sample = accuracy.scatter_sample(session, p)
        by_check = checks.error_by_check(session, p)
        return {
            "has_pairs": True,
            "by_version": by_version,
            "by_check": sorted(
                by_check.values(),
                key=lambda c: (
                    ("audit", "doubt").index(c.kind) if c.kind in ("audit", "doubt") else 2
                ),
            ),
            "n_pairs": sum(s.n for s in by_version),
            "scatter": charts.scatter(sample, METRIC_UNITS[metric]),
            "over_time": charts.metrics_over_time(checks.metrics_by_version_day(session, p)),
            "calibration": charts.calibration(
                checks.calibration([(a, lo, hi) for a, _, _, lo, hi in sample])
            ),
            "by_family": charts.error_bars(accuracy.error_by(session, p, "family")),
            "by_op": charts.error_bars(ops.error_by_dominant_op(session, p, dominant)),
            "residuals": charts.histogram(buckets, accuracy.BUCKET_WIDTH),
            "worst": accuracy.worst_models(session, p),
        }


def _dominant_ops(request: Request) -> ops.DominantOps:
    dominant: ops.DominantOps = request.app.state.perfloop_dashboard_ops
    return dominant


@router.get("/devices/{name}", response_class=HTMLResponse)
def device_page(
    request: Request,
    state: State,
    _viewer: Viewer,
    name: str,
    metric: Metric = "latency_ms",
    days: Annotated[int, Query(ge=0, le=36_500, description="0: all time")] = 30,
) -> HTMLResponse:
    """One device: predicted vs measured, error over time, by family and op, worst models."""
    now = utcnow()
    since = now - timedelta(days=days) if days else None
    with state.db.session() as session:
        device = session.get(Device, name)
        if device is None:
            return render(request, "not_found.html", {"what": f"device {name!r}"}, 404)
        (summary,) = queries.device_summaries(session, now, only=name)
        context = {
            "days": days,
            "windows": DEVICE_WINDOWS_DAYS,
            "device": device,
            "summary": summary,
            "metric": metric,
            "metrics": list(METRIC_UNITS),
            "unit": METRIC_UNITS[metric],
            "scatter_points": accuracy.SCATTER_POINTS,
            "agent_backend": summaries.agent_backend(session, device),
            "server_url": str(request.base_url).rstrip("/"),
            **_device_analysis(session, name, metric, since, _dominant_ops(request)),
        }
    return render(request, "device.html", context)


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, state: State, _viewer: Viewer) -> HTMLResponse:
    """Queued, leased and failed jobs with reasons; predictor versions with their metrics."""
    with state.db.session() as session:
        versions = predictor_crud.list_versions(session)
        context = {
            "counts": queries.job_counts(session),
            "open_jobs": queries.jobs_with_status(session, ("queued", "leased")),
            "failed_jobs": queries.jobs_with_status(session, ("failed",)),
            "reasons": queries.failure_reasons(session),
            "versions": [
                (v, summaries.version_facts(v.metrics), summaries.held_out_by_device(v.metrics))
                for v in versions
            ],
            "train_requests": queries.train_requests(session),
            "job_rows": queries.JOB_ROWS,
        }
    return render(request, "jobs.html", context)


@router.get("/models/{model_id}", response_class=HTMLResponse)
def model_page(request: Request, state: State, _viewer: Viewer, model_id: str) -> HTMLResponse:
    """One model's static graph features and its latest measurement per device."""
    with state.db.session() as session:
        model = queries.model_row(session, model_id)
        if model is None:
            return render(request, "not_found.html", {"what": f"model {model_id!r}"}, 404)
        context = {
            "model": model,
            "ops": queries.op_costs(model.ir_json),
            "measurements": queries.model_measurements(session, model_id),
        }
    return render(request, "model.html", context)
