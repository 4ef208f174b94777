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
COST = {"none": 0.0, "skip_connect": 0.1, "nor_conv_1x1": 1.0, "nor_conv_3x3": 3.0}


def _write_csv(path: Path, n: int = 60) -> None:
    rng = np.random.default_rng(0)
    combos = list(itertools.product(OPS, repeat=6))
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["arch_index", "arch", "dev_a", "dev_b", "dev_c"])
        for i, p in enumerate(rng.choice(len(combos), n, replace=False)):
            a, b, c, d, e, f = ops = combos[p]
            base = sum(COST.get(o, 0.5) for o in ops)
            arch = f"|{a}~0|+|{b}~0|{c}~1|+|{d}~0|{e}~1|{f}~2|"
            w.writerow([i, arch, 1 + base, 2 + 0.5 * base, 0.5 + 2 * base])


@pytest.mark.parametrize("regime", ["published", "scratch", "stacked"])
def test_bench_active_synthetic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, regime: str
) -> None:
    monkeypatch.setenv("PERFLOOP_CACHE_DIR", str(tmp_path / "cache"))
    data, out = tmp_path / "t.csv", tmp_path / "r.json"
    _write_csv(data)
    args = ["bench", "active", "--quick", "--data", str(data), "--regime", regime, "--seeds", "2"]
    args += ["--train-devices", "dev_a,dev_b", "--test-devices", "dev_c", "--budgets", "6,10,14"]
    args += ["--strategies", "coverage,eer"]
    res = CliRunner().invoke(app, [*args, "--json", str(out)])
    assert res.exit_code == 0, res.output
    result = json.loads(out.read_text())
    assert result["strategies"] == ["random", "coverage", "eer"]
    assert [len(result["runs"]["dev_c"][s]) for s in result["strategies"]] == [2, 2, 2]
    overall = result["summary"]["overall"]["eer"]
    assert sorted(overall, key=int) == ["6", "10", "14"]
    assert overall["14"]["acc_10"]["min"] <= overall["14"]["acc_10"]["median"]
    headline = json.loads(res.output)
    assert headline["spearman"]["budget_to_reach"]["random"] in (6, 10, 14)


def test_bench_active_rejects_unknown_strategy(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["bench", "active", "--quick", "--strategies", "greedy"])
    assert res.exit_code != 0
    assert "greedy" in res.output


SHARED = find_shared_file("nasbench201_latency_ms.csv.gz") or Path("shared-data-not-found")


@pytest.mark.skipif(not SHARED.exists(), reason="measured tables not on this machine")
def test_bench_active_quick_real_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFLOOP_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "r.json"
    args = ["bench", "active", "--quick", "--data", str(SHARED), "--regime", "gpu-meta"]
    args += ["--seeds", "1", "--strategies", "eer", "--test-devices", "raspi4"]
    res = CliRunner().invoke(app, [*args, "--json", str(out)])
    assert res.exit_code == 0, res.output
    result = json.loads(out.read_text())
    assert result["train_devices"] == ["1080ti_1", "1080ti_32", "1080ti_256"]
    assert sorted(result["summary"]["overall"]["eer"], key=int) == ["10", "15", "20", "30"]
