"""Leave-one-family-out benchmark: every family held out once, zero-shot and k-shot rows per
device, baselines beside perfloop, targets checked; the k-shot rescaling recovers a scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.families import (
    Corpus,
    FamiliesBench,
    _encoder_without,
    run_families,
    scores,
    shifted,
    support_keys,
)
from benchmarks.targets import check_targets
from predictor.training.fit import QUICK_SETTINGS
from predictor.training.pretrain import GraphBuilder
from tests.predictor.data.zoo_factory import synthetic_records, write_corpus, write_nb201_table


def test_shifted_recovers_a_constant_scale_and_widens_with_few_members() -> None:
    mean = np.asarray([1.0, 2.0, 4.0, 8.0])
    lo, hi = mean / 1.5, mean * 1.5
    y = 3.0 * mean
    m1, lo1, hi1 = shifted(mean, lo, hi, np.asarray([0]), y[[0]])
    np.testing.assert_allclose(m1, y)
    assert np.all(hi1 / lo1 > hi / lo)  # one member: the scale itself is uncertain
    m3, lo3, hi3 = shifted(mean, lo, hi, np.asarray([0, 1, 2]), y[[0, 1, 2]])
    np.testing.assert_allclose(m3, y)
    assert np.all(hi3 / lo3 < hi1 / lo1)  # three identical ratios: a tight scale


def test_scores_are_fractions() -> None:
    s = scores(np.asarray([1.05, 2.0, 3.6]), np.asarray([1.0, 2.0, 3.0]))
    assert s["mape"] == pytest.approx((0.05 + 0 + 0.2) / 3)
    assert s["median_ape"] == pytest.approx(0.05)
    assert s["acc_10"] == pytest.approx(2 / 3)
    assert s["coverage_90"] is None


def _table(tmp_path: Path) -> Path:
    return write_nb201_table(tmp_path, 30, {"gold_6240": (1.0, 0.1), "titanx_1": (2.0, 0.05)})


def test_every_family_is_held_out_once(tmp_path: Path) -> None:
    records = synthetic_records(("kws", "rnn", "vit"), 14, ("ort-cpu-local", "litert-local"))
    bench = FamiliesBench(
        corpus=(tmp_path / "x.jsonl.gz",),
        tables=(_table(tmp_path),),
        shots=(1, 5),
        support=20,
        test_per_family=14,
        table_rows=30,
        settings=QUICK_SETTINGS,
        mode="fresh-device",
    )
    done: list[str] = []
    result = run_families(records, bench, lambda i, n, family: done.append(family))
    assert done == ["kws", "rnn", "vit"]
    assert set(result["families"]) == {"kws", "rnn", "vit"}
    assert not any(d.startswith("zoo/") for d in result["encoder"]["devices"])  # tables only
    rows = result["families"]["rnn"]["ort-cpu-local"]
    assert set(rows) == {"zero_shot", "k1", "k5", "support"}
    assert rows["support"] == 20
    assert set(rows["zero_shot"]) == {"perfloop", "macs_power_law", "op_lookup"}
    assert rows["zero_shot"]["perfloop"]["n"] == 14
    assert rows["k5"]["perfloop"]["n"] == 9  # scored on the members not measured
    assert rows["zero_shot"]["perfloop"]["coverage_90"] is not None
    assert result["backends"] == {"ort-cpu-local": "ort-cpu", "litert-local": "litert"}
    targets = check_targets(result)
    assert {t["device"] for t in targets} == {"ort-cpu-local", "litert-local"}
    assert all(isinstance(t["met"], bool) for t in targets)


def test_retrain_mode_trains_without_each_family_and_serves_its_learned_head(
    tmp_path: Path,
) -> None:
    records = synthetic_records(("kws", "rnn", "vit"), 24, ("ort-cpu-local",))
    bench = FamiliesBench(
        corpus=(), shots=(1,), support=20, test_per_family=24, settings=QUICK_SETTINGS
    )
    assert bench.mode == "retrain"
    result = run_families(records, bench)
    versions = result["encoder"]["versions"]
    assert versions == [f"families-without-{f}" for f in ("kws", "rnn", "vit")]
    assert "zoo/ort-cpu-local" in result["encoder"]["devices"]
    assert result["families"]["kws"]["ort-cpu-local"]["zero_shot"]["perfloop"]["n"] == 24
    build = GraphBuilder()
    corpus = Corpus.load(records, build)
    predictor = _encoder_without(records, "rnn", build, bench, tmp_path / "a")
    others = {k for k in corpus.graphs if k[0] != "rnn"}
    assert predictor.meta["metrics"]["train_graphs"] == len(others)


def test_cli_rejects_an_encoder_in_retrain_mode(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from perfloop.cli import app

    (tmp_path / "zoo").mkdir()
    write_corpus(tmp_path / "zoo", synthetic_records(("kws",), 3, ("ort-cpu",)))
    args = ["bench", "families", "--corpus", str(tmp_path / "zoo"), "--encoder", str(tmp_path)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "--encoder" in res.output


def test_support_spreads_over_the_other_families() -> None:
    records = synthetic_records(("kws", "rnn", "vit"), 6, ("dev",))
    corpus = Corpus.load(records)
    keys = support_keys(corpus, "dev", "kws", 7, seed=0)
    assert len(keys) == 7 and len(set(keys)) == 7
    assert {f for f, _ in keys} == {"rnn", "vit"}
    assert abs(sum(f == "rnn" for f, _ in keys) - sum(f == "vit" for f, _ in keys)) == 1


def test_unknown_family_names_the_valid_ones(tmp_path: Path) -> None:
    records = synthetic_records(("kws",), 3, ("ort-cpu-local",))
    bench = FamiliesBench(corpus=(), families=("nope",), settings=QUICK_SETTINGS)
    with pytest.raises(ValueError, match=r"\['kws'\]"):
        run_families(records, bench)


def test_shifted_fits_a_slope_from_three_members() -> None:
    pred = np.exp(np.linspace(0.0, 3.0, 12))
    true = np.exp(0.3 + 1.3 * np.log(pred))  # large members mispredicted more
    m, _, _ = shifted(pred, pred / 2, pred * 2, np.asarray([0, 5, 11]), true[[0, 5, 11]])
    scale_only = pred * np.exp(np.mean(np.log(true[[0, 5, 11]] / pred[[0, 5, 11]])))
    assert np.mean(np.abs(m - true) / true) < 0.5 * np.mean(np.abs(scale_only - true) / true)


def test_cli_rejects_bad_shots(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from perfloop.cli import app

    (tmp_path / "zoo").mkdir()
    write_corpus(tmp_path / "zoo", synthetic_records(("kws",), 3, ("ort-cpu",)))
    args = ["bench", "families", "--corpus", str(tmp_path / "zoo"), "--shots", "1,x"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "--shots" in res.output
