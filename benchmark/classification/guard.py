"""The degenerate-run guard: a classifier that did not learn makes every number built on it noise.

A run is marked failed, with its reason, when

* its kept epoch's validation AUC is at or below ``min_val_auc`` (it did not learn, or
  validation cannot tell);
* its test scores are constant (every fairness metric of a constant score is an artefact);
* at its operating threshold, chosen on validation (Youden's J), it predicts one class for
  every test image (sensitivity or specificity 0 by construction).

A failed run keeps its files (so it can be inspected) but is left out of every mean: Table 5,
``metrics/classify.json``, the fairness audits and the study. The verdicts travel to the
fairness stage in :class:`benchmark.core.run_checks.RunChecks`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from benchmark.core.run_checks import RunCheck
from benchmark.metrics.fairness import choose_threshold


def check_run(
    run: str,
    val: tuple[ArrayLike, ArrayLike],
    test_scores: ArrayLike,
    min_val_auc: float,
    val_auc: float,
) -> RunCheck:
    """The verdict on one run.

    Args:
        run: Its name.
        val: (n,) validation labels (0/1) and (n,) melanocytic probabilities.
        test_scores: (m,) test probabilities.
        min_val_auc: The lowest validation AUC a run may keep and pass (exclusive).
        val_auc: The kept epoch's validation AUC.

    Returns:
        The check; ``reason`` names every failed condition, ``"; "``-joined.
    """
    threshold = choose_threshold(*val)
    scores = np.asarray(test_scores, dtype=np.float64)
    reasons = []
    if math.isnan(val_auc) or val_auc <= min_val_auc:
        reasons.append(f"validation AUC {val_auc:.3f} <= min_val_auc {min_val_auc:g}")
    if scores.size == 0 or float(np.ptp(scores)) == 0.0:
        reasons.append("constant test scores")
    else:
        predicted = scores >= threshold
        if predicted.all() or not predicted.any():
            label = "melanocytic" if predicted.all() else "non-melanocytic"
            reasons.append(
                f"one class ({label}) for every test image at the validation threshold "
                f"{threshold:.3f}"
            )
    return RunCheck(run, float(val_auc), threshold, "; ".join(reasons))
