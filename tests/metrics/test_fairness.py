"""Compared groups counted in patients, the max − min gap, and the validation threshold."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmark.metrics.fairness import (
    choose_threshold,
    compared_groups,
    comparison_rule,
    gap,
    group_order,
)
from benchmark.metrics.units import build_units


def test_group_order_puts_fitzpatrick_first() -> None:
    assert group_order(["uncertain", "VI", "II", "zeta", "missing"]) == [
        "II", "VI", "uncertain", "missing", "zeta"
    ]  # fmt: skip


def test_six_positive_images_of_one_patient_are_one_patient() -> None:
    # Group V: 6 positive images of patient p and 6 negative patients. Group I: 6 positive
    # and 6 negative patients.
    y = np.r_[[1] * 6, [0] * 6, [1] * 6, [0] * 6]
    groups = np.r_[["V"] * 12, ["I"] * 12]
    patients = np.r_[["p"] * 6, [f"v{i}" for i in range(6)], [f"i{i}" for i in range(12)]]
    by_patient = build_units(y, groups, patients, ["I", "V"])
    assert compared_groups(by_patient, 5, 5) == ["I"]
    by_image = build_units(y, groups, None, ["I", "V"])
    assert compared_groups(by_image, 5, 5) == ["I", "V"]  # what counting images would do
    assert "5 patients with a positive image" in comparison_rule(5, 5, "patients")


def test_uncertain_missing_and_excluded_groups_are_never_compared() -> None:
    y = np.tile([1, 0], 8)
    groups = np.repeat(["I", "uncertain", "missing", "V × male"], 4)
    units = build_units(y, groups, None, group_order(groups))
    assert compared_groups(units, 1, 1) == ["I", "V × male"]
    assert compared_groups(units, 1, 1, exclude=["V × male"]) == ["I"]


def test_gap_hand_cases() -> None:
    values = np.array([[0.2, 0.5], [0.3, np.nan], [0.9, 0.1]])
    got = gap(values)
    assert got[0] == pytest.approx(0.3)
    assert math.isnan(got[1])
    assert got[2] == pytest.approx(0.8)
    assert np.isnan(gap(values[:, :1])).all()  # one group: no gap


def test_choose_threshold_hand_case_with_tie() -> None:
    # P = {0.35, 0.8, 0.9}, N = {0.1, 0.3, 0.7}. J: 0.35 -> 1 - 1/3; 0.5 -> 2/3 - 1/3;
    # 0.8 -> 2/3 - 0. The two maxima (2/3) tie; 0.35 is closer to 0.5.
    y = [0, 0, 1, 1, 0, 1]
    s = [0.1, 0.3, 0.35, 0.8, 0.7, 0.9]
    assert choose_threshold(y, s) == 0.35


def test_choose_threshold_prefers_half_when_it_separates_as_well() -> None:
    assert choose_threshold([0, 1], [0.2, 0.8]) == 0.5
    assert choose_threshold([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 0.3
    # A positive and a negative share 0.3: ">= t" predicts both or neither, so no threshold
    # beats J = 0 and the tie goes to 0.5.
    assert choose_threshold([0, 1, 0], [0.3, 0.3, 0.45]) == 0.5


def test_choose_threshold_one_class_falls_back_to_half() -> None:
    assert choose_threshold([1, 1, 1], [0.2, 0.3, 0.9]) == 0.5
    with pytest.raises(ValueError, match="row 1"):
        choose_threshold([0, 1], [0.2, 1.5])
