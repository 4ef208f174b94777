"""Prediction error grouped by each model's dominant op type (the op type with most FLOPs)."""

from __future__ import annotations

from sqlalchemy import FromClause, case, func, select
from sqlalchemy.orm import Session

from service.dashboard.accuracy import ErrorStats, abs_rel, in_interval
from service.dashboard.queries import op_costs
from service.models import Model


class DominantOps:
    """Model id -> op type with the most FLOPs, remembered per process (ids are content hashes).

    Only the IRs of models not seen before are read from the database.
    """

    def __init__(self, max_entries: int = 200_000) -> None:
        self._ops: dict[str, str] = {}
        self._max = max_entries

    def lookup(self, session: Session, model_ids: list[str]) -> dict[str, str]:
        """Dominant op type of each of ``model_ids`` (``'unknown'`` for models not stored)."""
        missing = [m for m in model_ids if m not in self._ops]
        if len(self._ops) + len(missing) > self._max:
            self._ops.clear()
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            for model_id, ir_json in session.execute(
                select(Model.id, Model.ir_json).where(Model.id.in_(chunk))
            ):
                costs = op_costs(ir_json)
                self._ops[model_id] = costs[0][0] if costs else "unknown"
        return {m: self._ops.get(m, "unknown") for m in model_ids}


def error_by_dominant_op(
    session: Session, p: FromClause, ops: DominantOps, max_models: int = 2000
) -> list[ErrorStats]:
    """Error grouped by each model's dominant op type (FLOPs), over the most-paired models.

    The per-model sums come from SQL; only the (at most ``max_models``) per-model rows are
    folded into op types here.
    """
    rel = abs_rel(p)
    query = (
        select(
            p.c.model_id,
            func.count().label("n"),
            func.sum(rel),
            func.sum(case((rel <= 0.1, 1.0), else_=0.0)),
            func.sum(in_interval(p)),
        )
        .group_by(p.c.model_id)
        .order_by(func.count().desc(), p.c.model_id)
        .limit(max_models)
    )
    rows = list(session.execute(query))
    dominant = ops.lookup(session, [str(r[0]) for r in rows])
    totals: dict[str, list[float]] = {}
    for model_id, n, err_sum, within_sum, inside_sum in rows:
        entry = totals.setdefault(dominant[str(model_id)], [0.0, 0.0, 0.0, 0.0])
        entry[0] += int(n)
        entry[1] += float(err_sum)
        entry[2] += float(within_sum)
        entry[3] += float(inside_sum)
    return sorted(
        (
            ErrorStats(op, int(n), 100.0 * err / n, 100.0 * within / n, 100.0 * inside / n)
            for op, (n, err, within, inside) in totals.items()
        ),
        key=lambda s: (-s.n, s.key),
    )
