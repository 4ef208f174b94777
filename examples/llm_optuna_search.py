"""Latency-constrained multi-objective LLM architecture search with Optuna (NSGA-II).

    pip install 'perfloop[search]'   # optuna
    python examples/llm_optuna_search.py --url http://127.0.0.1:8000 --token $CLIENT_TOKEN \\
        --device ort-cpu-local --ttft-ms 2000 --decode-ms 60 --trials 60

Objectives: maximise parameters (a stand-in for quality at a fixed token budget, the MobileLLM
observation) and minimise predicted total generation time for a prompt of ``--prompt`` tokens
and ``--new-tokens`` new ones. Constraints (``constraints_func``, feasible when <= 0): the
predicted time to first token under ``--ttft-ms`` and the mean decode step under
``--decode-ms``; both come from one ``Client.generation`` call per trial (the service predicts
the prefill and decode at a few contexts and integrates). Needs only httpx, pydantic and optuna.
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

import optuna

from perfloop.client import Client

CHOICES: dict[str, tuple[Any, ...]] = {
    "vocab": (16384, 32000),
    "dim": (512, 576, 640, 768, 896, 960, 1024, 1280, 1536),
    "layers": (8, 12, 16, 20, 24, 28, 30, 32),
    "heads": (8, 9, 12, 15, 16),
    "kv_heads": (1, 3, 4),
    "ffn_ratio": (2, 3, 4),
    "tie_embeddings": (True, False),
}


def param_count(arch: dict[str, Any]) -> int:
    """Parameters (a tied embedding once): embedding, per-layer attention + SwiGLU, norms."""
    v, d, kv, hd = arch["vocab"], arch["dim"], arch["kv_heads"], arch["dim"] // arch["heads"]
    block = 2 * d * d + 2 * d * kv * hd + 3 * d * d * arch["ffn_ratio"] + 2 * d
    return v * d * (1 if arch["tie_embeddings"] else 2) + arch["layers"] * block + d


def suggest(trial: optuna.Trial) -> dict[str, Any]:
    """One architecture; heads are redrawn from the ones that divide the width."""
    arch = {k: trial.suggest_categorical(k, list(v)) for k, v in CHOICES.items()}
    if arch["dim"] % arch["heads"] or arch["heads"] % arch["kv_heads"]:
        raise optuna.TrialPruned("heads must divide dim and group kv_heads evenly")
    return arch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--device", required=True)
    ap.add_argument("--ttft-ms", type=float, required=True, help="time-to-first-token budget")
    ap.add_argument("--decode-ms", type=float, required=True, help="mean decode-step budget")
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--trials", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with Client(args.url, args.token) as client:

        def objective(trial: optuna.Trial) -> tuple[float, float]:
            arch = suggest(trial)
            gen = client.generation(args.device, arch, args.prompt, args.new_tokens)
            decode_ms = (gen.total_ms.mean - gen.time_to_first_token_ms.mean) / args.new_tokens
            trial.set_user_attr("arch", arch)
            trial.set_user_attr("ttft_ms", gen.time_to_first_token_ms.mean)
            trial.set_user_attr("decode_ms", decode_ms)
            trial.set_user_attr(
                "constraints",
                (
                    gen.time_to_first_token_ms.mean - args.ttft_ms,
                    decode_ms - args.decode_ms,
                ),
            )
            return float(param_count(arch)), gen.total_ms.mean

        # Optuna 5 also offers Trial.set_constraint and warns about constraints_func; the
        # function form works on Optuna 4 and 5 alike. Pruned trials (heads not dividing the
        # width) carry no prediction and count as infeasible.
        warnings.filterwarnings("ignore", category=FutureWarning, module="optuna")
        sampler = optuna.samplers.NSGAIISampler(
            seed=args.seed,
            constraints_func=lambda t: t.user_attrs.get("constraints", (1.0, 1.0)),
        )
        study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
        study.optimize(objective, n_trials=args.trials)
    feasible = [t for t in study.best_trials if all(c <= 0 for c in t.user_attrs["constraints"])]
    print(f"{len(study.trials)} trials; {len(feasible)} feasible on the Pareto front")
    print(f"{'params (M)':>10} {'total ms':>9} {'TTFT ms':>8} {'decode ms':>9}  arch")
    for t in sorted(feasible, key=lambda t: t.values[0]):
        a = t.user_attrs
        print(
            f"{t.values[0] / 1e6:10.0f} {t.values[1]:9.0f} {a['ttft_ms']:8.0f} "
            f"{a['decode_ms']:9.1f}  {a['arch']}"
        )


if __name__ == "__main__":
    main()
