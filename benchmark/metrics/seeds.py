"""Sensitivity per group averaged over seeds, and a between-group gap, with two intervals.

Several runs (seeds of one variant) predict the same test images. For each group the
sensitivity TP/positives is computed per run and averaged over the runs; the gap is the
average of ``sensitivity[high] - sensitivity[low]`` (e.g. V-VI minus I-II: negative when
dark skin is served worse). Two 95% intervals answer two questions:

* ``boot``: resampling the test *patients* (clusters) with replacement, the same resample
  for every run, percentile interval of the seed mean: how much the number would move on
  another test sample of this size.
* ``seeds``: Student-t interval over the per-run values: how much it moves between
  training seeds (NaN with one run).

A group without positives leaves its sensitivity and every gap using it NaN, with the reason;
a resample without positives in a group does not count (the number of valid resamples is
returned), never a silent 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

F64 = NDArray[np.float64]


def t_interval(values: ArrayLike, level: float = 0.95) -> tuple[float, float]:
    """Student-t interval of the mean of ``values`` (NaN with fewer than two finite values)."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return float(x.mean() - half), float(x.mean() + half)


def _counts(
    y_true: NDArray[np.bool_], y_pred: NDArray[np.bool_], groups: NDArray[Any],
    names: list[str], clusters: NDArray[np.intp], k: int,
) -> tuple[F64, F64]:  # fmt: skip
    """Positives per (cluster, group) (k, G) and true positives per (run, cluster, group)."""
    positives = np.zeros((k, len(names)))
    hits = np.zeros((len(y_pred), k, len(names)))
    for g, name in enumerate(names):
        pos = y_true & (groups == name)
        np.add.at(positives[:, g], clusters[pos], 1.0)
        for r, pred in enumerate(y_pred):
            np.add.at(hits[r, :, g], clusters[pos & pred], 1.0)
    return positives, hits


def seed_mean_sensitivity(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    groups: ArrayLike,
    gap: tuple[str, str],
    clusters: ArrayLike | None = None,
    n_bootstrap: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """Seed-mean sensitivity per group and the gap ``gap[0] - gap[1]``, with intervals.

    Args:
        y_true: (N,) 0/1 labels (1 = positive) of the test images.
        y_pred: (R, N) 0/1 decisions of R runs at their own (validation-chosen) thresholds.
        groups: (N,) group label per image.
        gap: ``(high, low)`` groups of the gap, e.g. ``("V-VI", "I-II")``.
        clusters: (N,) patient ids; None resamples images.
        n_bootstrap: Resamples for ``boot`` (0: none).
        seed: Seed of the resampling.
        level: Interval level.

    Returns:
        ``{"groups": {g: stat}, "gap": stat, "runs": R, "n_bootstrap": B}``; a stat is
        ``{"value", "per_run", "seeds": [low, high], "boot": [low, high], "valid", "positives",
        "reason"}`` (``reason`` None where defined).
    """
    truth = np.asarray(y_true).astype(bool)
    pred = np.atleast_2d(np.asarray(y_pred)).astype(bool)
    labels = np.asarray(groups).astype(str)
    if pred.shape[1] != len(truth) or len(labels) != len(truth):
        raise ValueError(f"shapes differ: y_true {truth.shape}, y_pred {pred.shape}, groups "
                         f"{labels.shape}")  # fmt: skip
    if not len(truth):
        raise ValueError("no test image to compute sensitivities on")
    names = [str(n) for n in sorted(set(labels) | set(gap))]
    ids = np.arange(len(truth)) if clusters is None else np.asarray(clusters).astype(str)
    _, index = np.unique(ids, return_inverse=True)
    k = int(index.max()) + 1 if len(index) else 0
    positives, hits = _counts(truth, pred, labels, names, index, k)
    weights = np.random.default_rng(seed).multinomial(k, np.full(k, 1 / k), size=n_bootstrap)
    point = _sensitivities(positives.sum(0)[None], hits.sum(1)[None])[0]  # (R, G)
    boot = _sensitivities(weights @ positives, np.einsum("bc,rcg->brg", weights, hits))
    out = {n: _stat(point[:, g], boot[:, :, g], positives[:, g].sum(), level) for g, n in
           enumerate(names)}  # fmt: skip
    high, low = names.index(gap[0]), names.index(gap[1])
    diff = _stat(point[:, high] - point[:, low], boot[:, :, high] - boot[:, :, low], None, level)
    for name in gap:
        if out[name]["reason"]:
            diff["reason"] = f"{name}: {out[name]['reason']}"
    return {"groups": out, "gap": diff, "runs": len(pred), "n_bootstrap": n_bootstrap}


def _sensitivities(positives: F64, hits: F64) -> F64:
    """(B, R, G) TP / positives, NaN where a group has no positive."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(positives[:, None, :] > 0, hits / positives[:, None, :], np.nan)


def _stat(per_run: F64, boot: F64, positives: float | None, level: float) -> dict[str, Any]:
    """Seed mean, t-interval over runs, percentile interval of the resampled seed means."""
    means = boot.mean(axis=1)  # (B,) seed mean per resample; NaN if undefined in any run
    valid = means[np.isfinite(means)]
    tail = 100 * (1 - level) / 2
    box = [float(v) for v in np.percentile(valid, [tail, 100 - tail])] if len(valid) else []
    undefined = not np.isfinite(per_run).all()
    return {
        "value": math.nan if undefined else float(per_run.mean()),
        "per_run": [float(v) for v in per_run],
        "seeds": list(t_interval(per_run, level)),
        "boot": box or [math.nan, math.nan],
        "valid": len(valid),
        "positives": None if positives is None else int(positives),
        "reason": "no positive test image in the group" if undefined else None,
    }
