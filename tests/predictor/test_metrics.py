from __future__ import annotations

import math

import pytest

from predictor.metrics import (
    accuracy_within,
    coverage,
    kendall,
    mape,
    median_width_ratio,
    rmse_log,
    score,
    spearman,
)


def test_mape_and_accuracy_by_hand() -> None:
    pred = [1.0, 2.18, 2.76, 4.0]
    true = [1.0, 2.0, 3.0, 5.0]
    # relative errors: 0, 0.09, 0.08, 0.2
    assert mape(pred, true) == pytest.approx(0.37 / 4)
    assert accuracy_within(pred, true, 0.05) == pytest.approx(0.25)
    assert accuracy_within(pred, true, 0.10) == pytest.approx(0.75)


def test_rmse_log_by_hand() -> None:
    assert rmse_log([math.e, 1.0], [1.0, 1.0]) == pytest.approx(math.sqrt(0.5))


def test_rank_metrics_by_hand() -> None:
    true = [1.0, 2.0, 3.0, 4.0]
    assert spearman([10, 20, 30, 40], true) == pytest.approx(1.0)
    assert spearman([40, 30, 20, 10], true) == pytest.approx(-1.0)
    # one swapped pair of six: tau = (5 - 1) / 6; rho = 1 - 6*2/(4*15) = 0.8
    assert kendall([1, 3, 2, 4], true) == pytest.approx(4 / 6)
    assert spearman([1, 3, 2, 4], true) == pytest.approx(0.8)
    assert spearman([1, 1, 1, 1], true) == 0.0


def test_coverage_and_score() -> None:
    assert coverage([0, 0, 5], [2, 2, 6], [1, 3, 5]) == pytest.approx(2 / 3)
    s = score([1.0, 2.0], [1.0, 2.0], lo=[0.5, 1.5], hi=[1.5, 2.5])
    assert s.mape == 0.0 and s.acc_5 == 1.0 and s.coverage_90 == 1.0
    assert s.width_90 == pytest.approx((3.0 + 5 / 3) / 2)  # median of 1.5/0.5 and 2.5/1.5
    bare = score([1.0, 2.0], [1.0, 2.0])
    assert bare.coverage_90 is None and bare.width_90 is None


def test_median_width_ratio_by_hand() -> None:
    assert median_width_ratio([1.0, 2.0, 4.0], [1.1, 3.0, 20.0]) == pytest.approx(1.5)
    assert median_width_ratio([0.0], [1.0]) > 1e300  # a zero lower end is infinitely wide


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="shape"):
        mape([1.0], [1.0, 2.0])
