"""Is a difference between skin-type groups real? Patients permuted between groups, and Holm.

Null hypothesis: the skin type says nothing about a patient's labels and scores. A skin
type is a property of the patient, and patients differ (one patient's images are all easy,
another's all hard), so the exchangeable unit is the patient: each permutation gives every
patient, with all its images, labels and scores, the skin type of another patient
(:func:`permuted_units`). Permuting images instead would treat 16 images of one patient as
16 independent draws and reject a true null far more often than the level says.

Patients move only within their label pattern (negatives only, positives only, both:
:attr:`~benchmark.metrics.units.Units.stratum`), the patient-level form of "within the
true class": every group keeps its number of patients with a positive and with a negative
image, so a statistic defined on the data is defined under every permutation. Only the
patients of the groups a statistic compares move; the others keep their group.

p = (1 + #{permuted >= observed}) / (1 + R valid) (Phipson and Smyth 2010), one-sided for a
gap (max - min: larger is more unequal) and two-sided (absolute values) for a signed
contrast: :func:`~benchmark.metrics.estimates.permutation_p`. Seeded; R is stated with every
p-value. :func:`holm` adjusts a family of p-values (Holm 1979).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from benchmark.core.defaults import DEFAULT_PERMUTATIONS
from benchmark.metrics.estimates import Alternative, Significance, permutation_p
from benchmark.metrics.units import Units


def permuted_units(
    units: Units, pool: Sequence[str], n_permutations: int, rng: np.random.Generator
) -> NDArray[np.intp]:
    """(R, K): the unit whose group each of the K units takes, in R permutations.

    Only units of the ``pool`` groups move, each within its stratum; the others keep
    their own group (their row is the identity).

    Args:
        units: The audit's units.
        pool: Groups whose patients are permuted among each other.
        n_permutations: R >= 1.
        rng: The generator.
    """
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations}")
    source = np.tile(np.arange(units.count), (n_permutations, 1))
    in_pool = np.isin(units.unit_group, list(pool))
    stratum = units.stratum
    for value in (0, 1, 2):
        members = np.flatnonzero(in_pool & (stratum == value))
        if members.size > 1:
            shuffle = np.argsort(rng.random((n_permutations, members.size)), axis=1)
            source[:, members] = members[shuffle]
    return source


def permutation_test(
    statistic: Callable[[NDArray[np.str_]], float],
    units: Units,
    pool: Sequence[str],
    *,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int | np.random.Generator = 0,
    alternative: Alternative = "greater",
) -> Significance:
    """Test ``statistic(groups) -> float`` (NaN when undefined) by permuting patients.

    ``groups`` is the (n,) group of each image. For statistics that are not vectorised (the
    multi-class audit's); the binary audit evaluates all its statistics on one draw of
    :func:`permuted_units` at once.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    observed = float(statistic(units.group))
    if math.isnan(observed):
        return permutation_p(observed, np.array([np.nan]), alternative, units.kind)
    source = permuted_units(units, pool, n_permutations, rng)
    groups = units.unit_group[source][:, units.index]
    values = np.array([statistic(g) for g in groups], dtype=np.float64)
    return permutation_p(observed, values, alternative, units.kind)


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
