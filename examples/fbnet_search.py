"""Latency-constrained evolutionary search over FBNet, scored by a perfloop service.

    python examples/fbnet_search.py --url http://127.0.0.1:8000 --token $CLIENT_TOKEN \\
        --device ort-cpu-local --latency-ms 5

Needs only httpx + pydantic (``perfloop.client``); no torch. MACs are estimated here from the
space manifest (``datasets/spaces/fbnet.json``), the way a search job would know its own
space; latency comes from the service's predictor (mean and 90 % interval). The front printed is the
Pareto front of (more MACs, lower predicted latency) among candidates under the latency limit.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from perfloop.client import Client

MANIFEST = Path(__file__).resolve().parents[1] / "predictor" / "spaces" / "data" / "fbnet.json"


def load_manifest() -> dict:
    return json.loads(MANIFEST.read_text())


def approx_macs(spec: str, m: dict) -> int:
    """MACs of stem, inverted-residual blocks (1x1 expand, kxk depthwise, 1x1 project), head."""
    choices = list(m["choices"].values())
    size = m["input_shape"][2]
    c_in = m["stem_channels"]
    macs = size * size * 3 * c_in * 9
    i = 0
    for layers, c_out, stride in zip(
        m["stage_layers"], m["stage_channels"], m["stage_strides"], strict=True
    ):
        for j in range(layers):
            choice = choices[int(spec[i])]
            i += 1
            s = stride if j == 0 else 1
            out_size = size // s
            if choice is not None:
                mid, k, g = c_in * choice["expansion"], choice["kernel"], choice["groups"]
                macs += size * size * c_in * mid // g + out_size * out_size * mid * k * k
                macs += out_size * out_size * mid * c_out // g
            size, c_in = out_size, c_out if choice is not None else c_in
    return macs + size * size * c_in * m["head_channels"] + m["head_channels"] * m["classes"]


def mutate(spec: str, rng: random.Random, n_choices: int, flips: int = 2) -> str:
    digits = list(spec)
    for pos in rng.sample(range(len(digits)), flips):
        digits[pos] = str(rng.randrange(n_choices))
    return "".join(digits)


def pareto(points: list[tuple[str, int, float]]) -> list[tuple[str, int, float]]:
    """Points not dominated in (MACs up, latency down), by latency."""
    front = []
    for p in sorted(points, key=lambda p: (p[2], -p[1])):
        if not front or p[1] > front[-1][1]:
            front.append(p)
    return front


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--device", required=True)
    ap.add_argument("--latency-ms", type=float, required=True, help="latency limit")
    ap.add_argument("--population", type=int, default=64)
    ap.add_argument("--generations", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    m, rng = load_manifest(), random.Random(args.seed)
    n_layers, n_choices = sum(m["stage_layers"]), len(m["choices"])
    population = [
        "".join(str(rng.randrange(n_choices)) for _ in range(n_layers))
        for _ in range(args.population)
    ]
    scored: dict[str, tuple[int, float]] = {}
    with Client(args.url, args.token) as client:
        for gen in range(args.generations):
            new = [s for s in dict.fromkeys(population) if s not in scored]
            out = client.predict_specs(args.device, [("fbnet", s) for s in new])
            for spec, p in zip(new, out.predictions, strict=True):
                scored[spec] = (approx_macs(spec, m), p.metrics["latency_ms"].mean)
            ok = [s for s in scored if scored[s][1] <= args.latency_ms]
            parents = sorted(ok, key=lambda s: -scored[s][0])[: args.population // 4] or new[:4]
            population = [
                mutate(rng.choice(parents), rng, n_choices) for _ in range(args.population)
            ]
            print(f"generation {gen}: {len(scored)} scored, {len(ok)} under {args.latency_ms} ms")
    front = pareto([(s, *scored[s]) for s in scored if scored[s][1] <= args.latency_ms])
    print(f"Pareto front (MACs vs predicted latency on {args.device}):")
    for spec, macs, lat in front:
        print(f"  {spec}  {macs / 1e6:8.1f} MMACs  {lat:8.3f} ms")


if __name__ == "__main__":
    main()
