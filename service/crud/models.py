"""Model (uploaded ONNX) queries. Conversion to IR happens outside the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from predictor.api import GraphIR, graph_fingerprint
from service.core.errors import NotFound
from service.models import Job, Measurement, Model, PredictionLog


def get(session: Session, model_id: str, field: str = "model_id") -> Model:
    """The model ``model_id``.

    Raises:
        NotFound: no such model.
    """
    model = session.get(Model, model_id)
    if model is None:
        raise NotFound(f"model {model_id!r} does not exist", field=field)
    return model


def find(session: Session, model_id: str) -> Model | None:
    """The model ``model_id`` or None."""
    return session.get(Model, model_id)


def new_row(
    model_id: str,
    size_bytes: int,
    graph: GraphIR,
    *,
    space: str | None = None,
    spec: Any = None,
    graph_only: bool = False,
) -> Model:
    """A model row (not yet added) with the graph's static features."""
    return Model(
        id=model_id,
        size_bytes=size_bytes,
        ir_json=graph.to_json(),
        ir_version=graph.ir_version,
        macs=graph.macs,
        flops=graph.flops,
        params=graph.params,
        model_bytes=graph.model_bytes,
        peak_activation_bytes=graph.peak_activation_bytes,
        num_nodes=graph.num_nodes,
        unknown_ops=list(graph.unknown_ops),
        family=space,
        space=space,
        spec=spec,
        graph_only=graph_only,
        fingerprint=graph_fingerprint(graph),
    )


def insert(session: Session, row: Model) -> tuple[Model, bool]:
    """Insert ``row`` unless a model with its id exists; returns (model, created)."""
    existing = session.get(Model, row.id)
    if existing is not None:
        return existing, False
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a concurrent upload of the same bytes won the race
        return get(session, row.id), False
    return row, True


def ir_json_by_id(session: Session, model_ids: Sequence[str]) -> dict[str, str]:
    """IR JSON of the given models that exist (missing ids are absent from the result)."""
    result: dict[str, str] = {}
    unique = list(dict.fromkeys(model_ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        rows = session.execute(select(Model.id, Model.ir_json).where(Model.id.in_(chunk)))
        result.update({model_id: ir_json for model_id, ir_json in rows})
    return result


def specs_measured_or_queued(session: Session, device: str) -> list[tuple[str | None, Any]]:
    """(space, spec) of every model measured or queued on ``device``."""
    measured = select(Measurement.model_id).where(Measurement.device == device)
    jobs = select(Job.model_id).where(Job.device == device)
    query = select(Model.space, Model.spec).where(
        Model.id.in_(measured.union(jobs).scalar_subquery())
    )
    return [(r[0], r[1]) for r in session.execute(query)]


def recent_logged_specs(session: Session, device: str, rows: int) -> list[str | None]:
    """Spec texts of the newest ``rows`` prediction-log rows of ``device`` that have one."""
    query = (
        select(PredictionLog.spec)
        .where(PredictionLog.device == device, PredictionLog.spec.is_not(None))
        .order_by(PredictionLog.id.desc())
        .limit(rows)
    )
    return list(session.scalars(query).all())


def fingerprints_by_id(session: Session, model_ids: Sequence[str]) -> dict[str, str]:
    """Network fingerprints of the given models that exist and have one."""
    result: dict[str, str] = {}
    unique = list(dict.fromkeys(model_ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        query = select(Model.id, Model.fingerprint).where(
            Model.id.in_(chunk), Model.fingerprint.is_not(None)
        )
        result.update({str(i): str(f) for i, f in session.execute(query)})
    return result
