"""Paired comparison of two classifiers scored on the same test images.

Two per-run intervals that overlap say nothing about whether one run beats the other: the
runs share images, so their errors are correlated. Here both runs are evaluated on *the same*
patient-level resamples (:mod:`benchmark.metrics.bootstrap`), and Δ = B − A of every metric
(overall and per group) and of every gap is resampled jointly. Its percentile interval and
two-sided p-value (:func:`benchmark.metrics.bootstrap.p_value`) come from the resampled
differences. Each run keeps its own threshold (chosen on its own validation predictions).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from benchmark.core.defaults import DEFAULT_RESAMPLES, MIN_NEGATIVES, MIN_POSITIVES
from benchmark.metrics.bootstrap import (
    PATIENT,
    Resampling,
    interval,
    nest,
    p_value,
    resampled_metrics,
)
from benchmark.metrics.fairness import compared_groups, comparison_rule, group_order
from benchmark.metrics.inputs import FairnessInputError, check_clusters, check_inputs


def _check_threshold(value: float, name: str) -> float:
    if not (math.isfinite(value) and 0 <= value <= 1):
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return float(value)


def paired_comparison(
    y_true: ArrayLike,
    score_a: ArrayLike,
    score_b: ArrayLike,
    *,
    groups: ArrayLike,
    clusters: ArrayLike | None = None,
    thresholds: tuple[float, float] = (0.5, 0.5),
    n_bootstrap: int = DEFAULT_RESAMPLES,
    seed: int | np.random.Generator = 0,
    level: float = 0.95,
    min_positives: int = MIN_POSITIVES,
    min_negatives: int = MIN_NEGATIVES,
) -> dict[str, Any]:
    """Δ = B − A of every audit statistic, with paired-bootstrap intervals and p-values.

    Args:
        y_true: Labels, 0 or 1, shape (n,), the same images for both runs.
        score_a: Run A's scores in [0, 1], shape (n,).
        score_b: Run B's scores in [0, 1], shape (n,).
        groups: Group label per image, shape (n,).
        clusters: Patient id per image, shape (n,); None resamples images.
        thresholds: (A's, B's) decision thresholds, each chosen on that run's validation.
        n_bootstrap: Shared resamples, >= 1.
        seed: Seed or generator of the resampling.
        level: Coverage of the intervals.
        min_positives: The compared-groups rule of :func:`compared_groups`.
        min_negatives: Likewise for negatives.

    Returns:
        ``n``, ``n_bootstrap``, ``unit``, ``level``, ``thresholds``, ``compared_groups``,
        ``rule``, ``method`` and, under ``overall[m]``, ``by_group[g][m]``, ``gaps[m]`` and
        the two cross-group differences: ``{"a", "b", "delta", "low", "high", "p_value",
        "n_valid", "n_invalid"}``. ``delta`` is NaN where either run's value is undefined.

    Raises:
        ValueError: Bad input (a :class:`FairnessInputError` naming the argument and row).
    """
    true, a, group = check_inputs(y_true, score_a, groups)
    _, b, _ = check_inputs(true, score_b, group)
    thr = (_check_threshold(thresholds[0], "threshold A"), _check_threshold(thresholds[1], "B"))
    cluster = check_clusters(clusters, len(true))
    compared = compared_groups(true, group, min_positives, min_negatives)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    res = Resampling.draw(group, cluster, group_order(group), n_bootstrap, rng)
    point = res.identity()
    stats: dict[tuple[str, ...], dict[str, float]] = {}
    runs = tuple(zip((a, b), thr, strict=True))
    resampled = [resampled_metrics(true, s, t, res, compared) for s, t in runs]
    pointed = [resampled_metrics(true, s, t, point, compared) for s, t in runs]
    for key in resampled[0]:
        deltas = resampled[1][key] - resampled[0][key]
        va, vb = float(pointed[0][key][0]), float(pointed[1][key][0])
        stats[key] = {"a": va, "b": vb, "delta": vb - va}
        stats[key] |= interval(deltas, level) | {"p_value": p_value(deltas)}
    unit = "patients" if res.unit == PATIENT else "images (no patient ids)"
    return {
        "n": len(true),
        "n_bootstrap": n_bootstrap,
        "unit": res.unit,
        "level": level,
        "thresholds": list(thr),
        "compared_groups": compared,
        "rule": comparison_rule(min_positives, min_negatives),
        "method": f"paired percentile bootstrap over shared resamples of {unit}; Δ = B − A",
        **nest(stats, res.groups),
    }


def align(
    ids_a: ArrayLike, ids_b: ArrayLike, what: tuple[str, str] = ("A", "B")
) -> tuple[np.ndarray, np.ndarray]:
    """Row orders that put B's images in A's order; the two must hold the same image ids.

    Returns:
        ``(order_a, order_b)`` index arrays, shape (n,), both sorted by image id.

    Raises:
        FairnessInputError: Duplicate ids, or ids in one run but not the other (named).
    """
    left, right = np.asarray(ids_a, dtype=str), np.asarray(ids_b, dtype=str)
    for name, ids in zip(what, (left, right), strict=True):
        uniq, counts = np.unique(ids, return_counts=True)
        if (counts > 1).any():
            raise FairnessInputError(f"{name}: image id {uniq[counts > 1][0]!r} appears twice")
    only = sorted(set(left) ^ set(right))
    if only:
        raise FairnessInputError(
            f"{what[0]} and {what[1]} score different images ({len(only)} differ, e.g. "
            f"{only[0]!r}): a paired comparison needs the same test images"
        )
    return np.argsort(left, kind="stable"), np.argsort(right, kind="stable")
