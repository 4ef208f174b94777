"""Predict zoo-corpus networks of every family on a running service's device, against their
measured latency (``python -m benchmarks.out_of_family --url URL --token T --device D``).

Meant for a device that measured other networks than the zoo's (after ``perfloop demo`` the
devices have measured NAS-Bench-201, FBNet and kws cells only), on the same host as the corpus's
backend: the service answers through its active version exactly as it answers a search job, and
the corpus figure is the measurement. Per family: median APE, MAPE and the median ratio
predicted / measured; then all families pooled with Spearman's rho.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from collections import defaultdict
from pathlib import Path

import httpx
import numpy as np

from predictor.metrics import spearman


def main() -> None:
    """Parse arguments, predict, print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--device", required=True)
    ap.add_argument("--corpus", type=Path, default=Path("datasets/zoo/ort-cpu.jsonl.gz"))
    ap.add_argument("--per-family", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with gzip.open(args.corpus, "rt") as f:
        records = [json.loads(line) for line in f]
    by_family: dict[str, list[dict[str, object]]] = defaultdict(list)
    for r in records:
        if r.get("latency_ms"):
            by_family[str(r["space"])].append(r)
    rng = random.Random(args.seed)
    client = httpx.Client(
        base_url=args.url, headers={"Authorization": f"Bearer {args.token}"}, timeout=300
    )
    pooled_p: list[float] = []
    pooled_y: list[float] = []
    print("| family | n | median APE % | MAPE % | predicted / measured (median) |")
    print("|---|---|---|---|---|")
    for family, members in sorted(by_family.items()):
        pick = rng.sample(members, min(args.per_family, len(members)))
        body = {
            "device": args.device,
            "specs": [{"space": family, "arch": r["spec"]} for r in pick],
        }
        r = client.post("/api/v1/predictions", json=body)
        r.raise_for_status()
        p = np.asarray([x["metrics"]["latency_ms"]["mean"] for x in r.json()["predictions"]])
        y = np.asarray([float(m["latency_ms"]) for m in pick])  # type: ignore[arg-type]
        ape = np.abs(p - y) / y
        pooled_p += p.tolist()
        pooled_y += y.tolist()
        ratio = float(np.exp(np.median(np.log(p / y))))
        print(
            f"| {family} | {len(y)} | {100 * np.median(ape):.1f} | {100 * ape.mean():.1f} "
            f"| {ratio:.2f} |"
        )
    p_all, y_all = np.asarray(pooled_p), np.asarray(pooled_y)
    ape = np.abs(p_all - y_all) / y_all
    print(
        f"\npooled: n {len(y_all)}, median APE {100 * np.median(ape):.1f} %, "
        f"MAPE {100 * ape.mean():.1f} %, Spearman {spearman(p_all, y_all):.3f}"
    )


if __name__ == "__main__":
    main()
