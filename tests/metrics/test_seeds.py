from __future__ import annotations

import json
import math

import numpy as np
import pytest

from benchmark.metrics.seeds import seed_mean_sensitivity, t_interval

GROUPS = ["a", "a", "a", "b", "b", "b", "c"]
TRUTH = [1, 1, 0, 1, 1, 0, 0]
PRED = [[1, 0, 0, 1, 1, 0, 1], [1, 1, 0, 0, 1, 0, 0]]  # a: 1/2 then 2/2; b: 2/2 then 1/2


def test_seed_means_and_the_gap_match_a_hand_computation() -> None:
    out = seed_mean_sensitivity(TRUTH, PRED, groups=GROUPS, gap=("a", "b"), n_bootstrap=200)
    assert out["groups"]["a"]["per_run"] == [0.5, 1.0]
    assert out["groups"]["a"]["value"] == 0.75
    assert out["groups"]["b"]["value"] == 0.75
    assert out["groups"]["a"]["positives"] == 2
    assert out["gap"]["per_run"] == [-0.5, 0.5]
    assert out["gap"]["value"] == 0.0
    # t(0.975, 1) * sd / sqrt(2) = 12.706 * 0.7071 / 1.4142 = 6.353
    low, high = out["gap"]["seeds"]
    assert high == pytest.approx(6.3531, abs=1e-3)
    assert low == pytest.approx(-6.3531, abs=1e-3)
    # Resampled seed means stay within the possible range of a sensitivity difference.
    b_low, b_high = out["gap"]["boot"]
    assert -1.0 <= b_low <= 0.0 <= b_high <= 1.0
    assert out["runs"] == 2


def test_a_group_without_positives_is_nan_with_its_reason() -> None:
    out = seed_mean_sensitivity(TRUTH, PRED, groups=GROUPS, gap=("c", "a"), n_bootstrap=50)
    assert math.isnan(out["groups"]["c"]["value"])
    assert out["groups"]["c"]["reason"] == "no positive test image in the group"
    assert math.isnan(out["gap"]["value"])
    assert out["gap"]["reason"].startswith("c: no positive")
    assert out["gap"]["valid"] == 0


def test_patients_are_resampled_whole_and_the_seed_is_respected() -> None:
    clusters = ["p1", "p1", "p2", "p3", "p3", "p4", "p5"]
    one = seed_mean_sensitivity(TRUTH, PRED, groups=GROUPS, gap=("a", "b"), clusters=clusters)
    two = seed_mean_sensitivity(TRUTH, PRED, groups=GROUPS, gap=("a", "b"), clusters=clusters)
    assert json.dumps(one) == json.dumps(two)  # NaN-safe equality
    # a's two positives are one patient: every valid resample keeps both or none of them.
    assert one["groups"]["a"]["boot"] == [0.75, 0.75]


def test_one_run_has_no_seed_interval_and_bad_shapes_are_refused() -> None:
    out = seed_mean_sensitivity(TRUTH, PRED[:1], groups=GROUPS, gap=("a", "b"), n_bootstrap=10)
    assert all(math.isnan(v) for v in out["gap"]["seeds"])
    assert all(map(math.isnan, t_interval([1.0])))
    with pytest.raises(ValueError, match="shapes differ"):
        seed_mean_sensitivity(TRUTH, [[1, 0]], groups=GROUPS, gap=("a", "b"))
    assert np.isfinite(out["groups"]["a"]["value"])
