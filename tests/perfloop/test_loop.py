"""End to end in quick mode: real service (SQLite), a real ort-cpu agent subprocess, the worker."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from perfloop.demo import DemoConfig, run_loop


# Timing-dependent: how many rounds the worker trains before the per-device target is reached
# depends on machine speed (seen failing 1 in 3 on an idle machine); rerun instead of hiding it.
@pytest.mark.flaky(reruns=2)
def test_loop_measures_trains_and_improves(tmp_path: Path) -> None:
    cfg = DemoConfig(
        data_dir=tmp_path / "data",
        backends=("ort-cpu", "tflm-m7"),
        spaces=("kws", "nasbench201"),
        budget_s=240.0,
        per_device=20,
        retrain_every=4,
        min_device_samples=14,
        doubt_specs=2,
    )
    out = io.StringIO()
    result = run_loop(cfg, Console(file=out, width=120))

    text = out.getvalue()
    assert min(result.measurements.values()) >= 12, text
    assert len(result.versions) >= 2 and result.versions[0][1], result.versions
    assert result.doubt_jobs and result.doubt_measured > 0  # measured on doubt, polled back
    for device in ("ort-cpu-local", "tflm-m7-local"):
        assert result.final[device]["count"] >= 2 and result.final[device]["mape"] is not None
    # Served predictions use the device's measurements as context: with all of them the active
    # predictor is closer on the held-out rows than with only the first few (a device without a
    # learned head of its own; heads come once a device has min_device_samples training rows).
    gains = {
        d: float(result.few_context[d]["mape"] or 0) - float(result.final[d]["mape"] or 0)
        for d in result.final
        if d in result.few_context
    }
    assert any(g > 0 for g in gains.values()), (result.few_context, result.final)
    assert "tflm-m7-local" in text and "/dashboard" in text and result.client_token in text
