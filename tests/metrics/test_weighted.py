"""Metrics under many weightings at once: equal to the plain metrics of the copied sample."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from benchmark.metrics.rates import confusion, confusion_rates
from benchmark.metrics.weighted import METRICS, Scored, weighted_auc


def _sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(np.int64)
    s = np.round(rng.random(n), 1)  # many ties, as real scores have
    return y, s


def test_unit_weights_give_the_plain_metrics_and_sklearn_auc() -> None:
    y, s = _sample(300, 1)
    pred = s >= 0.5
    got = Scored(y, s, pred).metrics(np.ones((1, 1, 300)))
    want = {m: r.value for m, r in confusion_rates(confusion(y, pred)).items()}
    want["auc"] = roc_auc_score(y, s)
    for metric in METRICS:
        assert got[metric][0, 0] == pytest.approx(want[metric], abs=1e-12), metric
    assert (got["n"][0, 0], got["positives"][0, 0]) == (300, y.sum())


def test_integer_weights_equal_the_metrics_of_the_repeated_rows() -> None:
    y, s = _sample(80, 2)
    weights = np.random.default_rng(3).integers(0, 3, (6, 2, 80)).astype(float)
    weights[:, 1, 40:] = 0  # a second set: the first half only
    got = Scored(y, s, s >= 0.4).metrics(weights)
    for b in range(6):
        for k in range(2):
            rows = np.repeat(np.arange(80), weights[b, k].astype(int))
            assert got["auc"][b, k] == pytest.approx(roc_auc_score(y[rows], s[rows]), abs=1e-12)
            sens = np.mean(s[rows][y[rows] == 1] >= 0.4)
            assert got["sensitivity"][b, k] == pytest.approx(sens, abs=1e-12)


def test_undefined_where_the_denominator_is_zero() -> None:
    y = np.array([0, 0, 1])
    s = np.array([0.2, 0.3, 0.9])
    weights = np.array([[[1.0, 1.0, 0.0]]])  # no positive left
    got = Scored(y, s, s >= 0.5).metrics(weights)
    assert math.isnan(got["sensitivity"][0, 0])
    assert math.isnan(got["auc"][0, 0])
    assert math.isnan(got["f1"][0, 0])
    assert got["specificity"][0, 0] == 1.0


def test_weighted_auc_hand_case() -> None:
    # Scores ascending: negatives 1 at the lowest, 1 tied with the positive at the top.
    pos, neg = np.array([0.0, 1.0]), np.array([1.0, 1.0])
    assert weighted_auc(pos, neg) == pytest.approx(0.75)  # 1 win + 1/2 tie over 2 pairs
