"""Generation-time estimates for decoder LMs: one batched prediction, then integration.

The prefill and a few decode steps (:func:`predictor.spaces.generation.plan_generation`) are
predicted in one batch on the device, like any specs; the time to first token is the prefill,
the total adds the decode steps interpolated and summed over the growing context.
"""

from __future__ import annotations

from predictor.api import GenerationInterval, InvalidSpecError, generation_time, plan_generation
from service.core.errors import Unprocessable
from service.predict_batch import spec_graphs
from service.schemas import GenerationIn, GenerationOut, SpecIn, TimeEstimateOut
from service.state import AppState


def _field(message: str) -> str:
    for name in ("prompt_tokens", "new_tokens"):
        if message.startswith(f"{name}="):
            return name
    return "arch"


def estimate_generation(state: AppState, body: GenerationIn) -> GenerationOut:
    """Time to first token and total generation time of ``body.arch`` on ``body.device``.

    Raises:
        NotFound: unknown device.
        Unprocessable: bad architecture, prompt or token count (naming the field).
        Conflict: no active predictor.
    """
    try:
        plan = plan_generation(body.arch, body.prompt_tokens, body.new_tokens, body.points)
    except InvalidSpecError as exc:
        raise Unprocessable(str(exc), field=_field(str(exc)), code="invalid_spec") from exc
    context = state.samples.context(state.db, body.device)
    predictor = state.predictors.current(state.db)
    specs = [SpecIn(space="llm", arch=s) for s in (plan.prefill, *plan.decode)]
    graphs = spec_graphs(state, specs)
    batch = state.batcher.predict(predictor, graphs, context, ["latency_ms"])
    steps = [
        GenerationInterval(e["latency_ms"].mean, e["latency_ms"].lo, e["latency_ms"].hi)
        for e in batch.estimates
    ]
    ttft, total = generation_time(plan, steps[0], steps[1:])
    return GenerationOut(
        predictor_version=batch.version,
        device=body.device,
        low_confidence=batch.low_confidence,
        prompt_tokens=body.prompt_tokens,
        new_tokens=body.new_tokens,
        time_to_first_token_ms=TimeEstimateOut(mean=ttft.mean_ms, lo=ttft.lo_ms, hi=ttft.hi_ms),
        total_ms=TimeEstimateOut(mean=total.mean_ms, lo=total.lo_ms, hi=total.hi_ms),
        decode_contexts=list(plan.contexts),
        decode_step_ms=[TimeEstimateOut(mean=s.mean_ms, lo=s.lo_ms, hi=s.hi_ms) for s in steps[1:]],
    )
