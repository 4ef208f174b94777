from __future__ import annotations

from predictor.spaces.speed import main, to_ir_rate


def test_to_ir_rate_is_positive() -> None:
    cpu_rate, wall_rate = to_ir_rate("kws", 5)
    assert cpu_rate > 0 and wall_rate > 0


def test_main_prints_every_space(capsys: object) -> None:
    main(["10"])
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "nasbench201" in out and "llm" in out and "specs/s (CPU)" in out
