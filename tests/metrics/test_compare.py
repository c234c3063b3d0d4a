"""Paired comparison: a planted Δ is found, a null Δ is not, images must match."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.metrics.compare import align, paired_comparison
from benchmark.metrics.inputs import FairnessInputError

N = 200  # images per group


def _pair(seed: int, delta: float) -> dict[str, np.ndarray]:
    """Two groups of 200 images (100 positive), 2 images per patient; B finds ``delta`` more.

    A detects each positive with probability 0.6; B detects what A detects plus a share
    ``delta`` of the positives (exactly): a planted difference in sensitivity.
    """
    rng = np.random.default_rng(seed)
    g = np.repeat(["I", "V"], N)
    y = np.tile(np.r_[np.ones(N // 2), np.zeros(N // 2)], 2).astype(np.int64)
    hit_a = (y == 1) & (rng.random(2 * N) < 0.6)
    hit_b = hit_a.copy()
    for group in ("I", "V"):
        misses = np.flatnonzero((g == group) & (y == 1) & ~hit_a)
        hit_b[rng.permutation(misses)[: int(delta * N / 2)]] = True
    false_pos = (y == 0) & (rng.random(2 * N) < 0.1)
    a = np.where(hit_a | false_pos, 0.8, 0.2)
    if delta == 0:  # null: an independent run of the same quality
        hit_b = (y == 1) & (rng.random(2 * N) < 0.6)
        false_pos = (y == 0) & (rng.random(2 * N) < 0.1)
    b = np.where(hit_b | false_pos, 0.8, 0.2)
    patients = np.array([f"p{i // 2}" for i in range(2 * N)])
    return {"y": y, "a": a, "b": b, "g": g, "patients": patients}


def _compare(d: dict[str, np.ndarray], seed: int) -> dict:
    return paired_comparison(
        d["y"], d["a"], d["b"], groups=d["g"], clusters=d["patients"], seed=seed
    )


def test_planted_sensitivity_difference_is_detected() -> None:
    result = _compare(_pair(0, 0.2), seed=0)
    stat = result["by_group"]["V"]["sensitivity"]
    assert stat["delta"] == pytest.approx(0.2)
    assert stat["p_value"] < 0.01
    assert 0 < stat["low"] < 0.2 < stat["high"]
    assert result["overall"]["sensitivity"]["p_value"] < 0.01
    assert result["compared_groups"] == ["I", "V"]
    assert result["unit"] == "patient"
    assert result["n_bootstrap"] == 2000


def test_null_difference_is_not_significant_in_most_draws() -> None:
    p = [
        _compare(_pair(100 + k, 0.0), seed=k)["by_group"]["V"]["sensitivity"]["p_value"]
        for k in range(50)
    ]
    assert np.mean(np.array(p) > 0.05) >= 0.9


def test_gap_difference_shares_resamples_and_groups() -> None:
    d = _pair(1, 0.2)
    result = _compare(d, seed=1)
    gap = result["gaps"]["sensitivity"]
    assert gap["delta"] == pytest.approx(gap["b"] - gap["a"])
    assert gap["n_valid"] + gap["n_invalid"] == 2000
    same = paired_comparison(d["y"], d["a"], d["a"], groups=d["g"], clusters=d["patients"])
    assert same["overall"]["auc"]["delta"] == 0
    assert same["overall"]["auc"]["p_value"] == 1.0


def test_align_needs_the_same_images() -> None:
    order_a, order_b = align(["x", "y", "z"], ["z", "x", "y"])
    assert list(np.array(["x", "y", "z"])[order_a]) == list(np.array(["z", "x", "y"])[order_b])
    with pytest.raises(FairnessInputError, match="different images"):
        align(["x", "y"], ["x", "w"])
    with pytest.raises(FairnessInputError, match="appears twice"):
        align(["x", "x"], ["x", "y"])
