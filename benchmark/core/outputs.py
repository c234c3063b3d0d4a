"""Output files a command is asked to write: checked before any work, and safe to open.

A command that writes several files checks every path first (:func:`check_output_paths`),
so a bad one fails before images are processed or other outputs written. CSV cells that a
spreadsheet would run as a formula are neutralised (:func:`spreadsheet_safe`), as OWASP
recommends for CSV injection: a leading ``'`` before ``=``, ``+``, ``-``, ``@``, tab or CR.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class OutputPathError(ValueError):
    """An output path that cannot be written; the message names it and why."""


def check_output_paths(paths: Iterable[Path | None]) -> None:
    """Refuse output files that are folders or lie under an existing file.

    Args:
        paths: The output files (None: not asked for).

    Raises:
        OutputPathError: The first such path, and the file or folder in the way.
    """
    for path in (Path(p) for p in paths if p is not None):
        if path.is_dir():
            raise OutputPathError(f"{path}: is a folder, not a file to write")
        for parent in path.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise OutputPathError(f"{path}: cannot be written, {parent} is a file")
                break


def _neutral(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        try:
            float(value)  # a negative number is data, not a formula
        except ValueError:
            return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot start a spreadsheet formula (numbers untouched)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(_neutral)
    return out
