"""Counts and measuring rate of the zoo corpus (``python -m benchmarks.zoo_corpus [dir]``).

Prints a markdown table (networks per backend and family, measured and skipped) and, per
backend, the rate: records per hour between the first and the last ``measured_at``.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter
from pathlib import Path

from predictor.data.zoo import ZooRecord, read_corpus
from predictor.spaces.zoo import ZOO_FAMILIES


def _load(out: Path) -> dict[str, list[ZooRecord]]:
    by_backend: dict[str, list[ZooRecord]] = {}
    for path in sorted(out.glob("*.jsonl.gz")):
        for record in read_corpus([path]):
            by_backend.setdefault(record.backend, []).append(record)
    return by_backend


def _rate_per_hour(records: list[ZooRecord]) -> float:
    times = sorted(dt.datetime.fromisoformat(r.measured_at) for r in records)
    hours = (times[-1] - times[0]).total_seconds() / 3600 if len(times) > 1 else 0.0
    return len(records) / hours if hours else float("nan")


def summary(out: Path) -> str:
    """The markdown summary of the corpus under ``out``."""
    by_backend = _load(out)
    backends = sorted(by_backend)
    lines = [
        "| family | " + " | ".join(backends) + " |",
        "|---|" + "---|" * len(backends),
    ]
    counts = {
        b: (
            Counter(r.space for r in rs if r.skip_reason is None),
            Counter(r.space for r in rs if r.skip_reason is not None),
        )
        for b, rs in by_backend.items()
    }
    for family in ZOO_FAMILIES:
        cells = [f"{counts[b][0][family]} ({counts[b][1][family]} skipped)" for b in backends]
        lines.append(f"| {family} | " + " | ".join(cells) + " |")
    totals = [f"**{sum(counts[b][0].values())}** ({sum(counts[b][1].values())})" for b in backends]
    lines.append("| **all** | " + " | ".join(totals) + " |")
    lines.append("")
    for b in backends:
        lines.append(f"- {b}: {_rate_per_hour(by_backend[b]):.0f} records/hour (incl. skipped)")
    return "\n".join(lines)


if __name__ == "__main__":
    print(summary(Path(sys.argv[1] if len(sys.argv) > 1 else "datasets/zoo")))
