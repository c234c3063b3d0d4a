"""Patients permuted between groups: whole patients move, within their label pattern; Holm."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmark.metrics.permutation import holm, permutation_test, permuted_units
from benchmark.metrics.units import Units, build_units


def _units() -> tuple[np.ndarray, Units]:
    rng = np.random.default_rng(0)
    patients = np.repeat(np.arange(30), 3).astype(str)
    y = rng.integers(0, 2, 90)
    y[:9] = 1  # three patients with positives only
    groups = np.repeat(rng.choice(["I", "V", "uncertain"], 30), 3)
    return y, build_units(y, groups, patients, ["I", "V", "uncertain"])


def test_patients_move_whole_within_the_pool_and_their_stratum() -> None:
    _y, units = _units()
    source = permuted_units(units, ["I", "V"], 200, np.random.default_rng(1))
    u = units
    for row in source:
        assert sorted(row) == list(range(u.count))  # a permutation of the units
        assert np.array_equal(u.stratum[row], u.stratum)  # within the label pattern
        kept = u.unit_group == "uncertain"
        assert np.array_equal(row[kept], np.flatnonzero(kept))  # outside the pool: stays
    assert (source != np.arange(u.count)).any()


def test_a_statistic_of_the_groups_is_tested_and_undefined_gives_nan() -> None:
    y, units = _units()

    def share_positive_in_v(groups: np.ndarray) -> float:
        return float(y[groups == "V"].mean())

    result = permutation_test(
        share_positive_in_v, units, ["I", "V"], n_permutations=99, seed=0,
        alternative="two-sided",
    )  # fmt: skip
    assert result.permutations == 99
    assert 0 < result.p_value <= 1
    assert result.unit == "patients"
    nan = permutation_test(lambda g: math.nan, units, ["I", "V"], n_permutations=5)
    assert math.isnan(nan.p_value)
    with pytest.raises(ValueError, match="n_permutations"):
        permuted_units(units, ["I"], 0, np.random.default_rng(0))


def test_holm_known_answer() -> None:
    # Sorted .01, .03, .04 of m = 3: 3 x .01 = .03; 2 x .03 = .06; 1 x .04 -> max(.06, .04).
    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.03, "d": math.nan})
    assert adjusted["a"] == pytest.approx(0.03)
    assert adjusted["c"] == pytest.approx(0.06)
    assert adjusted["b"] == pytest.approx(0.06)
    assert math.isnan(adjusted["d"])
    # Capped at 1, never below an earlier one.
    assert holm({"x": 0.6, "y": 0.7}) == {"x": 1.0, "y": 1.0}
