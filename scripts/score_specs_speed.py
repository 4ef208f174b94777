"""Spec scoring speed through the API: python scripts/score_specs_speed.py DATA_DIR SPACE N DEVICE.

DATA_DIR is a service data dir with an active predictor and DEVICE (e.g. after `perfloop demo`).
Figures: docs/BENCHMARKS.md, "Scoring speed of never-seen specs".
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

data = Path(sys.argv[1])
space = sys.argv[2]
n = int(sys.argv[3])
device = sys.argv[4]
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
    t = time.perf_counter()
    for i in range(0, n, 1000):
        r = c.post(
            "/api/v1/predictions",
            headers=h,
            json={
                "device": device,
                "specs": [{"space": space, "arch": a} for a in specs[i : i + 1000]],
                "metrics": ["latency_ms"],
            },
        )
        assert r.status_code == 200, r.text[:300]
    dt = time.perf_counter() - t
print(f"{space}: {n} never-seen specs in {dt:.1f} s = {n / dt:.0f} specs/s")
