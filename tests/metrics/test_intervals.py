"""Exact and Wilson binomial intervals against hand-computed values."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.proportion import proportion_confint

from benchmark.metrics.intervals import binomial_interval, clopper_pearson, mean_interval, wilson


def test_one_trial_without_success_is_zero_to_0975() -> None:
    # Upper bound solves (1 - p)^1 = 0.025.
    assert clopper_pearson(0, 1) == pytest.approx((0.0, 0.975))
    assert clopper_pearson(1, 1) == pytest.approx((0.025, 1.0))


def test_clopper_pearson_known_values() -> None:
    # k = 0 of n: upper = 1 - 0.025^(1/n); k = n: lower = 0.025^(1/n).
    assert clopper_pearson(0, 10)[1] == pytest.approx(1 - 0.025 ** (1 / 10))
    assert clopper_pearson(10, 10)[0] == pytest.approx(0.025 ** (1 / 10))
    # 5 of 10: the textbook interval [0.1871, 0.8129].
    low, high = clopper_pearson(5, 10)
    assert (low, high) == pytest.approx((0.18709, 0.81291), abs=1e-5)


def test_wilson_known_values() -> None:
    # 0 of 1: z^2 / (1 + z^2) with z = 1.95996.
    z2 = 1.959964**2
    assert wilson(0, 1) == pytest.approx((0.0, z2 / (1 + z2)), abs=1e-6)
    assert wilson(5, 10) == pytest.approx((0.23659, 0.76341), abs=1e-5)


def test_no_trials_is_undefined_and_bad_counts_raise() -> None:
    assert all(math.isnan(v) for v in clopper_pearson(0, 0))
    assert all(math.isnan(v) for v in wilson(0, 0))
    with pytest.raises(ValueError, match="0 <= k <= n"):
        clopper_pearson(3, 2)
    with pytest.raises(ValueError, match="level"):
        wilson(1, 2, level=1.0)


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 1), (5, 10), (3, 17), (17, 17), (1, 200)])
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_wilson_and_clopper_pearson_equal_statsmodels(k: int, n: int, level: float) -> None:
    for method, ours in (("wilson", wilson), ("beta", clopper_pearson)):
        want = proportion_confint(k, n, alpha=1 - level, method=method)
        got = ours(k, n, level)
        assert max(abs(got[0] - want[0]), abs(got[1] - want[1])) < 1e-9, (method, k, n)


def test_binomial_interval_dispatches_on_the_method() -> None:
    assert binomial_interval(3, 17, 0.95, "wilson") == wilson(3, 17)
    assert binomial_interval(3, 17, 0.95, "clopper-pearson") == clopper_pearson(3, 17)
    with pytest.raises(ValueError, match="interval method"):
        binomial_interval(3, 17, 0.95, "agresti")  # type: ignore[arg-type]


def test_mean_interval_is_a_t_interval() -> None:
    mean, low, high = mean_interval([0.8, 0.9, 1.0])
    # sd 0.1, t(0.975, 2) = 4.3027: half-width 4.3027 * 0.1 / sqrt(3)
    assert mean == pytest.approx(0.9)
    assert high - mean == pytest.approx(4.302652729 * 0.1 / math.sqrt(3))
    assert low == pytest.approx(2 * mean - high)
    single = mean_interval([0.7])
    assert single[0] == 0.7
    assert math.isnan(single[1])
    assert math.isnan(single[2])


def test_a_proportions_seed_interval_stays_inside_zero_one() -> None:
    # Precision 0.75 over two seeds (0.5, 1.0): the plain t-interval is [-2.43, 3.93].
    mean, low, high = mean_interval([0.5, 1.0], (0.0, 1.0))
    assert (mean, low, high) == (0.75, 0.0, 1.0)
    assert mean_interval([0.5, 1.0])[1] < -2.4  # unbounded, as before
