"""Row factories for the dashboard tests, and one filled scenario with known answers."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal

from sqlalchemy.orm import Session

from predictor.ir.builder import GraphBuilder
from predictor.ir.schema import GraphIR, TensorSpec
from service.models import (
    Device,
    Job,
    Measurement,
    Model,
    PredictionLog,
    PredictorVersion,
    TrainRequest,
)
from tests.service.factories import make_prediction

Shape = Literal["conv", "mlp"]
_ids = itertools.count(1)


@cache
def tiny_ir(shape: Shape, width: int) -> GraphIR:
    """A two-node graph whose FLOPs are dominated by Conv (``conv``) or Gemm (``mlp``)."""
    b = GraphBuilder(name=f"{shape}{width}")
    if shape == "conv":
        x = b.add_input((1, 3, 16, 16))
        (y,) = b.add_node(
            "Conv",
            [x],
            [TensorSpec((1, width, 16, 16))],
            weights=[TensorSpec((width, 3, 3, 3)), TensorSpec((width,))],
            attrs={"kernel_shape": (3, 3), "pads": (1, 1, 1, 1), "strides": (1, 1)},
        )
    else:
        x = b.add_input((1, 64))
        (y,) = b.add_node("Gemm", [x], [TensorSpec((1, width))], weights=[TensorSpec((width, 64))])
    (z,) = b.add_node("Relu", [y], [b.spec(y)])
    b.mark_output(z)
    return b.build()


def add_device(
    session: Session,
    name: str,
    *,
    kind: str = "cpu",
    simulated: bool = False,
    last_seen_at: datetime | None = None,
) -> Device:
    """A device row."""
    device = Device(
        name=name,
        kind=kind,
        runtime="onnxruntime-cpu",
        simulated=simulated,
        hardware={},
        last_seen_at=last_seen_at,
    )
    session.add(device)
    session.flush()
    return device


def add_model(
    session: Session, *, family: str | None = "resnet", shape: Shape = "conv", width: int = 8
) -> Model:
    """A model row with a real (tiny) IR and its static features; ids are unique per call."""
    ir = tiny_ir(shape, width)
    model_id = hashlib.sha256(f"model-{next(_ids)}".encode()).hexdigest()
    model = Model(
        id=model_id,
        size_bytes=1000 + width,
        ir_json=ir.to_json(),
        ir_version=ir.ir_version,
        macs=ir.macs,
        flops=ir.flops,
        params=ir.params,
        model_bytes=ir.model_bytes,
        peak_activation_bytes=ir.peak_activation_bytes,
        num_nodes=ir.num_nodes,
        unknown_ops=list(ir.unknown_ops),
        family=family,
        fingerprint=model_id,  # the tiny IRs repeat; each row stands for its own network
    )
    session.add(model)
    session.flush()
    return model


def add_measurement(
    session: Session,
    device: str,
    model_id: str,
    latency_ms: float | None,
    *,
    created_at: datetime,
    energy_mj: float | None = None,
    peak_memory_bytes: int | None = None,
    kind: str = "measured",
) -> Measurement:
    """A measurement row (latency median = mean = ``latency_ms``)."""
    row = Measurement(
        idempotency_key=f"m-{next(_ids)}",
        model_id=model_id,
        device=device,
        measurement_kind=kind,
        latency_median_ms=latency_ms,
        latency_mean_ms=latency_ms,
        energy_mj=energy_mj,
        peak_memory_bytes=peak_memory_bytes,
        backend="ort-cpu",
        runtime="onnxruntime",
        runtime_version="1.0",
        agent_version="test",
        environment_extra={},
        measured_at=created_at,
        created_at=created_at,
    )
    session.add(row)
    return row


def add_prediction(
    session: Session,
    device: str,
    model_id: str,
    mean: float,
    *,
    version: str,
    created_at: datetime,
    metric: str = "latency_ms",
    check_kind: str | None = None,
) -> PredictionLog:
    """A logged prediction (the shared row factory, keyword-only here)."""
    return make_prediction(
        session,
        model_id,
        mean,
        device=device,
        created_at=created_at,
        version=version,
        metric=metric,
        check_kind=check_kind,
    )


def add_job(
    session: Session,
    device: str,
    model_id: str,
    status: str,
    *,
    reason: str | None = None,
    updated_at: datetime | None = None,
) -> Job:
    """A job row with ``status``."""
    row = Job(
        device=device,
        model_id=model_id,
        status=status,
        max_attempts=3,
        attempts=1 if status != "queued" else 0,
        reason=reason,
    )
    if updated_at is not None:
        row.updated_at = updated_at
    session.add(row)
    return row


def add_predictor(
    session: Session, version: str, status: str, metrics: dict[str, Any], *, at: datetime
) -> PredictorVersion:
    """A predictor version row."""
    row = PredictorVersion(
        version=version,
        artifact_path=f"/artifacts/{version}",
        metrics=metrics,
        status=status,
        created_at=at,
        activated_at=at if status == "active" else None,
    )
    session.add(row)
    return row


@dataclass
class Scenario:
    """What :func:`fill` stored, for assertions."""

    now: datetime
    model_ids: dict[str, list[str]] = field(default_factory=dict)
    worst_model: str = ""
    n_pairs_v1: int = 0
    n_pairs_v2: int = 0


#: Relative errors (predicted / measured - 1) built into the scenario.
V1_ERROR = 0.22
V2_ERROR = 0.06
WORST_ERROR = 0.90


def fill(session: Session, now: datetime) -> Scenario:
    """Two devices, two families, two predictor versions with known errors, jobs of all kinds.

    On ``edge-cpu`` (real, online) models are measured at 10 ms x width / 4 (x 1.5 for
    resnet); version v1 predicted +22% two days ago, v2 predicted +6% yesterday; one mlp model
    is predicted +90% by v2 (the worst). ``sim-npu`` is simulated and offline with nothing measured.
    """
    s = Scenario(now=now)
    add_device(session, "edge-cpu", last_seen_at=now - timedelta(seconds=5))
    add_device(session, "sim-npu", kind="npu", simulated=True, last_seen_at=now - timedelta(days=1))
    add_predictor(session, "v1", "retired", {"mape": 0.2}, at=now - timedelta(days=3))
    add_predictor(
        session,
        "v2",
        "active",
        {
            "train_samples": 120,
            "compared_with": "v1",
            "per_device": {
                "edge-cpu": {"mape": 0.051, "acc_10": 0.93, "spearman": 0.99114, "count": 12}
            },
            "active_per_device": {"edge-cpu": {"mape": 0.08837, "spearman": 0.9}},
        },
        at=now - timedelta(days=1, hours=12),
    )
    for family, shape, scale in (("resnet", "conv", 1.5), ("mlp", "mlp", 1.0)):
        s.model_ids[family] = []
        for width in (4, 8, 16):
            model = add_model(session, family=family, shape=shape, width=width)
            s.model_ids[family].append(model.id)
            _pair_history(session, s, model.id, scale * 10.0 * width / 4)
    s.worst_model = s.model_ids["mlp"][-1]
    _pair(session, s.worst_model, 40.0, WORST_ERROR, "v2", now - timedelta(hours=20), "doubt")
    s.n_pairs_v2 += 1
    _jobs(session, s)
    session.add(TrainRequest(status="done", params={}, version="v2"))
    session.add(TrainRequest(status="failed", params={}, error="no measurements on device x"))
    session.flush()
    return s


def _pair(
    session: Session,
    model_id: str,
    actual: float,
    error: float,
    version: str,
    at: datetime,
    check_kind: str | None = None,
) -> None:
    predicted = actual * (1 + error)
    add_prediction(
        session,
        "edge-cpu",
        model_id,
        predicted,
        version=version,
        created_at=at,
        check_kind=check_kind,
    )
    add_measurement(session, "edge-cpu", model_id, actual, created_at=at + timedelta(minutes=5))


def _pair_history(session: Session, s: Scenario, model_id: str, actual: float) -> None:
    _pair(session, model_id, actual, V1_ERROR, "v1", s.now - timedelta(days=2))
    _pair(session, model_id, actual, V2_ERROR, "v2", s.now - timedelta(days=1), "audit")
    s.n_pairs_v1 += 1
    s.n_pairs_v2 += 1


def _jobs(session: Session, s: Scenario) -> None:
    resnet, mlp = s.model_ids["resnet"], s.model_ids["mlp"]
    add_job(session, "edge-cpu", resnet[0], "queued")
    add_job(session, "edge-cpu", resnet[1], "queued")
    add_job(session, "sim-npu", resnet[0], "queued")
    add_job(session, "edge-cpu", mlp[0], "leased")
    add_job(session, "edge-cpu", mlp[1], "done")
    add_job(session, "edge-cpu", mlp[2], "failed", reason="onnxruntime: unsupported op FancyOp")
    add_job(session, "sim-npu", mlp[2], "failed", reason="onnxruntime: unsupported op FancyOp")
    add_job(session, "sim-npu", mlp[1], "failed", reason="profiling timed out after 600 s")
