"""``perfloop pretrain``: bad input is a CLI error naming the option; a quick run writes an
artifact with the corpus and table it was trained on."""

from __future__ import annotations

import json
import random
from pathlib import Path

from typer.testing import CliRunner

from perfloop.cli import app
from predictor.spaces.registry import get_space
from tests.predictor.data.zoo_factory import synthetic_records, write_corpus


def _table(tmp_path: Path) -> Path:
    space = get_space("nasbench201")
    rng = random.Random(0)
    archs = sorted({space.sample(rng) for _ in range(30)})
    lines = ["arch_index,arch,gold_6240"] + [f"{i},{a},{1 + i * 0.1}" for i, a in enumerate(archs)]
    path = tmp_path / "nasbench201_latency_ms.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_missing_corpus_names_the_option(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["pretrain", "--out", str(tmp_path / "a"), "--corpus", "nope"])
    assert res.exit_code == 2
    assert "--corpus" in res.output


def test_quick_pretrain_writes_an_artifact(tmp_path: Path) -> None:
    corpus = tmp_path / "zoo"
    corpus.mkdir()
    write_corpus(corpus, synthetic_records(("kws", "rnn"), 12, ("ort-cpu",)))
    out = tmp_path / "artifact"
    args = ["pretrain", "--out", str(out), "--corpus", str(corpus), "--quick"]
    res = CliRunner().invoke(app, [*args, "--table", str(_table(tmp_path)), "--version", "t1"])
    assert res.exit_code == 0, res.output
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["version"] == "t1"
    assert meta["metrics"]["pretrain"]["corpus_files"] == ["test.jsonl.gz"]
    assert "zoo/ort-cpu" in meta["devices"] and "help/gold_6240" in meta["devices"]
    again = CliRunner().invoke(app, args)  # the artifact directory is not empty now
    assert again.exit_code == 2 and "--out" in again.output
