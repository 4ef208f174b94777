"""Benchmark: the pairing query by network fingerprint against the former one by model id.

Run ``python -m benchmarks.pairing --measurements 100000`` (SQLite in a temporary folder, or
``--database-url`` for an EMPTY PostgreSQL database). Fills the dashboard bench's synthetic
rows (:func:`benchmarks.service.dashboard.fill`: one network per model, so both queries return the
same pairs) and times ``COUNT(*)`` over each device's pairs, the two queries interleaved
``--repeats`` times in one process, so both see the same load. Prints medians and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import Float, Subquery, cast, func, select, text
from sqlalchemy.orm import Session, aliased

from benchmarks.service.dashboard import DEVICES, fill
from service.core.config import Settings
from service.core.db import Database
from service.crud.pairs import METRIC_COLUMNS, pairs
from service.migrate import upgrade
from service.models import Measurement, PredictionLog


def by_model(metric: str, device: str) -> Subquery:
    """The pairing query as it was before fingerprints (same model id, same device)."""
    column = METRIC_COLUMNS[metric]
    later = aliased(Measurement)
    first_after = (
        select(func.min(later.id))
        .where(
            later.model_id == PredictionLog.model_id,
            later.device == PredictionLog.device,
            later.created_at > PredictionLog.created_at,
            getattr(later, column).is_not(None),
        )
        .correlate(PredictionLog)
        .scalar_subquery()
    )
    logged = (
        select(PredictionLog.id.label("log_id"), first_after.label("measurement_id"))
        .where(
            PredictionLog.metric == metric,
            PredictionLog.model_id.is_not(None),
            PredictionLog.device == device,
        )
        .offset(0)
        .subquery("logged")
    )
    actual = cast(getattr(Measurement, column), Float)
    return (
        select(logged.c.log_id, actual.label("actual"))
        .join(Measurement, Measurement.id == logged.c.measurement_id)
        .where(actual > 0)
        .subquery()
    )


def _time(session: Session, query: Subquery) -> tuple[float, int]:
    start = time.perf_counter()
    n = int(session.scalar(select(func.count()).select_from(query)) or 0)
    return time.perf_counter() - start, n


def run(db: Database, repeats: int) -> dict[str, float]:
    """Median seconds per device of each query over ``repeats`` interleaved rounds."""
    times: dict[str, list[float]] = {"by_model": [], "by_fingerprint": []}
    with db.session() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET LOCAL jit = off"))  # as the dashboard does
        for _ in range(repeats):
            for device in DEVICES:
                old, n_old = _time(session, by_model("latency_ms", device))
                new, n_new = _time(session, pairs("latency_ms", device=device))
                assert n_old == n_new, (device, n_old, n_new)
                times["by_model"].append(old)
                times["by_fingerprint"].append(new)
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {**medians, "ratio": medians["by_fingerprint"] / medians["by_model"]}


def main() -> None:  # CLI entry point: prints its results
    """Fill a database and print both queries' median times."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--measurements", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=args.database_url)
        db = Database(settings.resolved_database_url)
        upgrade(db.engine)
        with db.session(write=True) as session:
            fill(session, args.measurements)
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE")
        result = run(db, args.repeats)
        db.dispose()
    print(
        f"pairs of one device ({args.measurements // len(DEVICES)} logged predictions): "
        f"by model {1000 * result['by_model']:.1f} ms, by fingerprint "
        f"{1000 * result['by_fingerprint']:.1f} ms, ratio {result['ratio']:.2f}"
    )


if __name__ == "__main__":
    main()
