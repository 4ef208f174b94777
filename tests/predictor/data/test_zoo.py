"""The zoo corpus format: round trip, resume keys, a killed writer's partial line."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from predictor.data.zoo import ZooRecord, append_records, measured_keys, read_corpus


def _record(spec_key: str, device: str = "ort-cpu", latency_ms: float = 1.5) -> ZooRecord:
    return ZooRecord(
        space="resnet",
        spec={"depth": 2},
        spec_key=spec_key,
        device=device,
        backend="ort-cpu",
        measurement_kind="measured",
        runtime="onnxruntime",
        runtime_version="1.20.0",
        clock="thread_cpu",
        threads=1,
        host_cpu="test cpu",
        measured_at="2026-12-05T00:00:00Z",
        latency_ms=latency_ms,
    )


def test_round_trip_and_resume_keys(tmp_path: Path) -> None:
    path = tmp_path / "zoo.jsonl.gz"
    assert append_records(path, [_record("a"), _record("b", latency_ms=2.0)]) == 2
    assert append_records(path, [_record("a", device="litert")]) == 1
    records = list(read_corpus([path]))
    assert [r.spec_key for r in records] == ["a", "b", "a"]
    assert records[1].latency_ms == 2.0
    assert measured_keys([path, tmp_path / "missing.jsonl.gz"]) == {
        ("resnet", "a", "ort-cpu"),
        ("resnet", "b", "ort-cpu"),
        ("resnet", "a", "litert"),
    }


def test_partial_last_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "zoo.jsonl.gz"
    append_records(path, [_record("a")])
    with gzip.open(path, "at", encoding="utf-8") as fh:
        fh.write('{"space": "resnet", "spec')
    assert [r.spec_key for r in read_corpus([path])] == ["a"]


def test_bad_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "zoo.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write('{"space": "resnet"}\n')
    with pytest.raises(ValueError, match=r"zoo\.jsonl\.gz:1"):
        list(read_corpus([path]))
