"""Calibration by group: a small calibrated group is not named worst for being small."""

from __future__ import annotations

import numpy as np

from benchmark.fairness.calibration import CalibrationInput, calibration_by_group


def _calibrated(rng: np.random.Generator, sizes: dict[str, int]) -> CalibrationInput:
    groups = np.concatenate([np.full(n, g) for g, n in sizes.items()])
    p = rng.random(groups.size)
    y = (rng.random(groups.size) < p).astype(np.int64)
    return CalibrationInput([y], [p], groups, list(sizes), list(sizes))


def _call(data: CalibrationInput, rng: np.random.Generator) -> object:
    return calibration_by_group(data, rng=rng, n_draws=200, n_bins=10, level=0.95, alpha=0.05)


def test_a_32_image_group_is_flagged_worse_than_a_1000_image_group_at_most_5pc_of_draws() -> None:
    rng = np.random.default_rng(0)
    flagged, plain_worse = 0, 0
    draws = 200
    for _ in range(draws):
        result = _call(_calibrated(rng, {"V": 32, "I": 1000}), rng)
        rows = {r.group: r for r in result.rows}  # type: ignore[attr-defined]
        flagged += result.worst_group == "V"  # type: ignore[attr-defined]
        plain_worse += rows["V"].ece_uniform > rows["I"].ece_uniform
    assert flagged / draws <= 0.05
    assert plain_worse / draws > 0.95  # the plain ECE would name the small group nearly always


def test_a_miscalibrated_group_is_named_with_an_interval() -> None:
    rng = np.random.default_rng(1)
    data = _calibrated(rng, {"V": 300, "I": 300})
    y = data.outcomes[0].copy()
    shifted = data.groups == "V"
    y[shifted] = rng.random(int(shifted.sum())) < np.clip(data.probs[0][shifted] + 0.3, 0, 1)
    weights = rng.multinomial(600, np.full(600, 1 / 600), size=100).astype(float)
    moved = CalibrationInput([y], data.probs, data.groups, ["V", "I"], ["V", "I"], weights,
                             np.ones((100, 1)))  # fmt: skip
    result = _call(moved, rng)
    assert result.worst_group == "V"  # type: ignore[attr-defined]
    v = next(r for r in result.rows if r.group == "V")  # type: ignore[attr-defined]
    assert v.p_holm < 0.01
    assert v.ece_debiased.interval.low > 0.1
