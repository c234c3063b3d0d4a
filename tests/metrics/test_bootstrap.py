"""Hierarchical bootstrap: patients drawn within groups, runs drawn, invalid replicates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmark.metrics.bootstrap import over_runs, p_value, patient_weights, run_draws
from benchmark.metrics.units import build_units


def test_patients_are_drawn_within_their_group_with_all_their_images() -> None:
    y = np.array([1, 0, 1, 1, 0, 0, 1, 0])
    groups = np.array(["I", "I", "I", "V", "V", "V", "V", "V"])
    patients = np.array(["a", "a", "b", "c", "c", "d", "e", "f"])
    units = build_units(y, groups, patients, ["I", "V"])
    w = patient_weights(units, ["I", "V"], 500, np.random.default_rng(0))
    assert np.array_equal(w[:, 0], w[:, 1])  # patient a's two images: one weight
    assert np.array_equal(w[:, 3], w[:, 4])
    assert np.all(w[:, 0] + w[:, 2] == 2)  # I keeps its 2 patients (a and b)
    per_patient_v = w[:, [3, 5, 6, 7]]
    assert np.all(per_patient_v.sum(axis=1) == 4)  # V keeps its 4 patients


def test_run_draws_and_the_mean_over_drawn_runs() -> None:
    draws = run_draws(3, 400, np.random.default_rng(1))
    assert draws.shape == (400, 3)
    assert np.all(draws.sum(axis=1) == 3)
    assert np.array_equal(run_draws(1, 5, np.random.default_rng(1)), np.ones((5, 1)))
    per_run = np.array([[1.0, 1.0], [2.0, np.nan], [4.0, 4.0]])  # (R = 3, B = 2)
    got = over_runs(per_run, np.array([[2.0, 0.0, 1.0], [1.0, 1.0, 1.0]]))
    assert got[0] == pytest.approx(2.0)  # (1 + 1 + 4) / 3: run 1 not drawn
    assert math.isnan(got[1])  # run 1 drawn and undefined: the replicate is invalid


def test_p_value_hand_cases() -> None:
    # 10 resamples: 1 below 0, 1 tie, 8 above: 2 * (1 + 0.5 + 1) / 11.
    deltas = np.array([-0.1, 0.0, *([0.2] * 8)])
    assert p_value(deltas) == pytest.approx(5 / 11)
    assert p_value(np.full(5, 0.0)) == 1.0
    assert math.isnan(p_value(np.full(3, np.nan)))
