"""``perfloop train``: a predictor artifact from latency tables (the product command)."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from perfloop.cli import app
from predictor.api import DeviceContext, load_predictor
from predictor.spaces.table_graphs import graph_builder

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")


def _write_csv(path: Path, n: int = 30) -> list[str]:
    rng = np.random.default_rng(0)
    combos = list(itertools.product(OPS, repeat=6))
    archs = []
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["arch_index", "arch", "dev_a", "dev_b"])
        for i, p in enumerate(rng.choice(len(combos), n, replace=False)):
            a, b, c, d, e, f = combos[p]
            arch = f"|{a}~0|+|{b}~0|{c}~1|+|{d}~0|{e}~1|{f}~2|"
            convs = sum(op.startswith("nor_conv") for op in combos[p])
            w.writerow([i, arch, 1.0 + convs, 2.0 + 0.5 * convs])
            archs.append(arch)
    return archs


def test_train_writes_a_loadable_artifact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFLOOP_CACHE_DIR", str(tmp_path / "cache"))
    archs = _write_csv(tmp_path / "t.csv")
    out = tmp_path / "artifact"
    args = ["train", "--quick", "--data", str(tmp_path / "t.csv"), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--version-name", "tables-1"])
    assert result.exit_code == 0, result.output
    predictor = load_predictor(out)
    assert predictor.version == "tables-1"
    _, to_ir = graph_builder("nasbench201")
    batch = predictor.predict([to_ir(archs[0])], DeviceContext(name="dev_a"))
    assert batch.estimates[0]["latency_ms"].mean > 0


def test_train_names_the_valid_devices(tmp_path: Path) -> None:
    _write_csv(tmp_path / "t.csv")
    args = ["train", "--quick", "--data", str(tmp_path / "t.csv"), "--out", str(tmp_path / "a")]
    result = CliRunner().invoke(app, [*args, "--devices", "dev_x"])
    assert result.exit_code == 2
    assert "dev_x" in result.output and "dev_a" in result.output
