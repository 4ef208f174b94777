"""Every dashboard page rendered against factory-filled (and empty) databases."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import delete

from service.dashboard import summaries
from service.models import Device
from tests.service.dashboard import factories
from tests.service.dashboard.conftest import Site


def _chart_data(html: str, chart_id: str) -> dict:
    match = re.search(rf'<script type="application/json" id="{chart_id}-data">(.*?)</script>', html)
    assert match, f"chart {chart_id} missing"
    return json.loads(match.group(1))


def _row(html: str, table_id: str, first_cell: str) -> str:
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S)
    assert table, f"table {table_id} missing"
    for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S):
        if first_cell in row:
            return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
    raise AssertionError(f"no row with {first_cell!r} in {table_id}")


def test_overview_counts_devices_agents_queue_and_active_predictor(site: Site) -> None:
    response = site.client().get("/dashboard", headers=site.bearer())
    assert response.status_code == 200
    html = response.text
    assert re.search(r'id="n-devices">2<', html)
    assert re.search(r'id="n-online">1<', html)  # edge-cpu seen 5 s ago, sim-npu a day ago
    assert re.search(r'id="n-queued">3<', html)
    edge = _row(html, "devices", "edge-cpu")
    # kind, real, online, 13 measurements, 2 queued, 1 leased, live MAPE of v2, held-out
    assert "cpu real onnxruntime-cpu online" in edge
    assert " 13 2 1 " in edge
    # v2's six +6 % pairs fall inside the logged [0.8, 1.2] x predicted interval, the +90 % not
    assert "18.0% (n=7; 85.7% inside the 90% interval)" in edge
    # held-out MAPE of the active version in % (stored as a fraction), Spearman to 3 digits
    assert edge.endswith("5.1% (n=12) 0.991")
    sim = _row(html, "devices", "sim-npu")
    assert "npu simulated" in sim and "offline" in sim and "not reported" in sim
    assert "<strong>v2</strong>" in html
    # the version's metrics as tables: labelled facts, per-device rows; no dotted keys
    assert _row(html, "active-facts", "Training measurements") == "Training measurements 120"
    assert _row(html, "active-held-out", "edge-cpu") == "edge-cpu 5.1% 8.8% 0.991 93.0% –"
    assert "per_device." not in html and "mape=" not in html
    per_day = _chart_data(html, "measurements-per-day")
    assert sum(per_day["series"][0]["values"]) == 13
    assert response.headers["content-security-policy"].startswith("default-src 'self'")


def test_device_page_error_by_version_family_op_and_worst_model(site: Site) -> None:
    assert site.scenario is not None
    html = site.client().get("/dashboard/devices/edge-cpu", headers=site.bearer()).text
    assert _row(html, "by-version", "v1") == "v1 6 22.0% 0.0% 100.0%"
    # v2: six pairs at +6% and the worst model at +90%
    assert _row(html, "by-version", "v2") == "v2 7 18.0% 85.7% 85.7%"
    scatter = _chart_data(html, "scatter")
    assert {s["label"] for s in scatter["series"]} == {"resnet", "mlp"}
    assert sum(len(s["points"]) for s in scatter["series"]) == 13
    assert scatter["unit"] == "ms"
    over_time = _chart_data(html, "mape-over-time")
    assert [s["label"] for s in over_time["series"]] == ["v1", "v2"]
    assert len(over_time["labels"]) in (2, 3)  # v2's worst pair may fall on a third UTC day
    coverage = _chart_data(html, "coverage-over-time")
    assert coverage["series"][0]["values"][0] == 100.0  # v1's -22 % pairs: inside [0.8, 1.2]
    calibration = dict(
        (p["x"], p["y"]) for p in _chart_data(html, "calibration")["series"][0]["points"]
    )
    assert calibration[90.0] == pytest.approx(100 * 12 / 13, abs=0.01)  # as the by-version table
    # v2's six +6 % pairs were audited (random), its +90 % one doubt-triggered
    audited = _row(html, "by-check", "audited (random)")
    assert audited.startswith("audited (random) 6 6.0% 6.0%–6.0%")
    assert _row(html, "by-check", "doubt-triggered") == "doubt-triggered 1 90.0% needs 2 pairs"
    assert _row(html, "by-check", "not queued").startswith("not queued 6 22.0%")
    families = _chart_data(html, "by-family")
    assert families["labels"] == ["mlp (n=7)", "resnet (n=6)"]
    ops = _chart_data(html, "by-op")
    assert sorted(ops["labels"]) == ["Conv (n=6)", "Gemm (n=7)"]
    residuals = _chart_data(html, "residuals")
    assert sum(residuals["series"][0]["values"]) == 13
    worst = _row(html, "worst", site.scenario.worst_model[:12])
    assert worst.startswith(f"{site.scenario.worst_model[:12]} mlp")
    assert f'href="/dashboard/models/{site.scenario.worst_model}"' in html


def test_device_page_other_metric_without_pairs_explains_what_to_do(site: Site) -> None:
    html = site.client().get("/dashboard/devices/edge-cpu?metric=energy_mj", headers=site.bearer())
    assert html.status_code == 200
    assert 'id="empty-pairs"' in html.text
    assert "POST /api/v1/predictions" in html.text


def test_unknown_device_and_model_are_404_pages(site: Site) -> None:
    client = site.client()
    for path in ("/dashboard/devices/nope", "/dashboard/models/" + "0" * 64):
        response = client.get(path, headers=site.bearer())
        assert response.status_code == 404
        assert "Not found" in response.text


def test_jobs_page_lists_open_and_failed_jobs_with_reasons_and_versions(site: Site) -> None:
    html = site.client().get("/dashboard/jobs", headers=site.bearer()).text
    for status, n in (("queued", 3), ("leased", 1), ("done", 1), ("failed", 3)):
        assert re.search(rf'id="count-{status}">{n}<', html), status
    assert _row(html, "failure-reasons", "unsupported op").endswith(" 2")
    assert "profiling timed out after 600 s" in _row(html, "failed-jobs", "timed out")
    v2 = _row(html, "versions", "v2")
    assert "active" in v2 and "edge-cpu: 5.1%" in v2 and "Training measurements: 120" in v2
    assert "per_device." not in html
    assert _row(html, "versions", "retired").startswith("v1 retired")
    assert "failed" in _row(html, "train-requests", "no measurements on device x")


def test_model_page_shows_static_features_and_measurements(site: Site) -> None:
    assert site.scenario is not None
    model_id = site.scenario.model_ids["resnet"][0]
    ir = factories.tiny_ir("conv", 4)
    html = site.client().get(f"/dashboard/models/{model_id}", headers=site.bearer()).text
    assert _row(html, "op-types", "Conv").startswith("Conv 1 ")
    assert f"Operators {ir.num_nodes}" in _row(html, "static-features", "Operators")
    assert _row(html, "model-measurements", "edge-cpu").startswith("edge-cpu measured 2 15 ms")


def test_empty_database_pages_say_what_to_do_next(empty_site: Site) -> None:
    client = empty_site.client()
    headers = empty_site.bearer()
    overview = client.get("/dashboard", headers=headers).text
    assert "No predictor is active" in overview
    jobs = client.get("/dashboard/jobs", headers=headers).text
    assert 'id="empty-open-jobs"' in jobs and 'id="empty-versions"' in jobs
    device = client.get("/dashboard/devices/edge-cpu", headers=headers).text
    assert 'id="empty-pairs"' in device


def test_no_devices_shows_how_to_start_an_agent(empty_site: Site) -> None:
    with empty_site.state.db.session(write=True) as session:
        session.execute(delete(Device))
    html = empty_site.client().get("/dashboard", headers=empty_site.bearer()).text
    assert 'id="empty-devices"' in html
    assert "perfloop agent --server http://testserver --token T --backend ort-cpu" in html


@pytest.mark.parametrize("path", ["/dashboard/devices/edge-cpu?metric=flops"])
def test_bad_metric_is_rejected(site: Site, path: str) -> None:
    assert site.client().get(path, headers=site.bearer()).status_code == 422


def test_predictor_metrics_become_facts_and_per_device_scores() -> None:
    metrics = {
        "holdout_samples": 30,
        "ratio": 0.123456,
        "latency_ms": {"acc_10": 0.8, "note": "x"},
        "per_device": {"d1": {"mape": 0.2, "nested": {"a": 1}}, "d2": "bad"},
    }
    assert summaries.version_facts(metrics) == [
        ("Held-out measurements", "30"),
        ("Ratio", "0.123"),
    ]
    held = summaries.held_out_by_device(metrics)
    assert list(held) == ["d1"] and held["d1"].mape_pct == pytest.approx(20.0)
    assert held["d1"].spearman is None
    assert summaries.held_out_by_device({"devices": ["d1"]}) == {}


def test_device_page_window_limits_predictions_by_age(site: Site) -> None:
    client = site.client()
    html = client.get("/dashboard/devices/edge-cpu?days=1", headers=site.bearer()).text
    assert _row(html, "by-version", "v2") == "v2 1 90.0% 0.0% 0.0%"  # only the 20-hour-old pair
    assert ">v1<" not in html
    everything = client.get("/dashboard/devices/edge-cpu?days=0", headers=site.bearer()).text
    assert _row(everything, "by-version", "v1") == "v1 6 22.0% 0.0% 100.0%"
    assert (
        client.get("/dashboard/devices/edge-cpu?days=-1", headers=site.bearer()).status_code == 422
    )


@pytest.mark.parametrize(
    ("device", "backend"),
    [("zigzag-local", "zigzag"), ("tflm-m7-local", "tflm-m7"), ("ethos-u-local", "ethos-u")],
)
def test_empty_device_page_suggests_its_own_backend(
    empty_site: Site, device: str, backend: str
) -> None:
    with empty_site.state.db.session(write=True) as session:
        factories.add_device(session, device, kind="npu", simulated=True)
    html = empty_site.client().get(f"/dashboard/devices/{device}", headers=empty_site.bearer())
    command = re.search(r'<pre id="agent-command">(.*?)</pre>', html.text)
    assert command is not None
    assert command.group(1) == (
        f"perfloop agent --server http://testserver --token T --backend {backend} --device {device}"
    )
