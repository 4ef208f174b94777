"""The space data files: ``datasets/spaces/<name>.json`` manifests and reference architectures.

Reference architectures are fixed specs per space that every device measures first; the
predictor builds a device's hardware descriptor from their latencies. They are chosen to spread
over each space's MAC range: candidates are grouped by MAC count, and the specs at given
quantiles of the distinct counts are taken (ten evenly spaced quantiles for NAS-Bench-201 and
FBNet, 0.1/0.5/0.9 for the other families); among specs of equal MACs, the one adding the
most unseen (position, choice) pairs, so MAC-free choices (NB201 ``none``, ``skip_connect``)
appear too. Candidates: all 15,625 NAS-Bench-201 cells, the 5,000 FBNet archs of the measured
table (so the references have real latencies), and 200 seeded samples (``random.Random(0)``) of
every other family.

Regenerate with ``python -m predictor.spaces.datafiles``.
"""

from __future__ import annotations

import csv
import gzip
import json
import random
from collections.abc import Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from predictor.data.shared import SHARED_DATA_ENV, shared_data_dir
from predictor.spaces.base import SearchSpace, Spec
from predictor.spaces.registry import SPACES, get_space
from predictor.spaces.tokens import position_tokens

#: The manifests and reference file: package data of ``predictor.spaces.data`` (the top-level
#: ``datasets/spaces/`` of a checkout, mapped in pyproject.toml).
DATA_DIR: Traversable = resources.files("predictor.spaces.data")
REFERENCE_FILE = "reference_archs.json"
#: Ten evenly spaced quantiles for the two measured spaces (their references get real latencies).
TABLE_QUANTILES: tuple[float, ...] = tuple(i / 9 for i in range(10))
#: Three for the other families, away from the extremes so every device can run them.
FAMILY_QUANTILES: tuple[float, ...] = (0.1, 0.5, 0.9)
FAMILY_CANDIDATES = 200


def read_measured_archs(path: Path) -> list[str]:
    """The ``arch`` column of a measured latency table (``*.csv.gz``)."""
    with gzip.open(path, "rt", newline="") as handle:
        return [row["arch"] for row in csv.DictReader(handle)]


def select_by_macs(
    space: SearchSpace, candidates: Sequence[Spec], quantiles: Sequence[float]
) -> list[Spec]:
    """The candidates at the given quantiles of the distinct MAC counts, op-diverse among ties.

    Candidates are grouped by MACs, so a count shared by many specs (e.g. NB201 cells without
    convolutions) is picked once. Within a picked count, the spec adding the most (position,
    choice) pairs not yet in the chosen set wins (ties: the first encoding in sort order), so
    the references also cover the cheap choices that cost no MACs. (Taking the first encoding
    alone gave ten NB201 references whose every MAC-free edge was ``avg_pool_3x3``: no
    ``none`` or ``skip_connect`` anywhere, and a fixed cost the few-shot head could not tell
    from per-op costs; docs/BENCHMARKS.md, "fpga's offset".)

    Args:
        space: the space the candidates belong to.
        candidates: valid specs.
        quantiles: values in [0, 1]; 0 = fewest MACs, 1 = most.

    Returns:
        The chosen specs in increasing MAC order (fewer when quantiles coincide).
    """
    by_macs: dict[int, list[tuple[str, Spec]]] = {}
    for spec in candidates:
        by_macs.setdefault(space.to_ir(spec).macs, []).append((space.encode(spec), spec))
    ranked = sorted(by_macs)
    picks = sorted({round(q * (len(ranked) - 1)) for q in quantiles})
    covered: set[tuple[str, str]] = set()
    chosen: list[Spec] = []
    for i in picks:
        group = sorted(by_macs[ranked[i]], key=lambda item: item[0])
        key, spec = max(group, key=lambda item: len(choice_pairs(item[1], item[0]) - covered))
        covered |= choice_pairs(spec, key)
        chosen.append(spec)
    return chosen


def choice_pairs(spec: Spec, key: str) -> set[tuple[str, str]]:
    """The (position, choice) pairs of a spec: dict items, or the tokens of its encoding."""
    if isinstance(spec, dict):
        return {(str(k), json.dumps(v, sort_keys=True)) for k, v in spec.items()}
    return {(str(p), t) for p, t in enumerate(position_tokens(key))}


def _candidates(name: str, space: SearchSpace, data_dir: Path) -> tuple[list[Spec], str]:
    if name == "nasbench201":
        return space.all_archs(), "all 15,625 cells"  # type: ignore[attr-defined]
    if name == "fbnet":
        table = data_dir / "fbnet_latency_ms.csv.gz"
        return read_measured_archs(table), f"the {table.name} arch column"
    rng = random.Random(0)
    # A space may draw its references from a smaller subspace (llm: models every device runs).
    sample = getattr(space, "reference_sample", space.sample)
    return [sample(rng) for _ in range(FAMILY_CANDIDATES)], (
        f"{FAMILY_CANDIDATES} samples with random.Random(0)"
    )


def build_reference_archs(data_dir: Path | None = None) -> dict[str, Any]:
    """The reference-architecture document (see the module docstring for the method).

    Args:
        data_dir: the measured tables (default: :func:`predictor.data.shared.shared_data_dir`).

    Raises:
        FileNotFoundError: no measured tables found.
    """
    if data_dir is None:
        data_dir = shared_data_dir()
        if data_dir is None:
            raise FileNotFoundError(f"no shared data directory; set ${SHARED_DATA_ENV}")
    spaces: dict[str, Any] = {}
    for name in SPACES:
        space = get_space(name)
        candidates, source = _candidates(name, space, data_dir)
        quantiles = TABLE_QUANTILES if name in ("nasbench201", "fbnet") else FAMILY_QUANTILES
        chosen = select_by_macs(space, candidates, quantiles)
        spaces[name] = {
            "method": f"specs at quantiles {[round(q, 3) for q in quantiles]} of the distinct MAC "
            f"counts of {source}",
            "archs": [
                {"spec": spec, "macs": space.to_ir(spec).macs, "params": space.to_ir(spec).params}
                for spec in chosen
            ],
        }
    return {"version": 1, "spaces": spaces}


def load_reference_archs(
    path: Traversable | Path = DATA_DIR / REFERENCE_FILE,
) -> dict[str, list[Spec]]:
    """Space name -> its reference specs, from the committed file."""
    document = json.loads(path.read_text())
    return {name: [a["spec"] for a in entry["archs"]] for name, entry in document["spaces"].items()}


def write_data_files(out_dir: Path | None = None, data_dir: Path | None = None) -> None:
    """Write every manifest and the reference-architecture file under ``out_dir``.

    Args:
        out_dir: target directory (default: the package's ``data/`` in this checkout).
        data_dir: the measured tables (default: the shared data directory).
    """
    out_dir = Path(str(DATA_DIR)) if out_dir is None else out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in SPACES:
        text = json.dumps(get_space(name).manifest(), indent=2)
        (out_dir / f"{name}.json").write_text(text + "\n")
    text = json.dumps(build_reference_archs(data_dir), indent=2)
    (out_dir / REFERENCE_FILE).write_text(text + "\n")


if __name__ == "__main__":
    write_data_files()
