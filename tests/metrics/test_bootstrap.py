"""Patient-level, vectorised bootstrap: point identity, weighted AUC, clusters, fixed groups."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmark.metrics.bootstrap import (
    Resampling,
    fixed_gap,
    interval,
    p_value,
    resampled_metrics,
)
from benchmark.metrics.fairness import audit, group_order, rank_auc


def _draw(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(np.int64)
    s = np.round(np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1), 2)  # rounded: ties
    g = rng.choice(["I", "III", "V"], n).astype(str)
    return y, s, g


def test_identity_resample_reproduces_the_point_audit() -> None:
    y, s, g = _draw(300, 0)
    patients = np.array([f"p{i // 3}" for i in range(300)])
    point = audit(y, s, groups=g, clusters=patients, threshold=0.4, min_positives=1)
    res = Resampling.draw(g, patients, group_order(g), 3, np.random.default_rng(0)).identity()
    got = resampled_metrics(y, s, 0.4, res, point["compared_groups"])
    for (kind, *rest), values in got.items():
        if kind == "by_group":
            want = point["by_group"][rest[0]][rest[1]]
        elif kind in ("overall", "gaps"):
            want = point[kind][rest[0]]
        else:
            want = point[kind]
        assert values[0] == pytest.approx(want, nan_ok=True), (kind, rest)


def test_weighted_auc_equals_auc_of_the_replicated_sample() -> None:
    y, s, g = _draw(60, 1)
    g[:] = "I"
    res = Resampling.draw(g, None, ["I"], 5, np.random.default_rng(4))
    got = resampled_metrics(y, s, 0.5, res, [])[("by_group", "I", "auc")]
    for b in range(5):
        counts = res.weights["I"][b][res.cluster["I"]].astype(int)  # per image
        rows = np.repeat(res.rows["I"], counts)
        assert got[b] == pytest.approx(rank_auc(y[rows], s[rows]), abs=1e-12)


def test_a_patient_with_many_images_widens_the_interval() -> None:
    # 40 patients with one image each, plus one patient with 40 images, all misses: images
    # resampled as independent understate how much that patient moves sensitivity.
    y = np.ones(80, np.int64)
    s = np.r_[np.where(np.arange(40) % 2 == 0, 0.9, 0.1), np.full(40, 0.1)]
    g = np.full(80, "I")
    patients = np.r_[[f"p{i}" for i in range(40)], ["big"] * 40]
    width = {}
    for unit, clusters in (("patient", patients), ("image", None)):
        ci = audit(y, s, groups=g, clusters=clusters, n_bootstrap=2000, seed=3)["ci"]
        assert ci["unit"] == unit
        iv = ci["by_group"]["I"]["sensitivity"]
        width[unit] = iv["high"] - iv["low"]
    assert width["patient"] > 2 * width["image"]


def test_group_undefined_in_some_resamples_makes_the_gap_invalid_there() -> None:
    y, s, g = _draw(400, 2)
    # Group VI: 6 images of 6 patients, one positive; it is compared (min 1 / 1).
    y = np.r_[y, [1, 0, 0, 0, 0, 0]]
    s = np.r_[s, [0.9, 0.1, 0.2, 0.3, 0.8, 0.1]]
    g = np.r_[g, ["VI"] * 6]
    res = Resampling.draw(g, None, group_order(g), 1000, np.random.default_rng(9))
    got = resampled_metrics(y, s, 0.5, res, ["I", "III", "V", "VI"])
    positive_drawn = res.weights["VI"][:, 0] > 0  # row 0 of VI is its positive
    gap = got[("gaps", "sensitivity")]
    assert np.array_equal(np.isnan(gap), ~positive_drawn)
    iv = interval(gap, 0.95)
    assert iv["n_invalid"] == int((~positive_drawn).sum()) > 250  # P(no positive) = (5/6)^6
    assert iv["n_valid"] + iv["n_invalid"] == 1000
    # Through audit: the same count is reported, not hidden.
    ci = audit(y, s, groups=g, n_bootstrap=1000, seed=9, min_positives=1, min_negatives=1)
    assert ci["ci"]["gaps"]["sensitivity"]["n_invalid"] > 250


def test_fixed_gap_and_p_value_hand_cases() -> None:
    values = np.array([[0.2, 0.5], [0.3, np.nan], [0.9, 0.1]])
    gap = fixed_gap(values)
    assert gap[0] == pytest.approx(0.3)
    assert math.isnan(gap[1])
    assert gap[2] == pytest.approx(0.8)
    assert np.isnan(fixed_gap(values[:, :1])).all()  # one group: no gap
    # 10 resamples: 1 below 0, 1 tie, 8 above: 2 * (1 + 0.5 + 1) / 11.
    deltas = np.array([-0.1, 0.0, *([0.2] * 8)])
    assert p_value(deltas) == pytest.approx(5 / 11)
    assert p_value(np.full(5, 0.0)) == 1.0
    assert math.isnan(p_value(np.full(3, np.nan)))
