"""Row factories and tiny models for the service tests (also used by the dashboard tests)."""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sqlalchemy.orm import Session

from predictor.ir.builder import GraphBuilder
from predictor.ir.schema import GraphIR
from service.crud import models as model_crud
from service.models import Device, Job, Measurement, Model, PredictionLog, utcnow

_counter = itertools.count(1)


def tiny_onnx(channels: int = 4, size: int = 8, relu: bool = True) -> bytes:
    """A Conv(3x3)[+Relu] ONNX model built with onnx.helper; distinct args give distinct bytes."""
    weight = np.linspace(-1, 1, channels * 3 * 9, dtype=np.float32).reshape(channels, 3, 3, 3)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])]
    nodes.append(helper.make_node("Relu", ["c"], ["y"]) if relu else None)  # type: ignore[arg-type]
    nodes = [n for n in nodes if n is not None]
    if not relu:
        nodes[0].output[0] = "y"
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, channels, size, size])],
        initializer=[numpy_helper.from_array(weight, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def tiny_graph(channels: int = 4, size: int = 8) -> GraphIR:
    """A Conv+Relu graph IR built with GraphBuilder (no ONNX)."""
    b = GraphBuilder("tiny")
    from predictor.ir.schema import TensorSpec

    x = b.add_input((1, 3, size, size))
    out = TensorSpec((1, channels, size, size))
    (c,) = b.add_node(
        "Conv",
        [x],
        [out],
        weights=[TensorSpec((channels, 3, 3, 3))],
        attrs={"kernel_shape": (3, 3), "strides": (1, 1), "pads": (1, 1, 1, 1), "group": 1},
    )
    (y,) = b.add_node("Relu", [c], [out])
    b.mark_output(y)
    return b.build()


def make_device(session: Session, name: str = "dev1", **fields: Any) -> Device:
    """Insert a device."""
    values: dict[str, Any] = {
        "kind": "cpu",
        "runtime": "onnxruntime",
        "simulated": True,
        "hardware": {"cpu": "test"},
    }
    values.update(fields)
    device = Device(name=name, **values)
    session.add(device)
    session.flush()
    return device


def make_model(session: Session, channels: int | None = None, **fields: Any) -> Model:
    """Insert a model row with a tiny graph IR (id: a fake sha256, unique per call).

    The tiny graphs repeat (61 widths), so each row gets its own id as network fingerprint
    unless ``fingerprint`` is given: distinct rows are distinct networks in these tests.
    """
    n = next(_counter)
    graph = tiny_graph(channels or (n % 61) + 2)
    model_id = hashlib.sha256(f"model-{n}-{channels}".encode()).hexdigest()
    row = model_crud.new_row(model_id, 1000 + n, graph)
    row.fingerprint = model_id
    for key, value in fields.items():
        setattr(row, key, value)
    session.add(row)
    session.flush()
    return row


def make_measurement(
    session: Session,
    model_id: str,
    device: str = "dev1",
    latency_ms: float | None = 1.0,
    created_at: datetime | None = None,
    **fields: Any,
) -> Measurement:
    """Insert a measurement (latency statistics derived from ``latency_ms``)."""
    values: dict[str, Any] = {
        "idempotency_key": f"key-{next(_counter)}",
        "measurement_kind": "simulated",
        "n_runs": 10,
        "warmup_runs": 2,
        "latency_median_ms": latency_ms,
        "latency_mean_ms": latency_ms,
        "latency_std_ms": 0.0 if latency_ms is not None else None,
        "latency_p10_ms": latency_ms,
        "latency_p90_ms": latency_ms,
        "backend": "ort-cpu",
        "runtime": "onnxruntime",
        "runtime_version": "1.0",
        "agent_version": "0.1.0",
        "environment_extra": {},
        "created_at": created_at or utcnow(),
    }
    values.update(fields)
    row = Measurement(model_id=model_id, device=device, **values)
    session.add(row)
    session.flush()
    return row


def make_job(session: Session, model_id: str, device: str = "dev1", **fields: Any) -> Job:
    """Insert a job (queued by default)."""
    values: dict[str, Any] = {"status": "queued", "priority": 0, "attempts": 0, "max_attempts": 3}
    values.update(fields)
    job = Job(model_id=model_id, device=device, **values)
    session.add(job)
    session.flush()
    return job


def make_prediction(
    session: Session,
    model_id: str,
    mean: float,
    device: str = "dev1",
    created_at: datetime | None = None,
    version: str = "v1",
    metric: str = "latency_ms",
    check_kind: str | None = None,
) -> PredictionLog:
    """Insert a prediction log row (with its model's network fingerprint)."""
    model = session.get(Model, model_id)
    row = PredictionLog(
        model_id=model_id,
        fingerprint=model.fingerprint if model is not None else None,
        check_kind=check_kind,
        device=device,
        predictor_version=version,
        metric=metric,
        mean=mean,
        std=0.1 * mean,
        lo=0.8 * mean,
        hi=1.2 * mean,
        created_at=created_at or utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def measurement_body(
    model_id: str, device: str = "dev1", key: str | None = None, latency_ms: float = 2.0
) -> dict[str, Any]:
    """A wire-format measurement object."""
    return {
        "model_id": model_id,
        "device": device,
        "idempotency_key": key or f"upload-{next(_counter)}",
        "measurement_kind": "simulated",
        "latency_ms": {
            "median": latency_ms,
            "mean": latency_ms * 1.01,
            "std": 0.05,
            "p10": latency_ms * 0.95,
            "p90": latency_ms * 1.05,
            "n_runs": 20,
            "warmup_runs": 3,
            "raw_samples_ms": None,
        },
        "energy_mj": None,
        "peak_memory_bytes": 12345,
        "flash_bytes": None,
        "environment": {
            "backend": "ort-cpu",
            "runtime": "onnxruntime",
            "runtime_version": "1.20.0",
            "threads": 1,
            "cpu": "test cpu",
            "clock_mhz": 2400.0,
            "agent_version": "0.1.0",
            "extra": {},
        },
        "measured_at": None,
    }
