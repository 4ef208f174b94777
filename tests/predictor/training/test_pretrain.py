"""Pretraining the shipped predictor: corpus + table samples, HELP test devices left out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from predictor.artifact import read_metadata
from predictor.data.tables import LatencyTable
from predictor.training.fit import QUICK_SETTINGS
from predictor.training.pretrain import (
    PretrainConfig,
    pretrain,
    pretrain_samples,
    table_samples,
    table_space,
    training_epochs,
)
from tests.predictor.data.zoo_factory import synthetic_records, write_corpus, write_nb201_table


def _table(tmp_path: Path) -> Path:
    return write_nb201_table(tmp_path, 40, {"gold_6240": (1.0, 0.1), "raspi4": (2.0, 1.0)})


def test_table_space_from_file_name(tmp_path: Path) -> None:
    assert table_space(Path("fbnet_latency_ms.csv.gz")) == "fbnet"
    with pytest.raises(ValueError, match="nasbench201"):
        table_space(Path("other.csv"))


def test_table_samples_skip_excluded_devices_and_missing_values() -> None:
    table = LatencyTable(
        archs=("a", "b", "c"),
        devices=("x", "raspi4"),
        latency_ms=np.asarray([[1.0, 2.0], [float("nan"), 3.0], [4.0, 5.0]]),
    )
    rows = table_samples(table, "nasbench201", 3, ("raspi4",), seed=0)
    assert sorted(r[1] for r in rows) == ["a", "c"]
    assert {r[2] for r in rows} == {"x"}


def test_pretrain_trains_on_corpus_and_tables_without_help_test_devices(tmp_path: Path) -> None:
    corpus = write_corpus(
        tmp_path, synthetic_records(("kws", "rnn"), 12, ("ort-cpu-local", "pixel2"))
    )
    config = PretrainConfig(
        corpus=(corpus,),
        tables=(_table(tmp_path),),
        table_rows=25,
        settings=QUICK_SETTINGS,
        min_device_samples=10,
        version="shipped-test",
    )
    samples = pretrain_samples(config)
    # pixel2 and raspi4 are HELP test devices: left out
    assert {s.device for s in samples} == {"zoo/ort-cpu-local", "help/gold_6240"}
    assert training_epochs(samples, config) == QUICK_SETTINGS.members * QUICK_SETTINGS.epochs
    path = pretrain(config, tmp_path / "artifact")
    meta = read_metadata(path)
    assert meta["version"] == "shipped-test"
    assert set(meta["devices"]) >= {"zoo/ort-cpu-local", "help/gold_6240"}
    assert not any(d.endswith(("pixel2", "raspi4")) for d in meta["devices"])
    assert meta["metrics"]["pretrain"]["samples"] == len(samples)
    assert json.loads((path / "metadata.json").read_text())["metrics"]["pretrain"]["tables"] == [
        "nasbench201_latency_ms.csv"
    ]
