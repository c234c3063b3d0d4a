"""Permutation p-values of the audit's between-group gaps, Holm-corrected across metrics.

Each gap of :mod:`benchmark.metrics.fairness` (max - min of a metric over the compared
groups) is tested with :func:`benchmark.metrics.permutation.permutation_test`: group labels
permuted within the true class, the same permutations for every metric (one seeded stream),
rates from :mod:`benchmark.metrics.rates` (the one owner of the formulas). The family
corrected by Holm is the set of gaps reported in one audit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from benchmark.metrics.permutation import DEFAULT_PERMUTATIONS, holm, permute_within
from benchmark.metrics.rates import confusion, confusion_rates, roc_auc

GAP_METRICS = ("accuracy", "sensitivity", "specificity", "precision", "f1", "auc", "selection_rate")


def _gaps(
    y_true: NDArray[np.int64],
    y_score: NDArray[np.float64],
    groups: NDArray[np.str_],
    threshold: float,
    compared: list[str],
) -> NDArray[np.float64]:
    """(M,) gaps of :data:`GAP_METRICS` over ``compared``; NaN where a group is undefined."""
    table = np.empty((len(compared), len(GAP_METRICS)))
    for i, g in enumerate(compared):
        rows = groups == g
        rates = confusion_rates(confusion(y_true[rows], y_score[rows] >= threshold))
        rates["auc"] = roc_auc(y_true[rows], y_score[rows])
        table[i] = [rates[m].value for m in GAP_METRICS]
    return np.asarray(
        table.max(axis=0) - table.min(axis=0), dtype=np.float64
    )  # NaN propagates: an undefined gap


def gap_permutation_tests(
    y_true: NDArray[np.int64],
    y_score: NDArray[np.float64],
    *,
    groups: NDArray[np.str_],
    threshold: float,
    compared: list[str],
    n_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
) -> dict[str, Any]:
    """p-values of every gap and their Holm adjustment.

    Args:
        y_true: 0/1 labels, shape (n,).
        y_score: Scores in [0, 1], shape (n,).
        groups: Group per row, shape (n,).
        threshold: Decision threshold (from validation).
        compared: The compared groups (the audit's rule); fewer than two: nothing to test.
        n_permutations: Permutations R (the same for every metric).
        seed: Seed of the permutations.

    Returns:
        ``method``, ``n_permutations``, ``seed`` and ``by_metric[m]``: ``observed``,
        ``p_value``, ``p_holm``, ``n_valid`` (NaN p-values where the gap is undefined).
    """
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations}")
    observed = _gaps(y_true, y_score, groups, threshold, compared) if len(compared) > 1 else None
    head = {
        "method": "group labels permuted within the true class (images as units); "
        "p = (1 + #{permuted gap >= observed}) / (1 + valid permutations); Holm across metrics",
        "n_permutations": n_permutations,
        "seed": seed,
    }
    if observed is None:
        nan = {"observed": math.nan, "p_value": math.nan, "p_holm": math.nan, "n_valid": 0}
        return head | {"by_metric": {m: dict(nan) for m in GAP_METRICS}}
    keep = np.isin(groups, compared)  # other groups neither move nor count
    true, score, group = y_true[keep], y_score[keep], groups[keep]
    rng = np.random.default_rng(seed)
    draws = np.array(
        [
            _gaps(true, score, permute_within(group, true, rng), threshold, compared)
            for _ in range(n_permutations)
        ]
    )
    valid = ~np.isnan(draws)
    exceed = np.sum(valid & (draws >= observed - 1e-12), axis=0)
    n_valid = valid.sum(axis=0)
    p = np.where(np.isnan(observed) | (n_valid == 0), np.nan, (1 + exceed) / (1 + n_valid))
    p_values = dict(zip(GAP_METRICS, p.tolist(), strict=True))
    adjusted = holm(p_values)
    by_metric = {
        m: {"observed": float(observed[i]), "p_value": p_values[m], "p_holm": adjusted[m],
            "n_valid": int(n_valid[i])}
        for i, m in enumerate(GAP_METRICS)
    }  # fmt: skip
    return head | {"by_metric": by_metric}
