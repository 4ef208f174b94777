"""MobileLLM-style Pareto sweep over the ``llm`` space: deep-and-thin vs wide-and-shallow.

    python examples/llm_pareto_sweep.py --url http://127.0.0.1:8000 --token $CLIENT_TOKEN \\
        --device ort-cpu-local --min-params 100e6 --max-params 350e6

Enumerates width x depth x GQA x embedding sharing in a parameter band, scores every
architecture's prefill (``--prompt`` tokens) and decode step (cache ``--context``) in one batched
``predict_specs`` call each, and prints the Pareto front of (parameters up, decode latency down)
with the prefill next to it: the MobileLLM question "which shape buys the most parameters per
millisecond". Needs only httpx + pydantic.
"""

from __future__ import annotations

import argparse
import itertools
from typing import Any

from perfloop.client import Client


def param_count(arch: dict[str, Any]) -> int:
    """Parameters (a tied embedding once)."""
    v, d, kv, hd = arch["vocab"], arch["dim"], arch["kv_heads"], arch["dim"] // arch["heads"]
    block = 2 * d * d + 2 * d * kv * hd + 3 * d * d * arch["ffn_ratio"] + 2 * d
    return v * d * (1 if arch.get("tie_embeddings") else 2) + arch["layers"] * block + d


def grid(low: float, high: float, vocab: int) -> list[dict[str, Any]]:
    """Architectures of the sweep whose parameter count lies in ``[low, high]``."""
    out = []
    for dim, layers, (heads, kv), tie in itertools.product(
        (512, 576, 640, 768, 896, 960, 1024, 1280),
        (8, 12, 16, 20, 24, 28, 30, 32),
        ((8, 1), (8, 2), (16, 4), (9, 3), (15, 5), (12, 4)),
        (True, False),
    ):
        if dim % heads:
            continue
        arch = {
            "vocab": vocab,
            "dim": dim,
            "layers": layers,
            "heads": heads,
            "kv_heads": kv,
            "ffn_ratio": 3,
        }
        if tie:
            arch["tie_embeddings"] = True
        if low <= param_count(arch) <= high:
            out.append(arch)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--device", required=True)
    ap.add_argument("--min-params", type=float, default=100e6)
    ap.add_argument("--max-params", type=float, default=350e6)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--context", type=int, default=256)
    args = ap.parse_args()
    archs = grid(args.min_params, args.max_params, args.vocab)
    prefill = [("llm", {**a, "seq_len": args.prompt}) for a in archs]
    decode = [
        ("llm", {**a, "seq_len": 1, "phase": "decode", "context": args.context}) for a in archs
    ]
    with Client(args.url, args.token) as client:
        pre = [
            p.metrics["latency_ms"] for p in client.predict_specs(args.device, prefill).predictions
        ]
        dec = [
            p.metrics["latency_ms"] for p in client.predict_specs(args.device, decode).predictions
        ]
    rows = sorted(zip(archs, pre, dec, strict=True), key=lambda r: (r[2].mean, -param_count(r[0])))
    front, best = [], -1
    for arch, p, d in rows:  # ascending decode latency: keep those that add parameters
        if param_count(arch) > best:
            front.append((arch, p, d))
            best = param_count(arch)
    band = f"{args.min_params / 1e6:.0f}M-{args.max_params / 1e6:.0f}M"
    print(f"{len(archs)} architectures of {band} parameters")
    print(f"{'params (M)':>10} {'decode ms':>17} {'prefill ms':>11}  dim x layers, heads/kv, tied")
    for arch, p, d in front:
        interval = f"[{d.lo:4.0f},{d.hi:4.0f}]"
        print(
            f"{param_count(arch) / 1e6:10.0f} {d.mean:7.1f} {interval} {p.mean:11.0f}"
            f"  {arch['dim']} x {arch['layers']}, {arch['heads']}/{arch['kv_heads']}, "
            f"{bool(arch.get('tie_embeddings'))}"
        )


if __name__ == "__main__":
    main()
