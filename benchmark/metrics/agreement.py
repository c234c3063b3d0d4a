"""Agreement of estimated Fitzpatrick types with labelled ones (ordinal, I..VI)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.metrics import cohen_kappa_score

from benchmark.core.fitzpatrick import FST_LABELS, UNCERTAIN


def fst_agreement(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, Any]:
    """Confusion matrix, exact and within-one agreement, quadratic-weighted kappa.

    Pairs whose label is missing are ignored; pairs whose estimate is ``uncertain`` count in
    the confusion matrix (column ``uncertain``) but not in the agreement figures.

    Args:
        y_true: Labelled types, ``I``..``VI`` or missing (None/NaN), shape (n,).
        y_pred: Estimated types, ``I``..``VI`` or ``uncertain``, shape (n,).

    Returns:
        ``support`` (pairs with both types), ``uncertain`` (labelled pairs estimated
        uncertain), ``exact``, ``within_one`` (shares in [0, 1]), ``kappa_quadratic``,
        ``confusion`` ({true: {pred: count}}), and ``reason`` explaining any NaN.
    """
    true = pd.Series(np.asarray(y_true, dtype=object))
    pred = pd.Series(np.asarray(y_pred, dtype=object))
    if len(true) != len(pred):
        raise ValueError(f"y_true has {len(true)} items but y_pred has {len(pred)}")
    labelled = true.isin(FST_LABELS)
    both = labelled & pred.isin(FST_LABELS)
    confusion = pd.crosstab(
        pd.Categorical(true[labelled], FST_LABELS),
        pd.Categorical(pred[labelled], [*FST_LABELS, UNCERTAIN]),
        dropna=False,
    )
    out: dict[str, Any] = {
        "support": int(both.sum()),
        "uncertain": int((labelled & (pred == UNCERTAIN)).sum()),
        "confusion": {
            str(r): {str(c): int(v) for c, v in row.items()} for r, row in confusion.iterrows()
        },
        "reason": None,
    }
    if not both.any():
        out.update(
            exact=math.nan,
            within_one=math.nan,
            kappa_quadratic=math.nan,
            reason="no image has both a labelled and an estimated type",
        )
        return out
    t = true[both].map(FST_LABELS.index).to_numpy()
    p = pred[both].map(FST_LABELS.index).to_numpy()
    out["exact"] = float(np.mean(t == p))
    out["within_one"] = float(np.mean(np.abs(t - p) <= 1))
    if len(set(t) | set(p)) < 2:
        out["kappa_quadratic"] = math.nan
        out["reason"] = "kappa is undefined when a single type occurs"
    else:
        out["kappa_quadratic"] = float(
            cohen_kappa_score(t, p, weights="quadratic", labels=list(range(6)))
        )
    return out
