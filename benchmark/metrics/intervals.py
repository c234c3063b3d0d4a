"""Intervals: a binomial proportion k / n (Clopper-Pearson, Wilson); a mean over seeds (t).

A per-group rate such as sensitivity TP / P rests on P trials. With few trials a percentile
bootstrap collapses (one positive: every resample gives 0 or 1), while these intervals stay
honest: for k = 0 of n = 1 the 95% Clopper-Pearson interval is [0, 0.975].

Both treat the n trials as independent. Images of one patient are not, so for groups with
several images per patient they are narrower than the truth; the patient-level bootstrap of
:mod:`benchmark.metrics.bootstrap` accounts for that, and the report shows both.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import beta, norm, t

from benchmark.core.defaults import INTERVAL_METHODS, IntervalMethod

METHOD_NAMES = {
    "clopper-pearson": "Clopper-Pearson (exact binomial)",
    "wilson": "Wilson score",
}


def _check(k: int, n: int, level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"interval level must be in (0, 1), got {level}")
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval for k successes in n trials.

    Args:
        k: Successes (e.g. true positives), 0 <= k <= n.
        n: Trials (e.g. positives); 0 gives (NaN, NaN): the rate is undefined.
        level: Coverage, in (0, 1).

    Returns:
        ``(low, high)``, shares in [0, 1]; at least ``level`` coverage for every true rate.
    """
    _check(k, n, level)
    if n == 0:
        return math.nan, math.nan
    alpha = 1 - level
    low = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return low, high


def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials (NaN, NaN for n = 0)."""
    _check(k, n, level)
    if n == 0:
        return math.nan, math.nan
    z = float(norm.ppf(1 - (1 - level) / 2))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def binomial_interval(
    k: int, n: int, level: float = 0.95, method: IntervalMethod = "clopper-pearson"
) -> tuple[float, float]:
    """The ``method`` interval of k successes in n trials ((NaN, NaN) for n = 0)."""
    if method == "clopper-pearson":
        return clopper_pearson(k, n, level)
    if method == "wilson":
        return wilson(k, n, level)
    raise ValueError(f"interval method must be one of {INTERVAL_METHODS}, got {method!r}")


def mean_interval(
    values: list[float], bounds: tuple[float, float] = (-math.inf, math.inf)
) -> tuple[float, float, float]:
    """Mean and 95% t-interval over seeds, cut to ``bounds``; NaN interval for < 2 values."""
    x = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    if len(x) < 2:
        return float(x[0]), math.nan, math.nan
    half = float(t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    low, high = max(x.mean() - half, bounds[0]), min(x.mean() + half, bounds[1])
    return float(x.mean()), float(low), float(high)
