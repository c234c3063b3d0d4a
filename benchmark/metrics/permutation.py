"""Is a gap between groups real? A stratified permutation test and Holm's correction.

Null hypothesis: the group label carries no information about the prediction once the true
class is known. Under it, permuting group labels *within each true class* (so each group
keeps its number of positives and negatives, and a sensitivity stays over the same counts)
gives gaps distributed as the observed one. The p-value is the share of permutations whose
gap is at least the observed, counting the observed arrangement once:
p = (1 + #{gap_perm >= gap_obs}) / (1 + R) for R valid permutations (Phipson & Smyth 2010: never
0, exact for R resamples). A permutation that leaves the gap undefined is invalid, counted
and left out of R. The test is seeded; R is stated with every p-value.

Rows are permuted one by one, as if images were independent: it answers "is the gap larger
than chance assignment of these images to groups would give?", and it is the bootstrap
interval beside it that carries the patient clustering.

With several gaps tested at once, :func:`holm` adjusts the p-values so that the chance of
any false "real gap" stays at the level (family-wise error, Holm 1979).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Statistic = Callable[[NDArray[np.int64], NDArray[np.float64], NDArray[np.str_]], float]
DEFAULT_PERMUTATIONS = 1000


@dataclass(frozen=True)
class PermutationResult:
    """One permutation test.

    Attributes:
        observed: The statistic on the data as they are.
        p_value: See the module docstring; NaN when the observed statistic is undefined or
            no permutation was valid.
        n_permutations: Permutations drawn.
        n_valid: Those with a defined statistic.
    """

    observed: float
    p_value: float
    n_permutations: int
    n_valid: int


def permute_within(
    groups: NDArray[np.str_], strata: NDArray[np.int64], rng: np.random.Generator
) -> NDArray[np.str_]:
    """``groups`` (n,) shuffled among the rows of each stratum (true class) separately."""
    out = groups.copy()
    for value in np.unique(strata):
        rows = np.flatnonzero(strata == value)
        out[rows] = groups[rng.permutation(rows)]
    return out


def permutation_test(
    statistic: Statistic,
    y_true: NDArray[np.int64],
    y_score: NDArray[np.float64],
    *,
    groups: NDArray[np.str_],
    n_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int | np.random.Generator = 0,
) -> PermutationResult:
    """Test whether ``statistic`` (a gap, larger = more unequal) exceeds chance.

    Args:
        statistic: ``fn(y_true, y_score, groups) -> float``, NaN when undefined.
        y_true: Labels (class indices), shape (n,); also the permutation strata.
        y_score: Scores, shape (n,) or (n, K); passed through unchanged.
        groups: Group label per row, shape (n,).
        n_permutations: R.
        seed: Seed or generator.

    Returns:
        The :class:`PermutationResult`.

    Raises:
        ValueError: ``n_permutations < 1``.
    """
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    true, group = np.asarray(y_true), np.asarray(groups).astype(str)
    observed = float(statistic(true, y_score, group))
    if math.isnan(observed):
        return PermutationResult(observed, math.nan, n_permutations, 0)
    draws = np.array(
        [statistic(true, y_score, permute_within(group, true, rng)) for _ in range(n_permutations)],
        dtype=np.float64,
    )
    valid = draws[~np.isnan(draws)]
    if valid.size == 0:
        return PermutationResult(observed, math.nan, n_permutations, 0)
    # Float slack: a permutation that reproduces the observed gap counts as "at least".
    exceed = int(np.sum(valid >= observed - 1e-12))
    return PermutationResult(observed, (1 + exceed) / (1 + valid.size), n_permutations, valid.size)


def holm(p_values: Mapping[str, float]) -> dict[str, float]:
    """Holm-adjusted p-values of a family of tests; NaN stays NaN and does not count.

    Sorted ascending, the i-th of m defined p-values becomes
    max over j <= i of min(1, (m - j + 1) p_(j)), so the adjusted values keep their order.
    """
    defined = sorted((p, k) for k, p in p_values.items() if not math.isnan(p))
    m = len(defined)
    out = {k: math.nan for k in p_values}
    running = 0.0
    for i, (p, key) in enumerate(defined):
        running = max(running, min(1.0, (m - i) * p))
        out[key] = running
    return out
