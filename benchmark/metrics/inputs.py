"""Input checks shared by the fairness metrics: labels, scores, groups and patient ids."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray


class FairnessInputError(ValueError):
    """Bad input; ``argument`` (y_true, y_score, groups) and ``index`` locate the problem."""

    def __init__(self, message: str, *, argument: str | None = None, index: int | None = None):
        super().__init__(message if index is None else f"{message} (row {index})")
        self.reason, self.argument, self.index = message, argument, index


def check_inputs(
    y_true: ArrayLike, y_score: ArrayLike, groups: ArrayLike | None = None
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.str_]]:
    """Validate and convert inputs; raise :class:`FairnessInputError` at the first bad row.

    Args:
        y_true: Labels, 0 or 1, shape (n,), n >= 1.
        y_score: Scores (probability of class 1), finite and in [0, 1], shape (n,).
        groups: Group labels without None/NaN, shape (n,); None gives one group ``"all"``.

    Returns:
        ``(y_true, y_score, groups)`` as int64, float64 and str arrays of shape (n,).
    """
    true, score = np.asarray(y_true, dtype=object), np.asarray(y_score, dtype=object)
    group = np.asarray(["all"] * len(true) if groups is None else groups, dtype=object)
    if len(true) == 0:
        raise FairnessInputError("no rows: y_true is empty", argument="y_true")
    for name, arr in (("y_score", score), ("groups", group)):
        if arr.shape != true.shape:
            raise FairnessInputError(
                f"y_true has {len(true)} items but {name} has shape {arr.shape}", argument=name
            )
    bad = np.flatnonzero(pd.isna(group))
    if bad.size:
        raise FairnessInputError("group is missing (None/NaN)", argument="groups", index=bad[0])
    true_f = _as_float(true, "y_true")
    bad = np.flatnonzero((true_f != 0) & (true_f != 1))
    if bad.size:
        raise FairnessInputError(
            f"label must be 0 or 1, got {true[bad[0]]!r}", argument="y_true", index=bad[0]
        )
    score_f = _as_float(score, "y_score")
    bad = np.flatnonzero(~(np.isfinite(score_f) & (score_f >= 0) & (score_f <= 1)))
    if bad.size:
        raise FairnessInputError(
            f"score must be finite and in [0, 1], got {score[bad[0]]!r}",
            argument="y_score",
            index=bad[0],
        )
    return true_f.astype(np.int64), score_f, group.astype(str)


def _as_float(values: NDArray[Any], name: str) -> NDArray[np.float64]:
    numbers = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~pd.isna(values) & np.isnan(numbers))
    if bad.size:
        raise FairnessInputError(f"not a number: {values[bad[0]]!r}", argument=name, index=bad[0])
    return numbers


def check_clusters(clusters: ArrayLike | None, n: int) -> NDArray[np.str_] | None:
    """Patient ids as strings, shape (n,); a missing id becomes a cluster of its own row."""
    if clusters is None:
        return None
    ids = np.asarray(clusters, dtype=object)
    if ids.shape != (n,):
        raise FairnessInputError(
            f"y_true has {n} items but clusters has shape {ids.shape}", argument="clusters"
        )
    missing = pd.isna(ids)
    return np.where(missing, [f"\0row{i}" for i in range(n)], ids.astype(str)).astype(str)


def check_decisions(
    y_pred: ArrayLike, n: int, allowed: tuple[str, ...] = ("0", "1")
) -> NDArray[np.bool_]:
    """Hard decisions (0/1, as numbers or text) as a bool array, shape (n,).

    Raises:
        FairnessInputError: Another length, or values outside {0, 1}, naming them.
    """
    values = np.asarray(y_pred, dtype=object)
    if values.shape != (n,):
        raise FairnessInputError(
            f"y_true has {n} items but the decisions have shape {values.shape}", argument="y_pred"
        )
    allowed = ("0", "1")
    text = np.array([_as_text(v) for v in values], dtype=object)
    bad = sorted({str(v) for v in text if v not in allowed})
    if bad:
        first = int(np.flatnonzero(~np.isin(text, allowed))[0])
        raise FairnessInputError(
            f"decisions must be 0 or 1; found {bad[:5]}{' ...' if len(bad) > 5 else ''}",
            argument="y_pred",
            index=first,
        )
    return np.asarray(text == allowed[1], dtype=np.bool_)


def _as_text(value: Any) -> str:
    """A decision as text: 1, 1.0, "1" and True all read "1"; missing reads "missing"."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "missing"
    if isinstance(value, bool | np.bool_):
        return str(int(value))
    if isinstance(value, int | float | np.integer | np.floating) and float(value) in (0.0, 1.0):
        return str(int(value))
    text = str(value).strip()
    return {"0.0": "0", "1.0": "1"}.get(text, text)
