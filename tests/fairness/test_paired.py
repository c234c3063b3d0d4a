"""Paired comparison: Δ = B − A on shared resamples, a swap test that keeps its level."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from benchmark.fairness.inputs import AuditOptions, RunInput
from benchmark.fairness.paired import PairedResult, paired_comparison


def _data(seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    patients = np.repeat(np.arange(120), 2)
    y = rng.integers(0, 2, 240)
    groups = np.repeat(rng.choice(["I", "II", "V", "VI"], 120), 2)
    return y, groups, patients.astype(str), rng.random(240)


def _compare(y: Any, a: Any, b: Any, g: Any, p: Any, **kw: Any) -> PairedResult:
    options = AuditOptions(calibration_draws=0, **kw)
    return paired_comparison(y, [RunInput("a", a)], [RunInput("b", b)], groups=g, clusters=p,
                             options=options)  # fmt: skip


def test_delta_is_b_minus_a_and_identical_models_do_not_differ() -> None:
    y, g, p, noise = _data(0)
    a = np.clip(0.3 * y + 0.7 * noise, 0, 1)
    b = np.clip(a + 0.2 * y * np.isin(g, ["V", "VI"]), 0, 1)  # B better on dark skin only
    got = _compare(y, a, b, g, p, n_bootstrap=300, n_permutations=200)
    row = got.row("contrast_auc")
    assert row.delta.value == pytest.approx(row.b - row.a)
    assert row.delta.value > 0
    assert row.delta.interval.low > 0
    assert row.test is not None
    assert row.test.p_value < 0.01
    same = _compare(y, a, a, g, p, n_bootstrap=50, n_permutations=50)
    for r in same.rows:
        assert r.delta.value == 0.0
        assert r.test is None or r.test.p_value == 1.0


def test_the_swap_test_keeps_its_level_for_a_gap_change() -> None:
    rejections = 0
    draws = 60
    for seed in range(draws):
        y, g, p, noise = _data(seed)
        rng = np.random.default_rng(1000 + seed)
        # Two exchangeable models: the same signal, independent noise.
        a = np.clip(0.3 * y + 0.7 * noise, 0, 1)
        b = np.clip(0.3 * y + 0.7 * rng.random(240), 0, 1)
        got = _compare(y, a, b, g, p, n_permutations=99, seed=seed)
        test = got.row("gap_sensitivity").test
        assert test is not None
        rejections += test.p_value < 0.05
    assert rejections / draws <= 0.1


def test_unequal_run_counts_have_intervals_but_no_swap_test() -> None:
    y, g, p, noise = _data(1)
    runs_b = [RunInput("b1", noise), RunInput("b2", noise[::-1].copy())]
    got = paired_comparison(y, [RunInput("a", noise)], runs_b, groups=g, clusters=p,
                            options=AuditOptions(n_bootstrap=50, n_permutations=20))  # fmt: skip
    assert all(r.test is None for r in got.rows)
    assert got.row("overall_auc").delta.interval is not None
