"""Serving a batch prediction: graphs, device context, predictor call, jobs, prediction log."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from pydantic_core import to_json

from predictor.api import Estimate, GraphIR, Metric, PredictionBatch, graph_fingerprint
from service.audit import AUDIT_PRIORITY, AuditTask
from service.core.errors import Unprocessable
from service.crud import audits as audit_crud
from service.crud import jobs as job_crud
from service.crud import models as model_crud
from service.crud import predictions as log_crud
from service.ingest import ingest_onnx
from service.schemas import PredictionsIn, SpecIn
from service.state import AppState

logger = logging.getLogger(__name__)


def _space(name: str) -> Any:
    from predictor.api import get_space

    try:
        return get_space(name)
    except KeyError as exc:
        message = exc.args[0] if exc.args else str(exc)
        raise Unprocessable(str(message), field="specs.space", code="unknown_space") from exc


def spec_key(spec: SpecIn) -> str:
    """Stable text key of a spec (cache key and prediction-log entry)."""
    return json.dumps({"space": spec.space, "arch": spec.arch}, sort_keys=True)


def spec_graphs(state: AppState, specs: Sequence[SpecIn]) -> list[GraphIR]:
    """IRs built straight from search-space specs (cached by spec).

    Raises:
        Unprocessable: unknown space or invalid architecture.
    """
    graphs = []
    for i, spec in enumerate(specs):
        key = "spec:" + spec_key(spec)
        graph = state.graphs.cached(key)
        if graph is None:
            space = _space(spec.space)
            try:
                graph = space.to_ir(spec.arch)
            except (ValueError, TypeError) as exc:
                raise Unprocessable(
                    f"invalid arch for space {spec.space!r}: {exc}",
                    field=f"specs.{i}.arch",
                    code="invalid_spec",
                ) from exc
            state.graphs.remember(key, graph)
        graphs.append(graph)
    return graphs


def _uncertain(metrics: dict[Metric, Estimate], threshold: float) -> bool:
    return any(e.mean > 0 and (e.hi - e.lo) / e.mean > threshold for e in metrics.values())


def _model_for_spec(state: AppState, spec: SpecIn) -> str:
    """Export a spec to ONNX and store it, so it can be measured; returns the model id."""
    data = _space(spec.space).to_onnx(spec.arch)
    model, _ = ingest_onnx(state, data, space=spec.space, spec=spec.arch)
    return model.id


def _enqueue(state: AppState, device: str, model_ids: dict[int, str]) -> dict[int, int]:
    """Queue measurement jobs for uncertain predictions; returns position -> job id."""
    if not model_ids:
        return {}
    with state.db.session(write=True) as session:
        return {
            pos: job_crud.enqueue_one(
                session, device, mid, priority=0, max_attempts=state.settings.job_max_attempts
            ).id
            for pos, mid in model_ids.items()
        }


def _fingerprints(state: AppState, body: PredictionsIn, graphs: Sequence[GraphIR]) -> list[str]:
    """The network fingerprint of every requested model or spec (cached by id / spec).

    A model's is read from its row (one query for all the misses: hashing 1,000 cold IRs would
    add about 0.5 s to the request); a spec's, or a model row's without one, is computed.
    """
    if body.model_ids is not None:
        keys = list(body.model_ids)
    else:
        keys = ["spec:" + spec_key(s) for s in body.specs or []]
    found = {k: fp for k in keys if (fp := state.fingerprints.get(k)) is not None}
    stored: dict[str, str] = {}
    if body.model_ids is not None and len(found) < len(keys):
        with state.db.session() as session:
            stored = model_crud.fingerprints_by_id(session, [k for k in keys if k not in found])
    out = []
    for key, graph in zip(keys, graphs, strict=True):
        fp = found.get(key) or stored.get(key)
        if fp is None:
            fp = graph_fingerprint(graph)
        if key not in found:
            state.fingerprints.put(key, fp)
            found[key] = fp
        out.append(fp)
    return out


def _audit(state: AppState, task: AuditTask) -> None:
    """Queue a low-priority measurement of a drawn prediction's network (background thread).

    Skipped when a model with the same fingerprint is already measured or queued on the device.
    """
    with state.db.session() as session:
        if audit_crud.network_checked(session, task.device, task.fingerprint):
            return
    model_id = task.model_id
    if model_id is None:
        model_id = _model_for_spec(state, SpecIn.model_validate(task.spec))
    with state.db.session(write=True) as session:
        job_crud.enqueue_one(
            session,
            task.device,
            model_id,
            priority=AUDIT_PRIORITY,
            max_attempts=state.settings.job_max_attempts,
        )


def _draw_audits(
    state: AppState, body: PredictionsIn, fingerprints: list[str], doubted: dict[int, int]
) -> list[int]:
    """Draw the predictions to audit and hand them to the background queue."""
    drawn = state.audit_sampler.draw(body.device, fingerprints, exclude=doubted)
    if drawn:
        tasks = [
            AuditTask(
                device=body.device,
                fingerprint=fingerprints[i],
                model_id=body.model_ids[i] if body.model_ids is not None else None,
                spec=(body.specs or [])[i].model_dump() if body.model_ids is None else None,
            )
            for i in drawn
        ]
        state.audit_queue.submit(lambda task: _audit(state, task), tasks)
    return drawn


def _log(
    state: AppState,
    body: PredictionsIn,
    batch: PredictionBatch,
    fingerprints: list[str],
    checks: dict[int, str],
) -> None:
    ids: Sequence[str | None] = body.model_ids or [None] * len(batch.estimates)
    specs = [spec_key(s) for s in body.specs] if body.specs else [None] * len(ids)
    device, version = body.device, batch.version
    rows: list[log_crud.LogRow] = [
        (model_id, spec, device, version, metric, e.mean, e.std, e.lo, e.hi, fp, checks.get(i))
        for i, (model_id, spec, fp, metrics) in enumerate(
            zip(ids, specs, fingerprints, batch.estimates, strict=True)
        )
        for metric, e in metrics.items()
    ]
    state.prediction_log.submit(rows)  # batched in the background (service/log_writer.py)


def predict(state: AppState, body: PredictionsIn) -> bytes:
    """Predict the requested metrics for every model or spec on one device and log them.

    Returns:
        The JSON body of a :class:`~service.schemas.PredictionsOut`.

    Raises:
        NotFound: unknown device or model id.
        Unprocessable: too many models, unknown space or invalid spec.
        Conflict: no active predictor.
    """
    count = len(body.model_ids or body.specs or [])
    if count > state.settings.max_predictions_per_request:
        raise Unprocessable(
            f"{count} models in one request; the limit is "
            f"{state.settings.max_predictions_per_request}",
            field="model_ids" if body.model_ids else "specs",
        )
    context = state.samples.context(state.db, body.device)  # 404 for an unknown device
    predictor = state.predictors.current(state.db)
    if body.model_ids is not None:
        graphs = state.graphs.graphs(state.db, body.model_ids)
    else:
        graphs = spec_graphs(state, body.specs or [])
    batch = state.batcher.predict(predictor, graphs, context, body.metrics)
    uncertain = [_uncertain(m, body.uncertainty_threshold) for m in batch.estimates]
    job_ids = _jobs_for_uncertain(state, body, uncertain)
    fingerprints = _fingerprints(state, body, graphs)
    checks = dict.fromkeys(_draw_audits(state, body, fingerprints, job_ids), "audit")
    checks.update(dict.fromkeys(job_ids, "doubt"))
    _log(state, body, batch, fingerprints, checks)
    return _response(body, batch, any(uncertain), job_ids)


def _response(
    body: PredictionsIn, batch: PredictionBatch, uncertain: bool, job_ids: dict[int, int]
) -> bytes:
    """The JSON of a :class:`PredictionsOut`, built from plain dicts.

    Building 1,000 pydantic objects and letting FastAPI re-serialize them through ``json``
    cost more than the rest of the service path; ``pydantic_core.to_json`` on dicts is about
    10x cheaper. The shape is checked against ``PredictionsOut`` by the tests.
    """
    ids: Sequence[str | None] = body.model_ids or [None] * len(batch.estimates)
    specs = [s.model_dump() for s in body.specs] if body.specs else [None] * len(ids)
    out = {
        "predictor_version": batch.version,
        "device": body.device,
        "low_confidence": batch.low_confidence or uncertain,
        "predictions": [
            {
                "model_id": model_id,
                "spec": spec,
                "metrics": {
                    str(k): {"mean": e.mean, "std": e.std, "lo": e.lo, "hi": e.hi}
                    for k, e in metrics.items()
                },
                "job_id": job_ids.get(i),
            }
            for i, (model_id, spec, metrics) in enumerate(
                zip(ids, specs, batch.estimates, strict=True)
            )
        ],
    }
    return to_json(out, inf_nan_mode="null")


def _jobs_for_uncertain(
    state: AppState, body: PredictionsIn, uncertain: list[bool]
) -> dict[int, int]:
    if body.on_uncertain != "measure" or not any(uncertain):
        return {}
    positions = [i for i, flag in enumerate(uncertain) if flag]
    if body.model_ids is not None:
        targets = {i: body.model_ids[i] for i in positions}
    else:
        specs = body.specs or []
        targets = {i: _model_for_spec(state, specs[i]) for i in positions}
    return _enqueue(state, body.device, targets)
