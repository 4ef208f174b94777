"""Prediction error report."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from service.api.deps import Client, State
from service.crud.reports import error_report
from service.schemas import ErrorReport

router = APIRouter(tags=["reports"])


@router.get("/error-report", response_model=ErrorReport)
def get_error_report(
    state: State, _principal: Client, device: str | None = None, since: datetime | None = None
) -> ErrorReport:
    """Prediction error (MAPE, acc_10, Spearman) per device, version, metric and day."""
    with state.db.session() as session:
        return ErrorReport(rows=error_report(session, device=device, since=since))
