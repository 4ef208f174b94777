"""End to end in quick mode: real service (SQLite), real agent subprocesses (ort-cpu on the host,
tflm-m7 simulated), the worker; driven in explicit rounds (perfloop.rounds), so what each
version is trained on does not depend on how fast the machine is."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from perfloop.demo import DemoConfig
from perfloop.rounds import run_rounds

DEVICES = ("ort-cpu-local", "tflm-m7-local")


def test_loop_measures_trains_and_improves(tmp_path: Path) -> None:
    cfg = DemoConfig(
        data_dir=tmp_path / "data",
        backends=("ort-cpu", "tflm-m7"),
        spaces=("kws", "nasbench201"),
        retrain_every=4,  # planned jobs per device between rounds
        min_device_samples=8,
        doubt_specs=2,
        # Low enough that in-family specs count as doubtful too: the test follows the
        # measure-on-doubt path end to end, whatever the intervals' calibration.
        threshold=0.05,
    )
    out = io.StringIO()
    result = run_rounds(cfg, Console(file=out, width=120), rounds=3, timeout_s=1500)

    text = out.getvalue()
    print(text)  # the table, in the report of a failing (or -rP) run
    # A fresh data dir starts with the shipped predictor active: a trained version replaces it only
    # when it beats it on held-out measurements (tests/service/test_shipped.py), which a quick-mode
    # version on a few dozen rows need not do.
    assert len(result.versions) == 3, result.versions
    # 13 references (10 NB201, 3 KWS) each, then two planned batches of 4 (models that do not
    # fit the M7's 2 MB flash fail there)
    assert min(result.measurements.values()) >= 14, result.measurements
    assert result.doubt_jobs and result.doubt_measured > 0  # measured on doubt, polled back
    for device in DEVICES:
        scores = result.final[device]
        assert int(scores["count"] or 0) >= 2 and scores["mape"] is not None
    # Predictions improve as measurements arrive: on the newest (held-out) measured models of
    # the deterministic simulated device, what the service predicts at the end beats what it
    # predicted when the first version came out, from the reference measurements only.
    early, final = result.early["tflm-m7-local"], result.final["tflm-m7-local"]
    assert float(final["mape"] or 0) < float(early["mape"] or 0), (result.early, result.final)
    assert "tflm-m7-local" in text and "/dashboard" in text and result.client_token in text
