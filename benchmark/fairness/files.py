"""Predictions files: read, checked, aligned by image id, thresholds chosen on validation.

Every error names the file and, where it applies, the row and column. A threshold is given,
chosen on a *validation* predictions file (Youden's J), or the default 0.5; it is never
chosen on the file being audited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from benchmark.core.io import FileContentError
from benchmark.metrics.fairness import choose_threshold
from benchmark.metrics.inputs import FairnessInputError

T = TypeVar("T")
ID_COL = "image_id"


class PredictionsError(FileContentError):
    """A predictions file is unusable; the message names file, row and column."""


def read_predictions(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """Read a predictions CSV as strings, checking that ``columns`` are present.

    Empty cells and pandas' NA spellings (``NaN``, ``None``, ``NA``...) become missing.

    Raises:
        PredictionsError: File missing or unreadable, no rows, or a column missing.
    """
    path = Path(path)
    if not path.is_file():
        raise PredictionsError(path, "predictions file not found")
    try:
        frame = pd.read_csv(path, dtype=str)
    except Exception as exc:  # pandas raises many types for a malformed file
        raise PredictionsError(path, f"cannot read predictions CSV: {exc}") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise PredictionsError(
            path,
            f"missing column(s) {missing}; its columns are {', '.join(map(str, frame.columns))}",
            column=missing[0],
        )
    if frame.empty:
        raise PredictionsError(path, "no rows")
    return frame


def located(path: Path, columns: dict[str, str], fn: Callable[[], T]) -> T:
    """Run ``fn``, turning an input error into one that names file, row and column."""
    try:
        return fn()
    except FairnessInputError as exc:
        column = columns.get(exc.argument or "")
        raise PredictionsError(path, exc.reason, row=exc.index, column=column) from exc


def patient_column(frame: pd.DataFrame, column: str) -> tuple[pd.Series | None, str]:
    """The patient ids of a predictions frame (None without the column) and a sentence."""
    if column not in frame.columns:
        return None, f"no '{column}' column: images as units"
    missing = int(frame[column].isna().sum())
    note = f"patients ('{column}')"
    if missing:
        note += f"; {missing} image(s) without one are units of their own"
    return frame[column], note


def resolve_threshold(
    threshold: float | None, threshold_from: Path | None, names: dict[str, str], audited: Path
) -> tuple[float, str]:
    """The threshold and where it came from: given, validation file, or the default."""
    if threshold is not None and threshold_from is not None:
        raise ValueError("give threshold or threshold_from, not both")
    if threshold_from is not None and Path(threshold_from).resolve() == audited.resolve():
        raise ValueError(f"{audited}: threshold_from is the audited file; use validation data")
    if threshold is not None:
        return float(threshold), "given"
    if threshold_from is None:
        return 0.5, "default 0.5"
    path = Path(threshold_from)
    val = read_predictions(path, [names["y_true"], names["y_score"]])
    labels, scores = val[names["y_true"]], val[names["y_score"]]
    chosen = located(path, names, lambda: choose_threshold(labels, scores))
    return chosen, f"validation:{path.name}"


def align_runs(
    frames: Sequence[pd.DataFrame], paths: Sequence[Path], same: Sequence[str]
) -> list[pd.DataFrame]:
    """Several runs' frames in the first one's image order; they must hold the same images.

    Args:
        frames: One predictions frame per run, each with :data:`ID_COL`.
        paths: Their files (for errors).
        same: Columns that must agree image by image (label, groups, patient).

    Raises:
        PredictionsError: A duplicate image id, a file missing ids of the first (or holding
            others; the count named), or a column that disagrees (image named).
    """
    for frame, path in zip(frames, paths, strict=True):
        ids = frame[ID_COL]
        if ids.isna().any() or ids.duplicated().any():
            bad = ids[ids.isna() | ids.duplicated()].iloc[0]
            raise PredictionsError(path, f"image id {bad!r} is missing or repeated", column=ID_COL)
    first = frames[0].set_index(ID_COL, drop=False)
    out = [frames[0]]
    for frame, path in zip(frames[1:], paths[1:], strict=True):
        missing = first.index.difference(pd.Index(frame[ID_COL]))
        extra = pd.Index(frame[ID_COL]).difference(first.index)
        if len(missing) or len(extra):
            raise PredictionsError(
                path, f"holds other images than {paths[0].name}: {len(missing)} of its image "
                f"ids missing, {len(extra)} not in it (e.g. {([*missing, *extra])[0]!r})",
                column=ID_COL,
            )  # fmt: skip
        aligned = frame.set_index(ID_COL, drop=False).loc[first.index].reset_index(drop=True)
        for column in same:
            if column not in aligned:
                continue
            a, b = frames[0][column].astype(str).to_numpy(), aligned[column].astype(str).to_numpy()
            differ = np.flatnonzero(a != b)
            if differ.size:
                i = int(differ[0])
                raise PredictionsError(
                    path, f"image {frames[0][ID_COL].iloc[i]!r} has {column} {b[i]!r} here but "
                    f"{a[i]!r} in {paths[0].name}", column=column,
                )  # fmt: skip
        out.append(aligned)
    return out
