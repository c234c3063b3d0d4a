"""ECE (both binnings), reliability bins and Brier score on hand-computed answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss

from benchmark.metrics.calibration import (
    brier_score,
    debiased_ece,
    ece_matrix,
    expected_calibration_error,
    reliability,
)


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


def test_ece_matrix_equals_the_plain_ece_and_counts_weights_as_copies() -> None:
    rng = np.random.default_rng(3)
    y, p = rng.integers(0, 2, 40).astype(float), rng.random(40)
    ones = np.ones((1, 40))
    assert ece_matrix(y[None], p, ones)[0, 0] == pytest.approx(expected_calibration_error(y, p))
    weights = rng.integers(0, 3, (4, 40)).astype(float)
    got = ece_matrix(y[None], p, weights)[:, 0]
    for b in range(4):
        rows = np.repeat(np.arange(40), weights[b].astype(int))
        assert got[b] == pytest.approx(expected_calibration_error(y[rows], p[rows]), abs=1e-12)


def test_plain_ece_grows_as_a_calibrated_group_shrinks_and_the_debiased_one_does_not() -> None:
    rng = np.random.default_rng(0)
    plain, debiased = {}, {}
    for n in (32, 1000):
        values = []
        for _ in range(100):
            p = rng.random(n)
            y = (rng.random(n) < p).astype(np.int64)  # calibrated by construction
            values.append(debiased_ece(y, p, rng=rng, n_draws=200))
        plain[n] = np.mean([v.observed for v in values])
        debiased[n] = np.mean([v.value for v in values])
    assert plain[32] > 0.14 > 0.05 > plain[1000]  # about 0.18 and 0.03: the size bias
    assert abs(debiased[32]) < 0.015
    assert abs(debiased[1000]) < 0.005


def test_debiased_ece_finds_real_miscalibration() -> None:
    rng = np.random.default_rng(1)
    p = rng.random(200)
    y = (rng.random(200) < np.clip(p + 0.25, 0, 1)).astype(np.int64)  # under-confident
    found = debiased_ece(y, p, rng=rng, n_draws=500)
    assert found.value > 0.15
    assert np.mean(found.null >= found.observed) < 0.01
