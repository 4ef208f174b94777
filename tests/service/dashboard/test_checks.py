"""Audited vs doubt-triggered error, the t-interval and the calibration curve."""

from __future__ import annotations

import math

import pytest
from scipy.stats import t as student_t

from service.dashboard import checks


def test_t_interval_matches_the_textbook_formula() -> None:
    errors = [0.1, 0.2, 0.4, 0.3]
    n, mean = len(errors), sum(errors) / 4
    square = sum(e * e for e in errors) / n
    sd = math.sqrt(sum((e - mean) ** 2 for e in errors) / (n - 1))
    half = student_t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    lo, hi = checks.t_interval(n, mean, square) or (0.0, 0.0)
    assert lo == pytest.approx(max(0.0, mean - half)) and hi == pytest.approx(mean + half)
    assert checks.t_interval(1, 0.2, 0.04) is None


def test_calibration_at_ninety_is_the_share_inside_the_logged_interval() -> None:
    # intervals [5, 20] around a geometric centre of 10; measured 10 (centre), 19, 30 (outside)
    points = checks.calibration([(10.0, 5.0, 20.0), (19.0, 5.0, 20.0), (30.0, 5.0, 20.0)])
    observed = dict(points)
    assert observed[0.9] == pytest.approx(2 / 3)
    assert observed[0.1] == pytest.approx(1 / 3)  # only the centred one is that close
    assert [o for _, o in points] == sorted(o for _, o in points)  # monotone in the nominal
    assert checks.calibration([]) == []
