from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from perfloop.cli import app
from predictor.data.shared import find_shared_file

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
COST = {
    "none": 0.0,
    "skip_connect": 0.1,
    "nor_conv_1x1": 1.0,
    "nor_conv_3x3": 3.0,
    "avg_pool_3x3": 0.5,
}
SHARED = find_shared_file("nasbench201_latency_ms.csv.gz") or Path("shared-data-not-found")
KEYS = {"spearman", "kendall", "mape", "acc_5", "acc_10", "coverage_90"}


def _arch(ops: tuple[str, ...]) -> str:
    a, b, c, d, e, f = ops
    return f"|{a}~0|+|{b}~0|{c}~1|+|{d}~0|{e}~1|{f}~2|"


def _write_csv(path: Path, n: int = 40) -> None:
    rng = np.random.default_rng(0)
    combos = list(itertools.product(OPS, repeat=6))
    picks = rng.choice(len(combos), n, replace=False)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["arch_index", "arch", "dev_a", "dev_b", "dev_c"])
        for i, p in enumerate(picks):
            ops = combos[p]
            base = sum(COST[o] for o in ops)
            w.writerow([i, _arch(ops), 1 + base, 2 + 0.5 * base, 0.5 + 2 * base])


def _check(result: dict, devices: list[str]) -> None:  # type: ignore[type-arg]
    assert set(result["devices"]) == set(devices)
    for method in ("perfloop", "macs_linear", "lookup_table", "gbt"):
        assert set(result["overall"][method]) >= KEYS
        for d in devices:
            assert set(result["devices"][d][method]) >= KEYS
    assert result["overall"]["perfloop"]["coverage_90"] is not None
    assert result["wall_time_s"] > 0


def test_fewshot_quick_synthetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFLOOP_CACHE_DIR", str(tmp_path / "cache"))
    data, out = tmp_path / "t.csv", tmp_path / "r.json"
    _write_csv(data)
    args = ["bench", "fewshot", "--quick", "--space", "nasbench201", "--data", str(data)]
    args += ["--train-devices", "dev_a,dev_b", "--test-devices", "dev_c", "--samples", "5"]
    res = CliRunner().invoke(app, [*args, "--noise-scale", "1.25", "--json", str(out)])
    assert res.exit_code == 0, res.output
    result = json.loads(out.read_text())
    _check(result, ["dev_c"])
    assert result["fewshot"]["noise_scale"] == 1.25


def test_fewshot_rejects_unknown_device(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFLOOP_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "t.csv"
    _write_csv(data, 12)
    args = ["bench", "fewshot", "--quick", "--data", str(data), "--test-devices", "nope"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code != 0
    assert "nope" in res.output


@pytest.mark.skipif(not SHARED.exists(), reason="measured tables not on this machine")
def test_fewshot_quick_real_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFLOOP_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "r.json"
    res = CliRunner().invoke(
        app, ["bench", "fewshot", "--quick", "--data", str(SHARED), "--json", str(out)]
    )
    assert res.exit_code == 0, res.output
    result = json.loads(out.read_text())
    _check(result, ["titan_rtx_256", "gold_6226", "fpga", "pixel2", "raspi4", "eyeriss"])


def test_fewshot_rejects_unknown_layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFLOOP_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "t.csv"
    _write_csv(data, 12)
    res = CliRunner().invoke(app, ["bench", "fewshot", "--data", str(data), "--layer", "gcn"])
    assert res.exit_code != 0
    assert "gcn" in res.output


def test_ceiling_on_synthetic_table(tmp_path: Path) -> None:
    data, out = tmp_path / "t.csv", tmp_path / "c.json"
    _write_csv(data, 300)
    args = ["bench", "ceiling", "--data", str(data), "--devices", "dev_a,dev_c", "--no-model"]
    res = CliRunner().invoke(app, [*args, "--json", str(out)])
    assert res.exit_code == 0, res.output
    result = json.loads(out.read_text())
    assert set(result["devices"]) == {"dev_a", "dev_c"}
    # the synthetic latency is a function of the op multiset: no within-group noise
    assert result["devices"]["dev_a"]["noise_std_log"] < 1e-9
    assert result["devices"]["dev_a"]["position_model"] is None


def test_fullshot_rejects_unknown_layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFLOOP_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "t.csv"
    _write_csv(data, 12)
    args = ["bench", "fullshot", "--data", str(data), "--devices", "dev_a", "--layer", "mlp"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code != 0
    assert "mlp" in res.output
