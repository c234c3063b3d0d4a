"""Typed values of the statistics: an estimate, its interval, a significance test.

Every number the fairness audit reports is one of these, so that a value never travels
without what it needs to be read: the reason when it is undefined (NaN), the resamples its
interval rests on, the permutations behind a p-value and the direction it tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Alternative = Literal["greater", "two-sided"]


@dataclass(frozen=True)
class Interval:
    """A percentile interval over resamples.

    Attributes:
        low: Lower bound (NaN when no resample was valid).
        high: Upper bound.
        valid: Resamples in which the value was defined.
        resamples: Resamples drawn.
    """

    low: float
    high: float
    valid: int
    resamples: int

    @property
    def defined(self) -> bool:
        """Whether both bounds are numbers."""
        return not (math.isnan(self.low) or math.isnan(self.high))

    def excludes(self, value: float = 0.0) -> bool:
        """Whether ``value`` lies outside the interval (False when undefined)."""
        return self.defined and (self.low > value or self.high < value)


def percentile_interval(samples: NDArray[np.float64], level: float) -> Interval:
    """Percentile interval of (B,) resampled values over the valid (non-NaN) ones."""
    if not 0 < level < 1:
        raise ValueError(f"interval level must be in (0, 1), got {level}")
    valid = samples[~np.isnan(samples)]
    if valid.size == 0:
        return Interval(math.nan, math.nan, 0, int(samples.size))
    low, high = np.percentile(valid, [50 * (1 - level), 50 * (1 + level)])
    return Interval(float(low), float(high), int(valid.size), int(samples.size))


@dataclass(frozen=True)
class Estimate:
    """One value: the mean over runs, each run's value, its interval, or why it is undefined.

    Attributes:
        value: The value (mean over runs); NaN when undefined.
        reason: Why it is NaN; None when defined.
        per_run: Each run's value (one entry for a single predictions file).
        interval: Bootstrap interval (None when not computed).
    """

    value: float
    reason: str | None = None
    per_run: tuple[float, ...] = ()
    interval: Interval | None = None

    @property
    def defined(self) -> bool:
        """Whether the value is a number."""
        return not math.isnan(self.value)

    def with_interval(self, interval: Interval | None) -> Estimate:
        """The same estimate with ``interval``."""
        return replace(self, interval=interval)


def undefined(reason: str, runs: int = 1) -> Estimate:
    """An estimate that is NaN for ``reason`` in each of ``runs`` runs."""
    return Estimate(math.nan, reason, (math.nan,) * runs)


def mean_estimate(per_run: list[float], reason: str) -> Estimate:
    """Mean over runs; undefined, with ``reason``, when any run's value is NaN."""
    values = tuple(float(v) for v in per_run)
    if not values or any(math.isnan(v) for v in values):
        return Estimate(math.nan, reason, values)
    return Estimate(float(np.mean(values)), None, values)


@dataclass(frozen=True)
class Significance:
    """A permutation test of one statistic.

    Attributes:
        observed: The statistic on the data as they are.
        p_value: ``(1 + #{permuted >= observed}) / (1 + valid)`` (two-sided: absolute values);
            NaN when the statistic is undefined or no permutation was valid.
        permutations: Permutations drawn.
        valid: Those with a defined statistic.
        alternative: ``greater`` (a gap: larger = more unequal) or ``two-sided`` (a signed
            contrast).
        p_holm: Holm-adjusted p-value within its family; NaN when not in a family.
        unit: What was permuted (``patients`` or ``images``).
    """

    observed: float
    p_value: float
    permutations: int
    valid: int
    alternative: Alternative
    unit: str
    p_holm: float = math.nan


def permutation_p(
    observed: float, draws: NDArray[np.float64], alternative: Alternative, unit: str
) -> Significance:
    """The :class:`Significance` of ``observed`` against (R,) permuted values (NaN invalid).

    Float slack of 1e-12: a permutation that reproduces the observed value counts as "at
    least" (Phipson and Smyth 2010: the p-value is never 0 and exact for R permutations).
    """
    valid = draws[~np.isnan(draws)]
    if math.isnan(observed) or valid.size == 0:
        return Significance(observed, math.nan, int(draws.size), 0, alternative, unit)
    if alternative == "two-sided":
        exceed = int(np.sum(np.abs(valid) >= abs(observed) - 1e-12))
    else:
        exceed = int(np.sum(valid >= observed - 1e-12))
    p = (1 + exceed) / (1 + valid.size)
    return Significance(observed, p, int(draws.size), int(valid.size), alternative, unit)
