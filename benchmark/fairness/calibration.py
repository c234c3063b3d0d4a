"""Calibration by group for an audit: plain ECE and Brier, and the size-debiased ECE.

Plain ECE grows as a group shrinks, so the smallest group would always look worst
calibrated. Each group therefore also gets the debiased ECE of
:func:`benchmark.metrics.calibration.debiased_ece` (observed minus its mean under perfect
calibration at the group's size and scores), with a patient-bootstrap interval and a
p-value against that null. The worst-calibrated group is named only when its
Holm-adjusted p-value (over the compared groups) is below ``alpha``: it stands out from
what calibrated scores would show at its size. Several runs: every value is the mean over
runs, the null is that of the mean, and the interval is the hierarchical bootstrap's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from benchmark.fairness.result import CalibrationResult, CalibrationRow
from benchmark.metrics.bootstrap import over_runs
from benchmark.metrics.calibration import (
    brier_score,
    debiased_ece,
    expected_calibration_error,
    reliability,
)
from benchmark.metrics.estimates import mean_estimate, percentile_interval
from benchmark.metrics.permutation import holm

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class CalibrationInput:
    """What calibration by group needs, for R runs over n images.

    Attributes:
        outcomes: Per run, (n,) 0/1 outcomes (the label; multi-class: arg-max correct).
        probs: Per run, (n,) probabilities of those outcomes.
        groups: (n,) group per image.
        order: Groups in display order.
        compared: Groups that take part in naming the worst.
        weights: (B, n) patient-resample weights, or None.
        draws: (B, R) run draws of the same replicates, or None.
    """

    outcomes: Sequence[NDArray[np.int64]]
    probs: Sequence[F64]
    groups: NDArray[np.str_]
    order: Sequence[str]
    compared: Sequence[str]
    weights: F64 | None = None
    draws: F64 | None = None


def calibration_by_group(
    data: CalibrationInput,
    *,
    rng: np.random.Generator,
    n_draws: int,
    n_bins: int,
    level: float,
    alpha: float,
) -> CalibrationResult:
    """One :class:`CalibrationRow` per group, and the worst group when it stands out."""
    rows = [_row(data, g, rng, n_draws, n_bins, level) for g in data.order]
    adjusted = holm({r.group: r.p_miscalibrated for r in rows if r.compared})
    rows = [_with_holm(r, adjusted.get(r.group, np.nan)) for r in rows]
    flagged = [r for r in rows if r.compared and r.p_holm < alpha and r.ece_debiased.defined]
    worst = max(flagged, key=lambda r: r.ece_debiased.value).group if flagged else None
    return CalibrationResult(n_bins, n_draws, tuple(rows), worst, alpha)


def _row(
    data: CalibrationInput, group: str, rng: np.random.Generator, n_draws: int, n_bins: int,
    level: float,
) -> CalibrationRow:  # fmt: skip
    rows = data.groups == group
    weights = None if data.weights is None else data.weights[:, rows]
    runs = list(zip(data.outcomes, data.probs, strict=True))
    parts = [debiased_ece(y[rows], p[rows], rng=rng, n_draws=n_draws, weights=weights,
                          n_bins=n_bins) for y, p in runs]  # fmt: skip
    observed = float(np.mean([d.observed for d in parts]))
    null = np.mean([d.null for d in parts], axis=0)
    p_value = (1 + int(np.sum(null >= observed - 1e-12))) / (1 + n_draws)
    estimate = mean_estimate([d.value for d in parts], "no images")
    if weights is not None and data.draws is not None:
        replicates = over_runs(np.stack([d.resampled for d in parts]), data.draws)
        estimate = estimate.with_interval(percentile_interval(replicates, level))
    pooled = reliability(
        np.concatenate([y[rows] for y, _ in runs]), np.concatenate([p[rows] for _, p in runs]),
        n_bins=n_bins,
    )  # fmt: skip
    return CalibrationRow(
        group=group,
        images=int(rows.sum()),
        compared=group in data.compared,
        ece_uniform=_mean(runs, rows, lambda y, p: expected_calibration_error(y, p, n_bins=n_bins)),
        ece_quantile=_mean(
            runs,
            rows,
            lambda y, p: expected_calibration_error(y, p, n_bins=n_bins, strategy="quantile"),
        ),
        brier=_mean(runs, rows, brier_score),
        ece_debiased=estimate,
        p_miscalibrated=p_value,
        p_holm=np.nan,
        mean_score=tuple(float(v) for v in pooled.mean_score),
        positive_rate=tuple(float(v) for v in pooled.positive_rate),
        bin_counts=tuple(int(v) for v in pooled.counts),
    )


def _mean(
    runs: list[tuple[NDArray[np.int64], F64]],
    rows: NDArray[np.bool_],
    fn: Callable[[NDArray[np.int64], F64], float],
) -> float:
    return float(np.mean([fn(y[rows], p[rows]) for y, p in runs]))


def _with_holm(row: CalibrationRow, p_holm: float) -> CalibrationRow:
    return replace(row, p_holm=float(p_holm))
