"""The degenerate-run guard: hand-made runs with known verdicts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmark.classification.guard import check_run
from benchmark.core.config.base import ConfigError
from benchmark.core.config.downstream import ClassifyConfig
from tests.support.config import default

VAL_Y = np.array([0, 0, 1, 1])
VAL_GOOD = np.array([0.1, 0.6, 0.7, 0.9])  # AUC 1; Youden's J is 1 at 0.7 only


def test_a_run_that_learned_passes() -> None:
    check = check_run("baseline_seed42", (VAL_Y, VAL_GOOD), [0.1, 0.9, 0.75, 0.2], 0.55, 1.0)
    assert not check.failed
    assert check.reason == ""
    assert check.threshold == pytest.approx(0.7)


def test_constant_test_scores_fail() -> None:
    check = check_run("baseline_seed43", (VAL_Y, VAL_GOOD), [0.46] * 5, 0.55, 0.9)
    assert check.failed
    assert check.reason == "constant test scores"


def test_one_predicted_class_fails_at_the_validation_threshold() -> None:
    # Scores vary, but all fall under the validation threshold 0.7: every image negative.
    check = check_run("reweight_seed44", (VAL_Y, VAL_GOOD), [0.1, 0.3, 0.5, 0.69], 0.55, 0.9)
    assert check.failed
    assert "one class (non-melanocytic) for every test image" in check.reason
    assert "0.700" in check.reason
    every = check_run("reweight_seed45", (VAL_Y, VAL_GOOD), [0.7, 0.8, 0.95], 0.55, 0.9)
    assert "one class (melanocytic)" in every.reason


@pytest.mark.parametrize(("val_auc", "failed"), [(0.55, True), (0.5501, False), (math.nan, True)])
def test_validation_auc_at_or_below_the_floor_fails(val_auc: float, failed: bool) -> None:
    check = check_run("resample_seed42", (VAL_Y, VAL_GOOD), [0.1, 0.9], 0.55, val_auc)
    assert check.failed is failed
    if failed:
        assert "<= min_val_auc 0.55" in check.reason


def test_several_reasons_are_all_named() -> None:
    check = check_run("augmented_seed42", (VAL_Y, VAL_GOOD), [0.5, 0.5], 0.55, 0.5)
    assert check.reason == "validation AUC 0.500 <= min_val_auc 0.55; constant test scores"


@pytest.mark.parametrize("value", [0.49, 1.01])
def test_min_val_auc_outside_half_to_one_is_refused_naming_the_key(value: float) -> None:
    with pytest.raises(ConfigError, match=r"classify\.min_val_auc"):
        default(ClassifyConfig, min_val_auc=value)
