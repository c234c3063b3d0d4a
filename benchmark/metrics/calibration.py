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


def calibration_by_group(
    y_true: NDArray[np.int64],
    y_prob: NDArray[np.float64],
    *,
    groups: NDArray[np.str_],
    compared: list[str],
    n_bins: int = DEFAULT_BINS,
) -> dict[str, object]:
    """ECE (both binnings), Brier and reliability bins per group; the worst and the gap.

    Args:
        y_true: 0/1 outcomes, shape (n,) (for multi-class: whether the arg-max is right).
        y_prob: Their probabilities, shape (n,) (multi-class: the arg-max's).
        groups: Group per row, shape (n,).
        compared: Groups that take part in the worst group and the gap (the audit's rule).
        n_bins: Bins of both binnings.

    Returns:
        ``bins``, ``by_group[g]`` (``ece_uniform``, ``ece_quantile``, ``brier``, ``support``,
        ``reliability``: edges, counts, mean_score, positive_rate of the equal-width bins),
        ``worst_group[m]`` (the highest value: lower is better here) and ``gaps[m]``
        (max - min over ``compared``; NaN with fewer than two).
    """
    by_group: dict[str, dict[str, object]] = {}
    for g in dict.fromkeys(groups.tolist()):
        rows = groups == g
        bins = reliability(y_true[rows], y_prob[rows], n_bins=n_bins)
        quantile = expected_calibration_error(
            y_true[rows], y_prob[rows], n_bins=n_bins, strategy="quantile"
        )
        by_group[g] = {
            "ece_uniform": bins.ece,
            "ece_quantile": quantile,
            "brier": brier_score(y_true[rows], y_prob[rows]),
            "support": int(rows.sum()),
            "reliability": {
                "edges": bins.edges.tolist(),
                "counts": bins.counts.tolist(),
                "mean_score": bins.mean_score.tolist(),
                "positive_rate": bins.positive_rate.tolist(),
            },
        }
    worst: dict[str, object] = {}
    gaps: dict[str, float] = {}
    for m in CALIBRATION_METRICS:
        values = {g: float(by_group[g][m]) for g in compared if g in by_group}  # type: ignore[arg-type]
        high = max(values, key=values.__getitem__) if values else None
        worst[m] = {"group": high, "value": values[high] if high is not None else math.nan}
        gaps[m] = max(values.values()) - min(values.values()) if len(values) > 1 else math.nan
    return {"bins": n_bins, "by_group": by_group, "worst_group": worst, "gaps": gaps}
