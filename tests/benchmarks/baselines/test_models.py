from __future__ import annotations

import numpy as np
import pytest

from benchmarks.baselines.arch_features import onehot_positions, position_tokens
from benchmarks.baselines.models import BoostedTrees, LookupTable, MacsLinear, make_baseline


def test_macs_linear_recovers_power_law() -> None:
    macs = np.array([[1e6], [2e6], [5e6], [1e7], [3e7]])
    y = 0.5 * (macs[:, 0] / 1e6) ** 0.8
    model = MacsLinear().fit(macs, y)
    assert np.allclose(model.predict(macs), y)
    assert np.allclose(model.predict(np.array([[4e6]])), 0.5 * 4**0.8)


def test_lookup_table_recovers_additive_costs() -> None:
    archs = [a + b for a in "012" for b in "012"]
    x = onehot_positions(archs)
    assert x.shape == (9, 6)
    costs = np.array([1.0, 2.0, 4.0, 0.5, 3.0, 6.0])
    y = 2.0 + x @ costs
    model = LookupTable().fit(x, y)
    assert np.allclose(model.predict(x), y)


def test_boosted_trees_fit_a_step_law() -> None:
    x = np.repeat(np.arange(10.0), 3)[:, None]
    y = np.where(x[:, 0] < 5, 1.0, 3.0)
    pred = BoostedTrees().fit(x, y).predict(x)
    assert np.allclose(pred, y, rtol=0.02)


def test_nb201_tokens_and_unknown_baseline() -> None:
    arch = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|"
    assert position_tokens(arch) == [
        "nor_conv_3x3",
        "none",
        "skip_connect",
        "avg_pool_3x3",
        "nor_conv_1x1",
        "none",
    ]
    assert position_tokens("0181") == ["0", "1", "8", "1"]
    with pytest.raises(ValueError, match="position counts"):
        onehot_positions(["01", "012"])
    with pytest.raises(ValueError, match="choose one of"):
        make_baseline("nope")  # type: ignore[arg-type]
