"""Equity-scaled metrics on known answers."""

from __future__ import annotations

import math

import pytest

from benchmark.metrics.equity import equity_scaled, equity_scaled_auc


def test_known_answer() -> None:
    # 0.8 / (1 + |0.8 - 0.9| + |0.8 - 0.6|) = 0.8 / 1.3
    assert equity_scaled(0.8, {"I": 0.9, "V": 0.6}).value == pytest.approx(0.8 / 1.3, abs=1e-12)
    assert equity_scaled(0.7, {"I": 0.7, "V": 0.7}).value == pytest.approx(0.7)


def test_undefined_groups_give_nan_with_the_reason() -> None:
    result = equity_scaled(0.8, {"I": 0.9, "V": math.nan})
    assert math.isnan(result.value)
    assert result.reason == "undefined in group(s) ['V']"
    assert equity_scaled(0.8, {}).reason == "no groups"


def test_equity_scaled_auc_hand_computed() -> None:
    # Group A: positives above negatives (AUC 1); group B: reversed (AUC 0).
    y = [1, 0, 1, 0]
    s = [0.9, 0.1, 0.2, 0.8]
    g = ["A", "A", "B", "B"]
    # Overall: positives .9, .2 vs negatives .1, .8 -> pairs (.9>.1, .9>.8, .2>.1, .2<.8): 3/4.
    expected = 0.75 / (1 + 0.25 + 0.75)
    assert equity_scaled_auc(y, s, groups=g).value == pytest.approx(expected, abs=1e-12)
