"""Meta-train the predictor shipped with perfloop: the measured graph zoo plus the published tables.

The zoo corpus (``datasets/zoo/*.jsonl.gz``, :mod:`predictor.data.zoo`) gives every family on
the embedded default's backends; the published NAS-Bench-201 and FBNet tables give many more
devices (a richer basis for the few-shot head of a device the model never saw). The published
few-shot protocol's test devices (HELP, NeurIPS 2021) are left out, so the shipped model never
saw what the few-shot benchmarks report on.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from predictor.artifact import METADATA_FILE
from predictor.data.tables import LatencyTable, read_table
from predictor.data.zoo import ZooRecord, read_corpus
from predictor.ir.schema import GraphIR
from predictor.spaces.registry import get_space
from predictor.training.fit import FitSettings
from predictor.training.from_samples import train_from_samples
from predictor.types import Sample

logger = logging.getLogger(__name__)

#: Test devices of the published few-shot protocol (NB201 and FBNet): never trained on.
HELP_TEST_DEVICES: tuple[str, ...] = (
    "titan_rtx_256",
    "gold_6226",
    "fpga",
    "pixel2",
    "raspi4",
    "eyeriss",
)
#: Table file name prefix -> search space of its ``arch`` column.
TABLE_SPACES: dict[str, str] = {"nasbench201": "nasbench201", "fbnet": "fbnet"}
#: Head names of the shipped model: corpus devices and published-table devices are prefixed,
#: so a user's device that happens to share a name ("ort-cpu", "pixel3") is not silently served
#: by a head fitted on another machine; it gets the few-shot head on its own measurements.
CORPUS_PREFIX = "zoo/"
TABLE_PREFIX = "help/"
#: Called once per graph built (for progress bars): ``(done, total)``.
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class PretrainConfig:
    """What the shipped predictor is trained on and how."""

    corpus: tuple[Path, ...]
    tables: tuple[Path, ...]
    #: Architectures drawn (seeded) from each table; every non-excluded device's value is used.
    table_rows: int = 300
    exclude_devices: tuple[str, ...] = HELP_TEST_DEVICES
    settings: FitSettings = field(default_factory=FitSettings)
    min_device_samples: int = 20
    seed: int = 0
    version: str = "shipped"


def table_space(path: Path) -> str:
    """The search space of a published table, from its file name.

    Raises:
        ValueError: the name starts with no known space (the message lists them).
    """
    for prefix, space in TABLE_SPACES.items():
        if path.name.startswith(prefix):
            return space
    raise ValueError(f"table {path.name!r}: name must start with one of {list(TABLE_SPACES)}")


def table_samples(
    table: LatencyTable, space: str, rows: int, exclude: Iterable[str], seed: int
) -> list[tuple[str, str, str, float]]:
    """``(space, arch, device, latency_ms)`` of ``rows`` seeded archs, excluded devices left out."""
    skip = set(exclude)
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(len(table.archs), min(rows, len(table.archs)), replace=False))
    out: list[tuple[str, str, str, float]] = []
    for device in table.devices:
        if device in skip:
            continue
        column = table.column(device)
        for i in picked:
            if np.isfinite(column[i]) and column[i] > 0:
                out.append((space, table.archs[i], device, float(column[i])))
    return out


def corpus_records(paths: Sequence[Path]) -> list[ZooRecord]:
    """Records of the corpus files with at least one positive figure."""
    return [
        r
        for r in read_corpus(paths)
        if any((v or 0) > 0 for v in (r.latency_ms, r.energy_mj, r.peak_memory_bytes))
    ]


class GraphBuilder:
    """Space + spec -> graph IR, built once per distinct spec."""

    def __init__(self) -> None:
        self._graphs: dict[tuple[str, str], GraphIR] = {}

    def __call__(self, space: str, spec: object, key: str) -> GraphIR:
        """The IR of ``spec`` (a member of ``space``; ``key`` is its canonical encoding).

        Raises:
            predictor.spaces.base.UnknownSpaceError: no such space (names the valid ones).
        """
        graph = self._graphs.get((space, key))
        if graph is None:
            graph = get_space(space).to_ir(spec)
            self._graphs[(space, key)] = graph
        return graph


def record_sample(record: ZooRecord, graph: GraphIR, prefix: str = "") -> Sample:
    """A corpus record as a training sample on device ``prefix + record.device``."""
    return Sample(
        graph=graph,
        device=prefix + record.device,
        latency_ms=record.latency_ms,
        energy_mj=record.energy_mj,
        peak_memory_bytes=record.peak_memory_bytes,
    )


def pretrain_samples(
    config: PretrainConfig,
    progress: ProgressFn | None = None,
    records: Sequence[ZooRecord] | None = None,
    build: GraphBuilder | None = None,
) -> list[Sample]:
    """Every training sample of ``config`` (corpus records and the tables' rows), shuffled.

    Device names get :data:`CORPUS_PREFIX` / :data:`TABLE_PREFIX`. ``records`` replaces the
    records read from ``config.corpus`` (a benchmark's subset); ``build`` shares a graph cache.

    Raises:
        predictor.spaces.base.UnknownSpaceError: a record names a space this build lacks.
        ValueError: a table name starts with no known space.
    """
    rows: list[tuple[str, str, str, float]] = []
    for i, path in enumerate(config.tables):
        space = table_space(path)
        rows += table_samples(
            read_table(path), space, config.table_rows, config.exclude_devices, config.seed + i
        )
    skip = set(config.exclude_devices)
    if records is None:
        records = corpus_records(config.corpus)
    records = [r for r in records if r.device not in skip]
    build = build or GraphBuilder()
    total = len(records) + len(rows)
    samples: list[Sample] = []
    for done, record in enumerate(records, start=1):
        graph = build(record.space, record.spec, record.spec_key)
        samples.append(record_sample(record, graph, CORPUS_PREFIX))
        if progress is not None:
            progress(done, total)
    for done, (space, arch, device, value) in enumerate(rows, start=len(records) + 1):
        graph = build(space, arch, arch)
        samples.append(Sample(graph=graph, device=TABLE_PREFIX + device, latency_ms=value))
        if progress is not None:
            progress(done, total)
    logger.info("%d corpus records and %d table values", len(records), len(rows))
    random.Random(config.seed).shuffle(samples)  # no time order: every device gets a head
    return samples


def train_shipped(samples: Sequence[Sample], config: PretrainConfig, out: Path) -> Path:
    """Train the artifact on ``samples`` into ``out`` and record what it was trained on.

    Raises:
        ValueError: no device has ``config.min_device_samples`` samples.
        FileExistsError: ``out`` is not empty.
    """
    path = train_from_samples(
        samples, out, config.settings, config.version, config.min_device_samples, gate_heads=False
    )
    meta_path = path / METADATA_FILE
    meta = json.loads(meta_path.read_text())
    meta["metrics"]["pretrain"] = {
        "corpus_files": sorted(p.name for p in config.corpus),
        "tables": sorted(p.name for p in config.tables),
        "table_rows": config.table_rows,
        "excluded_devices": list(config.exclude_devices),
        "samples": len(samples),
        "seed": config.seed,
    }
    meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True))
    return path


def training_epochs(samples: Sequence[Sample], config: PretrainConfig) -> int:
    """Epochs all members together will run on ``samples`` (for a progress bar's total)."""
    counts: dict[str, int] = {}
    for s in samples:
        counts[s.device] = counts.get(s.device, 0) + 1
    graphs = {s.graph for s in samples if counts[s.device] >= config.min_device_samples}
    return config.settings.members * config.settings.epochs_for(len(graphs))


def pretrain(config: PretrainConfig, out: Path, progress: ProgressFn | None = None) -> Path:
    """Build the samples of ``config`` and train the artifact into ``out`` (empty or missing).

    Returns:
        The artifact directory.

    Raises:
        ValueError: no device has ``config.min_device_samples`` samples.
        FileExistsError: ``out`` is not empty.
    """
    return train_shipped(pretrain_samples(config, progress), config, out)
