"""The patient as the unit: one group per patient, the majority rule, label patterns."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.metrics.inputs import FairnessInputError
from benchmark.metrics.units import build_units, patient_counts

Y = np.array([1, 0, 1, 1, 0, 0])
GROUPS = np.array(["I", "I", "V", "V", "V", "VI"])
PATIENTS = np.array(["a", "a", "b", "b", "c", "d"])


def test_patients_carry_their_group_and_label_pattern() -> None:
    units = build_units(Y, GROUPS, PATIENTS, ["I", "V", "VI"])
    assert units.kind == "patients"
    assert units.count == 4
    assert list(units.unit_group) == ["I", "V", "V", "VI"]
    assert list(units.stratum) == [2, 1, 0, 0]  # a: both; b: positives; c, d: negatives
    assert patient_counts(units, "V") == (2, 1, 1)
    assert patient_counts(units, ["V", "VI"]) == (3, 1, 2)


def test_without_patient_ids_images_are_the_units() -> None:
    units = build_units(Y, GROUPS, None, ["I", "V", "VI"])
    assert units.kind == "images"
    assert units.count == 6
    assert patient_counts(units, "V") == (3, 2, 1)


def test_a_patient_in_two_groups_is_refused_naming_it_and_its_groups() -> None:
    groups = np.array(["I", "II", "V", "V", "V", "VI"])
    with pytest.raises(FairnessInputError, match=r"patient 'a' has images in groups \['I', 'II'\]"):
        build_units(Y, groups, PATIENTS, ["I", "II", "V", "VI"])


def test_the_majority_rule_gives_each_patient_its_most_frequent_group() -> None:
    y = np.array([1, 0, 0, 1, 0])
    groups = np.array(["V", "V", "IV", "II", "I"])
    patients = np.array(["a", "a", "a", "b", "b"])
    units = build_units(y, groups, patients, ["I", "II", "IV", "V"], "majority")
    assert list(units.group) == ["V", "V", "V", "I", "I"]  # b ties: the type listed first
    assert units.reassigned == 2
