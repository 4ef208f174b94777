"""Leave-one-family-out benchmark on the measured graph-zoo corpus (``perfloop bench families``).

Two modes:

* ``retrain`` (default; the issue's protocol): for each held-out family the predictor is
  meta-trained as ``perfloop pretrain`` trains the shipped one (the corpus, plus the published
  tables when given) with every record of that family removed. Each corpus device has a
  learned head fitted on its measurements of every other family, none of this one, and the
  family is predicted zero-shot through that head.
* ``fresh-device``: the GNN is meta-trained once on the published NAS-Bench-201 / FBNet tables
  only (HELP's few-shot test devices left out), so it was trained without every zoo family. Each
  corpus device is served as a fresh install serves a device it has no head for: the few-shot
  head (:mod:`predictor.fewshot`) fitted on ``support`` of its measurements of the *other*
  families (seeded, spread over them), none of this one.

In both modes, for each held-out family:

* zero-shot: as above;
* after k measured members (k = 1, 3, 5; seeded draws; scored on the family's other members):
  the zero-shot prediction corrected by the k members' log residuals (:func:`shifted`: a
  per-family scale, from 3 members on also a shrunk slope; the interval from their scatter).

Beside it, fitted on exactly the same device rows (the support, plus the k members): a MACs
power law (:class:`benchmarks.baselines.models.MacsLinear`) and a per-op-type lookup table (NNLS
on per-op-type count, GMACs and output MB: :class:`benchmarks.baselines.models.LookupTable` on
:func:`predictor.features.featurizer.cost_basis`).
"""

from __future__ import annotations

import logging
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from benchmarks.baselines.models import LookupTable, MacsLinear
from predictor.api import DeviceContext, Sample
from predictor.artifact import load_artifact
from predictor.data.zoo import ZooRecord
from predictor.features.featurizer import cost_basis
from predictor.ir.schema import GraphIR
from predictor.training.fit import FitSettings
from predictor.training.pretrain import (
    CORPUS_PREFIX,
    GraphBuilder,
    PretrainConfig,
    pretrain,
    pretrain_samples,
    train_shipped,
)

logger = logging.getLogger(__name__)

METHODS: tuple[str, ...] = ("perfloop", "macs_power_law", "op_lookup")
Z90 = 1.6448536269514722
#: Ridge (log units squared) pulling the k-shot slope towards 0: with 3-5 members of similar
#: size their log spread is small and the slope would be noise.
SLOPE_RIDGE = 0.5
#: Called after each held-out family: ``(families done, families in all, family)``.
ProgressFn = Callable[[int, int, str], None]
Mode = Literal["retrain", "fresh-device"]
MODES: tuple[str, ...] = ("retrain", "fresh-device")


@dataclass(frozen=True)
class FamiliesBench:
    """What to run."""

    corpus: tuple[Path, ...]
    tables: tuple[Path, ...] = ()
    families: tuple[str, ...] = ()
    shots: tuple[int, ...] = (1, 3, 5)
    #: Measurements of the other families each device's few-shot head is fitted on.
    support: int = 100
    #: Held-out family members scored per device (seeded draw).
    test_per_family: int = 100
    #: Architectures drawn from each published table for the meta-training.
    table_rows: int = 300
    settings: FitSettings = field(default_factory=FitSettings)
    #: A meta-trained artifact to use instead of training one (must not have seen the corpus).
    encoder: Path | None = None
    #: Where to keep the artifact trained here (for reuse as ``encoder``; default: discarded).
    save_encoder: Path | None = None
    seed: int = 0
    mode: Mode = "retrain"


@dataclass
class Corpus:
    """Latency per (family, spec key) and device, with each spec's graph."""

    graphs: dict[tuple[str, str], GraphIR]
    latency_ms: dict[str, dict[tuple[str, str], float]]
    backend: dict[str, str]

    @classmethod
    def load(cls, records: Sequence[ZooRecord], build: GraphBuilder | None = None) -> Corpus:
        """Index the records with a positive latency (a repeated key keeps its last value)."""
        build = build or GraphBuilder()
        out = cls({}, {}, {})
        for r in records:
            if not r.latency_ms or r.latency_ms <= 0:
                continue
            key = (r.space, r.spec_key)
            if key not in out.graphs:
                out.graphs[key] = build(r.space, r.spec, r.spec_key)
            out.latency_ms.setdefault(r.device, {})[key] = float(r.latency_ms)
            out.backend[r.device] = r.backend
        return out

    def families(self) -> list[str]:
        """Families with at least one measurement, sorted."""
        return sorted({f for f, _ in self.graphs})

    def members(self, family: str, count: int, seed: int) -> list[tuple[str, str]]:
        """Up to ``count`` keys of ``family`` (seeded draw, sorted first for determinism)."""
        keys = sorted(k for k in self.graphs if k[0] == family)
        random.Random(f"{seed}:{family}").shuffle(keys)
        return keys[:count]


def _ape(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.abs(pred - true) / true
    return out


def scores(
    pred: np.ndarray, true: np.ndarray, lo: np.ndarray | None = None, hi: np.ndarray | None = None
) -> dict[str, float | None]:
    """MAPE, median APE, Spearman, acc_10 (all as fractions) and 90% coverage when intervals."""
    from predictor.metrics import spearman

    ape = _ape(pred, true)
    return {
        "n": float(len(true)),
        "mape": float(ape.mean()),
        "median_ape": float(np.median(ape)),
        "spearman": spearman(pred, true) if len(true) > 2 else None,
        "acc_10": float(np.mean(ape <= 0.10)),
        "coverage_90": (
            float(np.mean((true >= lo) & (true <= hi)))
            if lo is not None and hi is not None
            else None
        ),
    }


def shifted(
    mean: np.ndarray, lo: np.ndarray, hi: np.ndarray, support: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The zero-shot prediction corrected in log space by the ``support`` members' residuals.

    One scale (the mean log residual) and, from 3 members on, a slope on the centred log
    prediction shrunk towards 0 by :data:`SLOPE_RIDGE` (a family whose large members are
    mispredicted more than its small ones). The 90% interval's log half-width becomes that of
    a new residual given the k observed ones: ``z * s * sqrt(1 + 1/k)``, with ``s`` the
    corrected residuals' spread (k >= 3) or the zero-shot interval's implied log std (fewer).
    """
    log_mean = np.log(mean)
    x = log_mean[support]
    residual = np.log(y) - x
    k = len(support)
    xc = x - x.mean()
    slope = float(xc @ (residual - residual.mean()) / (xc @ xc + SLOPE_RIDGE)) if k >= 3 else 0.0
    center = log_mean + residual.mean() + slope * (log_mean - x.mean())
    prior = (np.log(hi) - np.log(lo)) / (2 * Z90)
    if k >= 3:
        left = residual - residual.mean() - slope * xc
        spread = np.full_like(mean, np.sqrt(np.sum(left**2) / max(k - 2, 1)))
    else:
        spread = prior
    half = Z90 * np.maximum(spread, 0.02) * np.sqrt(1 + 1 / k)
    return np.exp(center), np.exp(center - half), np.exp(center + half)


def _baselines(
    train_x: tuple[np.ndarray, np.ndarray], train_y: np.ndarray, test_x: tuple[np.ndarray, ...]
) -> dict[str, np.ndarray]:
    macs = MacsLinear().fit(train_x[0], train_y).predict(test_x[0])
    lookup = LookupTable().fit(train_x[1], train_y).predict(test_x[1])
    return {"macs_power_law": macs, "op_lookup": np.maximum(lookup, 1e-6)}


@dataclass
class _Features:
    """Baseline inputs per graph key: MACs column and per-op-type basis (padded to one width)."""

    rows: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]

    @classmethod
    def build(cls, graphs: dict[tuple[str, str], GraphIR]) -> _Features:
        basis = {k: cost_basis(g) for k, g in graphs.items()}
        width = max(len(b) for b in basis.values())
        rows = {
            k: (np.asarray([float(graphs[k].macs)]), np.pad(b, (0, width - len(b))))
            for k, b in basis.items()
        }
        return cls(rows)

    def matrices(self, keys: Sequence[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.stack([self.rows[k][0] for k in keys]),
            np.stack([self.rows[k][1] for k in keys]),
        )


def _encoder(bench: FamiliesBench, out: Path) -> Any:
    """The meta-trained predictor: ``bench.encoder``, or one trained on the tables only."""
    if bench.encoder is not None:
        return load_artifact(bench.encoder)
    return load_artifact(pretrain(_pretrain_config(bench, "families-encoder"), out))


def _pretrain_config(bench: FamiliesBench, version: str) -> PretrainConfig:
    return PretrainConfig(
        corpus=(),
        tables=bench.tables,
        table_rows=bench.table_rows,
        settings=bench.settings,
        seed=bench.seed,
        version=version,
    )


def _encoder_without(
    records: Sequence[ZooRecord], family: str, build: GraphBuilder, bench: FamiliesBench, out: Path
) -> Any:
    """The predictor meta-trained as the shipped one, on every record outside ``family``."""
    config = _pretrain_config(bench, f"families-without-{family}")
    kept = [r for r in records if r.space != family]
    samples = pretrain_samples(config, records=kept, build=build)
    return load_artifact(train_shipped(samples, config, out))


def support_keys(
    corpus: Corpus, device: str, family: str, count: int, seed: int
) -> list[tuple[str, str]]:
    """Up to ``count`` of ``device``'s measured keys outside ``family``, round robin over the
    other families (each in its seeded order), so every other family is represented."""
    values = corpus.latency_ms[device]
    queues = [
        [k for k in corpus.members(f, len(corpus.graphs), seed) if k in values]
        for f in corpus.families()
        if f != family
    ]
    out: list[tuple[str, str]] = []
    depth = 0
    while len(out) < count and any(depth < len(q) for q in queues):
        out += [q[depth] for q in queues if depth < len(q)][: count - len(out)]
        depth += 1
    return out


def _device_rows(
    corpus: Corpus,
    device: str,
    family: str,
    predictor: Any,
    features: _Features,
    bench: FamiliesBench,
) -> dict[str, Any]:
    values = corpus.latency_ms[device]
    test = [k for k in corpus.members(family, bench.test_per_family, bench.seed) if k in values]
    if len(test) < max(bench.shots, default=0) + 3:
        return {}
    known = support_keys(corpus, device, family, bench.support, bench.seed)
    if len(known) < 3:
        return {}
    known_y = np.asarray([values[k] for k in known])
    y = np.asarray([values[k] for k in test])
    if CORPUS_PREFIX + device in predictor.devices:
        context = DeviceContext(CORPUS_PREFIX + device)  # the head learned on other families
    else:
        samples = tuple(
            Sample(graph=corpus.graphs[k], device=device, latency_ms=v)
            for k, v in zip(known, known_y, strict=True)
        )
        context = DeviceContext(device, samples=samples)
    batch = predictor.predict([corpus.graphs[k] for k in test], context)
    est = [e["latency_ms"] for e in batch.estimates]
    mean, lo, hi = (np.asarray([getattr(e, a) for e in est]) for a in ("mean", "lo", "hi"))
    out: dict[str, Any] = {"zero_shot": {"perfloop": scores(mean, y, lo, hi)}}
    out["pred"], out["y"], out["support"] = mean, y, len(known)
    test_x = features.matrices(test)
    for name, pred in _baselines(features.matrices(known), known_y, test_x).items():
        out["zero_shot"][name] = scores(pred, y)
    rng = np.random.default_rng(bench.seed)
    for k in bench.shots:
        support = np.sort(rng.choice(len(test), k, replace=False))
        rest = np.setdiff1d(np.arange(len(test)), support)
        m, lo_k, hi_k = shifted(mean, lo, hi, support, y[support])
        row = {"perfloop": scores(m[rest], y[rest], lo_k[rest], hi_k[rest])}
        fit_keys = known + [test[i] for i in support]
        fit_y = np.concatenate([known_y, y[support]])
        rest_x = features.matrices([test[i] for i in rest])
        for name, pred in _baselines(features.matrices(fit_keys), fit_y, rest_x).items():
            row[name] = scores(pred, y[rest])
        out[f"k{k}"] = row
    return out


def run_families(
    records: Sequence[ZooRecord], bench: FamiliesBench, progress: ProgressFn | None = None
) -> dict[str, Any]:
    """Run the benchmark on ``records`` (a corpus); the JSON-ready result.

    Raises:
        ValueError: a requested family is not in the corpus (the message lists those that are).
    """
    start = time.perf_counter()
    build = GraphBuilder()
    corpus = Corpus.load(records, build)
    available = corpus.families()
    families = list(bench.families) or available
    unknown = [f for f in families if f not in available]
    if unknown:
        raise ValueError(f"families {unknown} are not in the corpus; families: {available}")
    features = _Features.build(corpus.graphs)
    shared = None
    if bench.mode == "fresh-device":
        with tempfile.TemporaryDirectory() as tmp:
            shared = _encoder(bench, bench.save_encoder or Path(tmp) / "encoder")
    trained_s = time.perf_counter() - start
    per_family: dict[str, dict[str, Any]] = {}
    pooled: dict[str, tuple[list[float], list[float]]] = {}
    versions: list[str] = []
    for i, family in enumerate(families):
        if shared is not None:
            predictor = shared
        else:
            with tempfile.TemporaryDirectory() as tmp:
                predictor = _encoder_without(records, family, build, bench, Path(tmp) / "a")
        versions.append(predictor.version)
        per_family[family] = {}
        for device in sorted(corpus.latency_ms):
            rows = _device_rows(corpus, device, family, predictor, features, bench)
            if rows:
                pred, y = rows.pop("pred"), rows.pop("y")
                pooled.setdefault(device, ([], []))[0].extend(pred.tolist())
                pooled[device][1].extend(y.tolist())
                per_family[family][device] = rows
        if progress is not None:
            progress(i + 1, len(families), family)
    return {
        "config": _config_dict(bench),
        "encoder": {"versions": versions, "devices": list(predictor.devices)},
        "backends": corpus.backend,
        "records": {d: len(v) for d, v in sorted(corpus.latency_ms.items())},
        "families": per_family,
        "pooled_zero_shot": {
            d: scores(np.asarray(p), np.asarray(t)) for d, (p, t) in sorted(pooled.items())
        },
        "meta_train_s": trained_s,
        "wall_s": time.perf_counter() - start,
    }


def _config_dict(bench: FamiliesBench) -> dict[str, Any]:
    return {
        "corpus": [p.name for p in bench.corpus],
        "families": list(bench.families),
        "shots": list(bench.shots),
        "tables": [p.name for p in bench.tables],
        "support": bench.support,
        "test_per_family": bench.test_per_family,
        "table_rows": bench.table_rows,
        "settings": bench.settings.to_dict(),
        "encoder": str(bench.encoder) if bench.encoder else None,
        "seed": bench.seed,
        "mode": bench.mode,
    }
