"""Hierarchical bootstrap over runs (seeds) and patients, as image weights.

What varies between reproductions of a study is which patients were tested and which seed
trained the model. One replicate draws both:

1. **Runs.** R runs of one model (seeds) are drawn with replacement, R of them
   (:func:`run_draws`): a replicate's value is the mean over the drawn runs, so seeds
   that disagree widen the interval. With one run this step does nothing.
2. **Patients.** Within each group, the group's patients are drawn with replacement, as
   many as it has (:func:`patient_weights`): each group keeps its number of patients while
   its number of images varies. The same patient draw serves every run of a replicate (the
   runs score the same images), and every model compared on those images.

A replicate in which a drawn run leaves a value undefined (a group drew no positive) is
invalid for that value, counted, and never replaced by a value over fewer runs or groups.
Intervals are percentiles of the valid replicates
(:func:`~benchmark.metrics.estimates.percentile_interval`); the two-sided p-value of a
paired difference is :func:`p_value`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from benchmark.metrics.units import Units

F64 = NDArray[np.float64]


def patient_weights(
    units: Units, order: Sequence[str], n_bootstrap: int, rng: np.random.Generator
) -> F64:
    """(B, n) image weights of B patient resamples, stratified by group.

    Args:
        units: The audit's units (each with one group).
        order: Groups in drawing order (every group of ``units``), so draws are reproducible.
        n_bootstrap: B >= 1.
        rng: The generator.
    """
    if n_bootstrap < 1:
        raise ValueError(f"n_bootstrap must be >= 1, got {n_bootstrap}")
    unit_w = np.zeros((n_bootstrap, units.count))
    for g in order:
        members = np.flatnonzero(units.unit_group == g)
        if members.size:
            k = members.size
            unit_w[:, members] = rng.multinomial(k, np.full(k, 1.0 / k), size=n_bootstrap)
    return np.asarray(unit_w[:, units.index], dtype=np.float64)


def run_draws(runs: int, n_bootstrap: int, rng: np.random.Generator) -> F64:
    """(B, R) how often each of R runs is drawn per replicate (all ones for R = 1)."""
    if runs == 1:
        return np.ones((n_bootstrap, 1))
    return rng.multinomial(runs, np.full(runs, 1.0 / runs), size=n_bootstrap).astype(float)


def over_runs(per_run: F64, draws: F64) -> F64:
    """(R, B) values per run and replicate -> (B,) mean over each replicate's drawn runs.

    NaN where a drawn run's value is NaN (undrawn runs do not matter).
    """
    drawn = draws.T > 0  # (R, B)
    bad = np.any(drawn & np.isnan(per_run), axis=0)
    total = np.sum(np.where(drawn, per_run, 0.0) * draws.T, axis=0)
    return np.where(bad, np.nan, total / draws.sum(axis=1))


def p_value(deltas: F64) -> float:
    """Two-sided bootstrap p-value of Δ = 0 from (B,) resampled differences.

    Twice the smaller tail share (ties at 0 count half to each side), with the +1 of
    Davison and Hinkley so that it is never 0; NaN without a valid resample.
    """
    valid = deltas[~np.isnan(deltas)]
    if valid.size == 0:
        return math.nan
    ties = 0.5 * np.count_nonzero(valid == 0)
    tail = min(np.count_nonzero(valid < 0), np.count_nonzero(valid > 0)) + ties
    return float(min(1.0, 2 * (tail + 1) / (valid.size + 1)))
