"""``perfloop zoo measure``: bad families and backends are CLI errors naming the valid ones."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from perfloop.cli import app


def test_unknown_family_is_a_usage_error(tmp_path: Path) -> None:
    args = ["zoo", "measure", "--families", "resnet,nope", "--out", str(tmp_path)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2
    assert "nope" in res.output and "convnext" in res.output
    assert not list(tmp_path.iterdir())


def test_unknown_backend_is_a_usage_error(tmp_path: Path) -> None:
    args = ["zoo", "measure", "--backends", "ort-cpu,tpu9", "--out", str(tmp_path)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2
    assert "tpu9" in res.output and "litert" in res.output


def test_measures_a_tiny_zoo(tmp_path: Path) -> None:
    args = ["zoo", "measure", "--families", "kws", "--per-family", "1", "--backends", "ort-cpu"]
    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "measured 1, skipped 0" in res.output
    assert (tmp_path / "ort-cpu.jsonl.gz").exists()


def test_an_empty_mac_window_is_a_usage_error(tmp_path: Path) -> None:
    args = ["zoo", "measure", "--min-macs", "2e9", "--max-macs", "1e9", "--out", str(tmp_path)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2
    assert "--min-macs" in res.output
    assert not list(tmp_path.iterdir())
