"""ECE (both binnings), reliability bins and Brier score on hand-computed answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss

from benchmark.metrics.calibration import brier_score, expected_calibration_error, reliability


def test_equal_width_ece_hand_computed() -> None:
    # Bin [0, .5): scores .1, .3 (mean .2), no positive -> .2; bin [.5, 1]: .9, .8 (mean .85),
    # all positive -> .15; each bin half the rows: ECE = .5 * .2 + .5 * .15 = .175.
    y, p = np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.8, 0.3])
    assert expected_calibration_error(y, p, n_bins=2) == pytest.approx(0.175, abs=1e-12)


def test_equal_mass_ece_hand_computed() -> None:
    # Quantile edges 0, .25, 1: bin 1 holds .1, .2 (mean .15, none positive) -> .15;
    # bin 2 .3, .4 (mean .35, all positive) -> .65; ECE = (.15 + .65) / 2 = .4.
    y, p = np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.4])
    bins = reliability(y, p, n_bins=2, strategy="quantile")
    np.testing.assert_allclose(bins.edges, [0, 0.25, 1])
    np.testing.assert_array_equal(bins.counts, [2, 2])
    assert bins.ece == pytest.approx(0.4, abs=1e-12)
    # The same scores in equal-width bins all fall below .5: |.5 - .25| = .25.
    assert expected_calibration_error(y, p, n_bins=2) == pytest.approx(0.25, abs=1e-12)


def test_a_score_of_one_is_in_the_last_bin_and_empty_bins_are_nan() -> None:
    bins = reliability(np.array([1, 1]), np.array([1.0, 0.95]), n_bins=10)
    assert bins.counts[-1] == 2
    assert bins.counts[:-1].sum() == 0
    assert math.isnan(bins.mean_score[0])
    assert bins.ece == pytest.approx(0.025)


def test_perfectly_calibrated_bins_give_zero() -> None:
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    p = np.array([0.25] * 4 + [0.75] * 4)
    assert expected_calibration_error(y, p, n_bins=2) == pytest.approx(0.0, abs=1e-12)


def test_brier_matches_scikit_learn_binary_and_multiclass() -> None:
    rng = np.random.default_rng(1)
    y, p = rng.integers(0, 2, 50), rng.random(50)
    assert abs(brier_score(y, p) - brier_score_loss(y, p)) < 1e-9
    labels = rng.integers(0, 3, 50)
    prob = rng.dirichlet(np.ones(3), 50)
    expected = brier_score_loss(labels, prob, labels=[0, 1, 2])
    assert abs(brier_score(labels, prob) - expected) < 1e-9


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="n_bins"):
        reliability(np.array([0]), np.array([0.5]), n_bins=0)
    with pytest.raises(ValueError, match="strategy"):
        reliability(np.array([0]), np.array([0.5]), strategy="equal")  # type: ignore[arg-type]
    assert math.isnan(expected_calibration_error(np.array([]), np.array([])))


def test_calibration_by_group_worst_and_gap() -> None:
    from benchmark.metrics.calibration import calibration_by_group

    y = np.array([0, 1, 1, 0, 0, 0, 1, 1])
    p = np.array([0.1, 0.9, 0.8, 0.3, 0.9, 0.8, 0.1, 0.2])
    g = np.array(["I"] * 4 + ["V"] * 4)
    out = calibration_by_group(y, p, groups=g, compared=["I", "V"], n_bins=2)
    assert out["by_group"]["I"]["ece_uniform"] == pytest.approx(0.175)  # type: ignore[index]
    # V: bin [0, .5) holds .1, .2 (both positive) -> .85; bin [.5, 1] .9, .8 (none) -> .85.
    assert out["by_group"]["V"]["ece_uniform"] == pytest.approx(0.85)  # type: ignore[index]
    assert out["worst_group"]["ece_uniform"]["group"] == "V"  # type: ignore[index]
    assert out["gaps"]["ece_uniform"] == pytest.approx(0.675)  # type: ignore[index]
    only = calibration_by_group(y, p, groups=g, compared=["I"], n_bins=2)
    assert math.isnan(only["gaps"]["brier"])  # type: ignore[index]
