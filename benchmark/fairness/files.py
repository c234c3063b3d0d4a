"""Predictions files: read, checked, aligned by image id, thresholds chosen on validation.

Every error names the file and, where it applies, the row and column. A threshold is given,
chosen on a *validation* predictions file (Youden's J), or the default 0.5; it is never
chosen on the file being audited.
"""

from __future__ import annotations

import codecs
import csv
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


def csv_format(path: Path) -> tuple[str, str]:
    """The encoding (from a byte-order mark; UTF-8 otherwise) and separator of a CSV file.

    The separator is the first of ``,``, ``;`` and tab found in the header line: a
    spreadsheet saved with semicolons or tabs reads as it was meant.
    """
    head = Path(path).read_bytes()[:65536]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    first = head.decode(encoding, errors="ignore").lstrip("\ufeff").split("\n", 1)[0]
    return encoding, next((sep for sep in (",", ";", "\t") if sep in first), ",")


def read_header(path: Path) -> list[str]:
    """The column names of a CSV file (the format of :func:`csv_format`).

    Raises:
        PredictionsError: The file is missing, not text in its encoding, or names a column
            twice.
    """
    return list(read_predictions(path, [], rows=0).columns)


def read_predictions(path: Path, columns: Sequence[str], rows: int | None = None) -> pd.DataFrame:
    """Read a predictions CSV as strings, checking that ``columns`` are present.

    Empty cells and pandas' NA spellings (``NaN``, ``None``, ``NA``...) become missing. The
    encoding and separator are found by :func:`csv_format`.

    Raises:
        PredictionsError: File missing or unreadable (not text in its encoding, named), a
            column named twice, no rows, or a column missing.
    """
    path = Path(path)
    if not path.is_file():
        raise PredictionsError(path, "predictions file not found")
    encoding, sep = csv_format(path)
    try:
        with path.open(encoding=encoding, newline="") as handle:
            header = next(csv.reader(handle, delimiter=sep), [])
        twice = sorted({c for c in header if header.count(c) > 1})
        if twice:
            raise PredictionsError(path, f"names column(s) {twice} more than once", column=twice[0])
        frame = pd.read_csv(path, dtype=str, encoding=encoding, sep=sep, nrows=rows)
    except UnicodeDecodeError as exc:
        raise PredictionsError(
            path, f"is not {encoding} text (byte {exc.start}: {exc.reason}); save it as UTF-8 CSV"
        ) from exc
    except PredictionsError:
        raise
    except Exception as exc:  # pandas raises many types for a malformed file
        raise PredictionsError(path, f"cannot read predictions CSV: {exc}") from exc
    if rows == 0:
        return frame
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


def unique_ids(frame: pd.DataFrame, path: Path) -> None:
    """Refuse a file whose :data:`ID_COL` has an empty or repeated id (lines named).

    A repeated row would count one image twice: more images, narrower intervals and fewer
    small-group warnings than the data holds. A file without the column is not checked.

    Raises:
        PredictionsError: The first offending id and the lines that hold it.
    """
    if ID_COL not in frame.columns:
        return
    ids = frame[ID_COL]
    bad = ids.isna() | ids.duplicated(keep=False)
    if bad.any():
        first = ids[bad].iloc[0]
        same = ids.isna() if pd.isna(first) else ids == first
        lines = [int(i) + 2 for i in np.flatnonzero(same.to_numpy())[:5]]
        what = "an empty image id" if pd.isna(first) else f"image id {first!r} more than once"
        raise PredictionsError(
            path, f"has {what} (lines {lines}; {int(bad.sum())} row(s) in all): every image "
            "must appear once", column=ID_COL,
        )  # fmt: skip


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
        unique_ids(frame, path)
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
