"""Spec scoring speed through the API: python scripts/score_specs_speed.py DATA_DIR SPACE N DEVICE.

DATA_DIR is a service data dir with an active predictor and DEVICE (e.g. after `perfloop demo`).
Scores N seeded never-seen specs (1,000 per `POST /predictions`, ``latency_ms`` with its
interval) with an in-process TestClient and prints specs/s by wall clock and by process CPU time
(all threads; steadier than wall time on a shared machine).
Figures: docs/BENCHMARKS.md, "Scoring speed of never-seen specs". For the figure through a real
uvicorn server (client and server in separate processes, server CPU measured on its own,
several clients and workers, stored models scored by id) use ``perfloop bench specs``.
"""

import random
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from predictor.spaces.registry import get_space
from service.core.config import Settings
from service.core.db import Database
from service.crud.tokens import create_token
from service.main import create_app

BATCH = 1000


def main(data: Path, space: str, n: int, device: str) -> None:
    """Score ``n`` specs of ``space`` on ``device`` and print the rates."""
    settings = Settings(data_dir=data)
    db = Database(settings.resolved_database_url)
    with db.session(write=True) as s:
        tok = create_token(s, "client", None, "speed")
    db.dispose()
    rng = random.Random(123)
    sp = get_space(space)
    specs = [sp.sample(rng) for _ in range(n)]
    with TestClient(create_app(settings)) as c:
        h = {"Authorization": f"Bearer {tok}"}
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(0, n, BATCH):
            r = c.post(
                "/api/v1/predictions",
                headers=h,
                json={
                    "device": device,
                    "specs": [{"space": space, "arch": a} for a in specs[i : i + BATCH]],
                    "metrics": ["latency_ms"],
                },
            )
            assert r.status_code == 200, r.text[:300]
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"{space}: {n} never-seen specs in {wall:.1f} s wall = {n / wall:.0f} specs/s; "
        f"{cpu:.1f} s CPU = {n / cpu:.0f} specs/CPU-s"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4])
