"""Calibration: reliability bins, expected calibration error (ECE) and the Brier score.

A binary score is the probability of class 1; ECE compares, in each bin of scores, the mean
score with the share of positives and averages the absolute difference weighted by the bin's
share of rows: ECE = sum_b (n_b / n) |mean(y in b) - mean(p in b)|. Two binnings are stated
wherever ECE is shown, because the number depends on them:

- ``uniform`` (equal width): B bins of width 1/B over [0, 1]; a score of exactly 1 goes in
  the last bin. Empty bins contribute nothing.
- ``quantile`` (equal mass): edges at the B-quantiles of the scores, so each bin holds about
  n/B rows; tied scores stay in one bin, so a bin can hold more and one can be empty.

For a multi-class model the calibration measured is top-label: the arg-max's probability
against whether the arg-max is right (:func:`benchmark.metrics.multiclass.top_label`). Brier
is the mean squared error of the probabilities: binary (p - y)^2 as scikit-learn's
``brier_score_loss``; multi-class the sum over classes of (p_k - [y = k])^2, averaged over
rows (scikit-learn's multi-class ``brier_score_loss``, which is not halved).

**Size bias.** ECE is a mean of absolute differences, so noise alone makes it positive:
with perfectly calibrated scores the equal-width ECE is about 0.18 at 32 images and 0.03
at 1,000, and the smallest group (on real data, dark skin) would look worst calibrated.
:func:`debiased_ece` subtracts the ECE that calibrated labels would give at the same scores
and group size (labels drawn from the scores, Bernoulli(score)), so a calibrated group is
near 0 whatever its size; a group is called miscalibrated only when its observed ECE
exceeds that null (a p-value over the draws). The same is done inside each patient
resample for its interval (:func:`ece_matrix` with resample weights).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Strategy = Literal["uniform", "quantile"]
STRATEGIES: tuple[Strategy, ...] = ("uniform", "quantile")
DEFAULT_BINS = 10
CALIBRATION_METRICS = ("ece_uniform", "ece_quantile", "brier")  # lower is better


@dataclass(frozen=True)
class Reliability:
    """Reliability-diagram bins of one set of rows.

    Attributes:
        edges: Bin edges, shape (B + 1,), in [0, 1].
        counts: Rows per bin, shape (B,).
        mean_score: Mean score per bin, shape (B,); NaN for an empty bin.
        positive_rate: Share of positives per bin, shape (B,); NaN for an empty bin.
        strategy: ``uniform`` or ``quantile``.
    """

    edges: NDArray[np.float64]
    counts: NDArray[np.int64]
    mean_score: NDArray[np.float64]
    positive_rate: NDArray[np.float64]
    strategy: Strategy

    @property
    def ece(self) -> float:
        """sum_b (n_b / n) |positive_rate_b - mean_score_b|; NaN without rows."""
        n = int(self.counts.sum())
        if n == 0:
            return math.nan
        full = self.counts > 0
        gaps = np.abs(self.positive_rate[full] - self.mean_score[full])
        return float(np.sum(self.counts[full] * gaps) / n)


def _edges(y_prob: NDArray[np.float64], n_bins: int, strategy: Strategy) -> NDArray[np.float64]:
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, n_bins + 1)
    if strategy == "quantile":
        edges = np.quantile(y_prob, np.linspace(0.0, 1.0, n_bins + 1))
        edges[0], edges[-1] = 0.0, 1.0
        return np.asarray(edges, dtype=np.float64)
    raise ValueError(f"binning strategy must be one of {STRATEGIES}, got {strategy!r}")


def reliability(
    y_true: NDArray[np.int64],
    y_prob: NDArray[np.float64],
    *,
    n_bins: int = DEFAULT_BINS,
    strategy: Strategy = "uniform",
) -> Reliability:
    """Bin (n,) 0/1 outcomes by their (n,) predicted probabilities.

    A row falls in bin b where ``edges[b] <= p < edges[b + 1]`` (the last bin includes 1).

    Raises:
        ValueError: ``n_bins < 1``, unequal lengths or an unknown strategy.
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    true, prob = np.asarray(y_true, dtype=np.float64), np.asarray(y_prob, dtype=np.float64)
    if true.shape != prob.shape or true.ndim != 1:
        raise ValueError(f"y_true {true.shape} and y_prob {prob.shape} must be equal 1-D")
    edges = _edges(prob, n_bins, strategy) if len(prob) else np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.searchsorted(edges[1:-1], prob, side="right"), 0, n_bins - 1)
    counts = np.bincount(index, minlength=n_bins).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_score = np.bincount(index, weights=prob, minlength=n_bins) / counts
        positive_rate = np.bincount(index, weights=true, minlength=n_bins) / counts
    return Reliability(edges, counts, mean_score, positive_rate, strategy)


def expected_calibration_error(
    y_true: NDArray[np.int64],
    y_prob: NDArray[np.float64],
    *,
    n_bins: int = DEFAULT_BINS,
    strategy: Strategy = "uniform",
) -> float:
    """ECE of (n,) 0/1 outcomes and (n,) probabilities (module docstring); NaN if n = 0."""
    return reliability(y_true, y_prob, n_bins=n_bins, strategy=strategy).ece


def brier_score(y_true: NDArray[np.int64], y_prob: NDArray[np.float64]) -> float:
    """Brier score of probabilities; NaN if n = 0.

    Binary: (n,) 0/1 labels with (n,) probabilities. Multi-class: (n,) class indices with
    (n, K) probabilities, summed over classes and averaged over rows.
    """
    prob = np.asarray(y_prob, dtype=np.float64)
    true = np.asarray(y_true, dtype=np.int64)
    if len(true) == 0:
        return math.nan
    if prob.ndim == 1:
        return float(np.mean((prob - true) ** 2))
    onehot = np.eye(prob.shape[1])[true]
    return float(np.mean(np.sum((prob - onehot) ** 2, axis=1)))


def ece_matrix(
    labels: NDArray[np.float64],
    y_prob: NDArray[np.float64],
    weights: NDArray[np.float64],
    n_bins: int = DEFAULT_BINS,
) -> NDArray[np.float64]:
    """Equal-width ECE of M label vectors under B image weightings, shape (B, M).

    ECE = sum over bins of |sum_i w_i (y_i - p_i)| / sum_i w_i (the module's formula: a
    bin's weight share times its |positive rate - mean score|).

    Args:
        labels: (M, n) 0/1 outcomes (the observed ones and/or draws).
        y_prob: (n,) probabilities.
        weights: (B, n) non-negative image weights (ones: the sample as it is).
        n_bins: Equal-width bins.
    """
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.searchsorted(edges[1:-1], y_prob, side="right"), 0, n_bins - 1)
    diff = labels - y_prob[None, :]
    total = np.zeros((weights.shape[0], labels.shape[0]))
    for k in np.unique(index):
        members = index == k
        total += np.abs(weights[:, members] @ diff[:, members].T)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(total / weights.sum(axis=1, keepdims=True), dtype=np.float64)


@dataclass(frozen=True)
class DebiasedECE:
    """Equal-width ECE of one group of one run against its calibrated null.

    Attributes:
        observed: The plain ECE.
        null: (M,) ECE of labels drawn from the scores (perfect calibration), same images.
        resampled: (B,) debiased ECE in each patient resample (empty without resamples).
    """

    observed: float
    null: NDArray[np.float64]
    resampled: NDArray[np.float64]

    @property
    def value(self) -> float:
        """Observed ECE minus the mean ECE under calibration."""
        return float(self.observed - self.null.mean())


def debiased_ece(
    y_true: NDArray[np.int64],
    y_prob: NDArray[np.float64],
    *,
    rng: np.random.Generator,
    n_draws: int,
    weights: NDArray[np.float64] | None = None,
    resample_draws: int = 20,
    n_bins: int = DEFAULT_BINS,
) -> DebiasedECE:
    """ECE of (n,) outcomes and (n,) probabilities, debiased for the group's size.

    Args:
        y_true: (n,) 0/1 outcomes, n >= 1.
        y_prob: (n,) probabilities.
        rng: Generator of the calibrated label draws.
        n_draws: M draws for the null (its mean is subtracted; the p-value uses them all).
        weights: (B, n) patient-resample weights of these images, or None.
        resample_draws: Draws per resample for the resampled null (the first ones of M).
        n_bins: Equal-width bins.
    """
    draws = (rng.random((n_draws, y_prob.size)) < y_prob[None, :]).astype(np.float64)
    ones = np.ones((1, y_prob.size))
    observed = float(ece_matrix(y_true[None, :].astype(np.float64), y_prob, ones, n_bins)[0, 0])
    null = ece_matrix(draws, y_prob, ones, n_bins)[0]
    resampled = np.empty(0)
    if weights is not None:
        labels = np.vstack([y_true[None, :].astype(np.float64), draws[:resample_draws]])
        both = ece_matrix(labels, y_prob, weights, n_bins)
        resampled = both[:, 0] - both[:, 1:].mean(axis=1)
    return DebiasedECE(observed, null, resampled)
