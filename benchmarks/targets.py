"""The issue-14 targets of the leave-one-family-out benchmark, checked on a result."""

from __future__ import annotations

from typing import Any

#: Backends the zero-shot targets apply to (real runtimes on this host).
TARGET_BACKENDS: tuple[str, ...] = ("ort-cpu", "litert")
MEDIAN_APE_MAX = 0.10
MAPE_MAX = 0.15
POOLED_SPEARMAN_MIN = 0.95
K5_MAPE_MAX = 0.05


def _worst(values: list[tuple[str, float]]) -> tuple[str, float] | None:
    return max(values, key=lambda v: v[1]) if values else None


def check_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per target and target device: the figure(s) and whether the target is met.

    Per-family targets report how many families meet them and the worst family.
    """
    rows: list[dict[str, Any]] = []
    devices = sorted(d for d, b in result["backends"].items() if b in TARGET_BACKENDS)
    for device in devices:
        per = {f: r[device] for f, r in result["families"].items() if device in r}
        zero = {f: r["zero_shot"]["perfloop"] for f, r in per.items()}
        for key, limit in (("median_ape", MEDIAN_APE_MAX), ("mape", MAPE_MAX)):
            values = [(f, float(z[key])) for f, z in zero.items()]
            met = sum(v <= limit for _, v in values)
            rows.append(_row(device, f"zero-shot {key} <= {limit:.0%} per family", values, met))
        k5 = [(f, float(r["k5"]["perfloop"]["mape"])) for f, r in per.items() if "k5" in r]
        met = sum(v <= K5_MAPE_MAX for _, v in k5)
        rows.append(_row(device, f"k=5 mape <= {K5_MAPE_MAX:.0%} per family", k5, met))
        pooled = result["pooled_zero_shot"].get(device, {}).get("spearman")
        rows.append(
            {
                "device": device,
                "target": f"pooled zero-shot spearman >= {POOLED_SPEARMAN_MIN}",
                "figure": pooled,
                "met": pooled is not None and pooled >= POOLED_SPEARMAN_MIN,
            }
        )
    return rows


def _row(device: str, target: str, values: list[tuple[str, float]], met: int) -> dict[str, Any]:
    worst = _worst(values)
    return {
        "device": device,
        "target": target,
        "figure": f"{met}/{len(values)} families; worst {worst[0]} {worst[1]:.1%}"
        if worst
        else None,
        "met": bool(values) and met == len(values),
    }
