"""The ``perfloop inspect`` contract: JSON keys, table output, errors as one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from perfloop.cli import app
from predictor.cli import parse_input_shapes

from .models import conv_model

SUMMARY_KEYS = {
    "ir_version",
    "macs",
    "flops",
    "params",
    "model_bytes",
    "peak_activation_bytes",
    "num_nodes",
    "op_counts",
    "unknown_ops",
    "inputs",
    "outputs",
    "graph_only",
}


@pytest.fixture()
def model_path(tmp_path: Path) -> Path:
    path = tmp_path / "conv.onnx"
    path.write_bytes(conv_model().SerializeToString())
    return path


def test_inspect_json(model_path: Path) -> None:
    result = CliRunner().invoke(app, ["inspect", str(model_path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert set(summary) == SUMMARY_KEYS
    assert summary["macs"] == 4 * 8 * 8 * 3 * 9
    assert summary["op_counts"] == {"Conv": 1, "Relu": 1}
    assert summary["unknown_ops"] == []


def test_inspect_table(model_path: Path) -> None:
    result = CliRunner().invoke(app, ["inspect", str(model_path)])
    assert result.exit_code == 0, result.output
    assert "macs" in result.stdout
    assert "6,912" in result.stdout


def test_inspect_dynamic_input_with_shape_option(tmp_path: Path) -> None:
    path = tmp_path / "dyn.onnx"
    path.write_bytes(conv_model(batch="N").SerializeToString())
    runner = CliRunner()
    failed = runner.invoke(app, ["inspect", str(path), "--json"])
    assert failed.exit_code == 2
    assert failed.stderr.startswith("error: dynamic_shape: ")
    ok = runner.invoke(app, ["inspect", str(path), "--json", "--input-shape", "x=2,3,8,8"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["inputs"] == [{"shape": [2, 3, 8, 8], "dtype": "float32"}]


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"definitely not a model", "not_onnx"), (None, "truncated_model")],
)
def test_inspect_bad_file_is_one_line_on_stderr(
    tmp_path: Path, content: bytes | None, code: str
) -> None:
    data = content if content is not None else conv_model().SerializeToString()[:-3]
    path = tmp_path / "bad.onnx"
    path.write_bytes(data)
    result = CliRunner().invoke(app, ["inspect", str(path), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {code}: ")
    assert "Traceback" not in result.stderr


def test_parse_input_shapes() -> None:
    assert parse_input_shapes(["x=1,3,224,224", "ids=2,7"]) == {
        "x": [1, 3, 224, 224],
        "ids": [2, 7],
    }
    for bad in ("x", "x=", "=1,2", "x=1,a", "x=0,3"):
        with pytest.raises(typer.BadParameter, match="NAME=D1,D2"):
            parse_input_shapes([bad])


def test_strip_then_inspect_is_graph_only_with_the_same_features(
    model_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "graph_only.onnx"
    stripped = CliRunner().invoke(
        app, ["strip", str(model_path), "-o", str(out), "--min-bytes", "0"]
    )
    assert stripped.exit_code == 0, stripped.output
    assert out.stat().st_size < model_path.stat().st_size
    before = json.loads(CliRunner().invoke(app, ["inspect", str(model_path), "--json"]).stdout)
    after = json.loads(CliRunner().invoke(app, ["inspect", str(out), "--json"]).stdout)
    assert (before.pop("graph_only"), after.pop("graph_only")) == (False, True)
    assert after == before


def test_strip_of_garbage_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not onnx")
    result = CliRunner().invoke(app, ["strip", str(bad), "-o", str(tmp_path / "o.onnx")])
    assert result.exit_code == 2
    assert "not_onnx" in result.output


def test_strip_does_not_import_torch(model_path: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "o.onnx"
    code = (
        "import sys\nfrom perfloop.cli import app\ntry:\n"
        f"    app(['strip', {str(model_path)!r}, '-o', {str(out)!r}])\n"
        "except SystemExit as exc:\n    assert exc.code in (0, None), exc.code\n"
        "sys.exit(3 if 'torch' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
    assert out.exists()
