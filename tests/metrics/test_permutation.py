"""The stratified permutation test finds an injected gap and keeps its level without one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmark.metrics.permutation import holm, permutation_test, permute_within


def _sensitivity_gap(y: np.ndarray, s: np.ndarray, g: np.ndarray) -> float:
    values = [float(np.mean(s[(g == k) & (y == 1)] >= 0.5)) for k in np.unique(g)]
    return max(values) - min(values)


def _draw(rng: np.random.Generator, sens: tuple[float, float]) -> tuple[np.ndarray, ...]:
    # 200 positives and 200 negatives per group; a positive is detected with `sens`.
    y = np.tile(np.repeat([1, 0], 200), 2)
    g = np.repeat(["I-II", "V-VI"], 400)
    hit = np.concatenate([rng.random(200) < sens[0], rng.random(200) < 0.2,
                          rng.random(200) < sens[1], rng.random(200) < 0.2])  # fmt: skip
    return y, np.where(hit, 0.9, 0.1), g


def test_injected_gap_is_found() -> None:
    y, s, g = _draw(np.random.default_rng(0), (0.9, 0.6))
    result = permutation_test(_sensitivity_gap, y, s, groups=g, n_permutations=300, seed=1)
    assert result.observed == pytest.approx(0.3, abs=0.08)
    assert result.p_value < 0.01
    assert result.n_valid == 300


def test_without_a_gap_the_level_holds() -> None:
    rng = np.random.default_rng(2)
    p_values = []
    for draw in range(50):
        y, s, g = _draw(rng, (0.75, 0.75))
        result = permutation_test(_sensitivity_gap, y, s, groups=g, n_permutations=200, seed=draw)
        p_values.append(result.p_value)
    assert np.mean(np.array(p_values) > 0.05) >= 0.9


def test_permutation_keeps_each_groups_class_counts() -> None:
    rng = np.random.default_rng(0)
    y = np.array([1, 1, 1, 0, 0, 0, 0, 1])
    g = np.array(["a", "b", "b", "a", "a", "b", "a", "a"])
    out = permute_within(g, y, rng)
    for label in (0, 1):
        assert sorted(out[y == label]) == sorted(g[y == label])


def test_undefined_statistic_gives_nan() -> None:
    y, s, g = np.array([1, 0]), np.array([0.9, 0.1]), np.array(["a", "b"])
    result = permutation_test(lambda *_: math.nan, y, s, groups=g, n_permutations=5)
    assert math.isnan(result.p_value)
    assert result.n_valid == 0
    with pytest.raises(ValueError, match="n_permutations"):
        permutation_test(lambda *_: 0.0, y, s, groups=g, n_permutations=0)


def test_holm_known_answer() -> None:
    # Sorted .01, .03, .04 of m = 3: 3 x .01 = .03; 2 x .03 = .06; 1 x .04 -> max(.06, .04).
    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.03, "d": math.nan})
    assert adjusted["a"] == pytest.approx(0.03)
    assert adjusted["c"] == pytest.approx(0.06)
    assert adjusted["b"] == pytest.approx(0.06)
    assert math.isnan(adjusted["d"])
    assert holm({"x": 0.6, "y": 0.7}) == {
        "x": 1.0,
        "y": 1.0,
    }  # capped at 1, never below an earlier one


def test_gap_tests_find_the_sensitivity_gap_and_correct_across_metrics() -> None:
    from benchmark.metrics.gap_tests import gap_permutation_tests

    y, s, g = _draw(np.random.default_rng(0), (0.9, 0.6))
    g = np.where(np.arange(len(g)) < 3, "uncertain", g)  # never compared, never moved
    out = gap_permutation_tests(
        y, s, groups=g, threshold=0.5, compared=["I-II", "V-VI"], n_permutations=200, seed=3
    )
    sens = out["by_metric"]["sensitivity"]
    assert sens["p_value"] < 0.01
    assert sens["p_holm"] >= sens["p_value"]
    assert out["by_metric"]["specificity"]["p_value"] > 0.01  # both groups have FPR 0.2
    one = gap_permutation_tests(y, s, groups=g, threshold=0.5, compared=["V-VI"])
    assert math.isnan(one["by_metric"]["auc"]["p_value"])
