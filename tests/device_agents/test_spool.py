"""The spool keeps results durably until they are removed."""

from __future__ import annotations

from pathlib import Path

import pytest

from device_agents.schemas import Environment, Measurement
from device_agents.spool import Spool, SpoolEntry


def _measurement(key: str) -> Measurement:
    env = Environment(
        backend="ort-cpu", runtime="onnxruntime", runtime_version="1", agent_version="0"
    )
    return Measurement(
        model_id="ab" * 32,
        device="d",
        idempotency_key=key,
        measurement_kind="measured",
        peak_memory_bytes=1,
        environment=env,
    )


def test_put_pending_remove(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.put(SpoolEntry(job_id=7, measurement=_measurement("k1")))
    spool.put(SpoolEntry(job_id=None, measurement=_measurement("k2")))
    assert len(spool) == 2
    assert not list((tmp_path / "spool").glob("*.tmp"))
    again = Spool(tmp_path / "spool")  # a new process sees the same entries
    entries = {e.measurement.idempotency_key: e for e in again.pending()}
    assert entries["k1"].job_id == 7 and entries["k2"].job_id is None
    again.remove("k1")
    assert [e.measurement.idempotency_key for e in spool.pending()] == ["k2"]


def test_unreadable_file_is_skipped(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    (tmp_path / "broken.json").write_text("{not json")
    spool.put(SpoolEntry(job_id=1, measurement=_measurement("ok")))
    assert [e.measurement.idempotency_key for e in spool.pending()] == ["ok"]


def test_rejects_path_like_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bad idempotency key"):
        Spool(tmp_path).remove("../etc")


def test_measurement_needs_a_value() -> None:
    env = Environment(backend="b", runtime="r", runtime_version="1", agent_version="0")
    with pytest.raises(ValueError, match="needs latency_ms"):
        Measurement(
            model_id="m",
            device="d",
            idempotency_key="k",
            measurement_kind="measured",
            environment=env,
        )


def test_a_write_cut_by_a_kill_is_removed_on_start(tmp_path: Path) -> None:
    Spool(tmp_path).put(SpoolEntry(job_id=1, measurement=_measurement("k1")))
    (tmp_path / "k2.tmp").write_bytes(b'{"job_id": 2, "measu')  # killed mid-write
    spool = Spool(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k1.json"]
    assert [e.measurement.idempotency_key for e in spool.pending()] == ["k1"]
