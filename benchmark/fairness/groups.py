"""The audit's groups from one column or the intersection of several (``fst`` × ``sex``).

Each column is read in its dataset's vocabulary (:mod:`benchmark.fairness.label_sources`,
detected from the column's name). Several columns form intersection cells labelled
``V × female``. A cell with fewer than ``min_support`` images, or one whose skin type is
unknown (``uncertain``/``missing``), is shown with its own numbers and flagged, and takes no
part in worst group, gaps, EO or DP: it is never dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark.core.fitzpatrick import MISSING, UNCERTAIN
from benchmark.core.io import FileContentError
from benchmark.fairness.label_sources import SOURCES, is_skin_type_column, read_groups, read_own

CROSS = " × "
MIN_CELL = 10  # images: a smaller intersection cell is flagged and not compared


@dataclass(frozen=True)
class Groups:
    """Group labels of an audit and what they are.

    Attributes:
        labels: One label per row.
        columns: The columns they come from.
        notes: One sentence per column whose dataset's spelling was read.
        not_compared: Cells shown but never compared, with the reason.
        min_support: The intersection minimum (None for one column).
    """

    labels: pd.Series
    columns: tuple[str, ...]
    notes: tuple[str, ...] = ()
    not_compared: dict[str, str] = field(default_factory=dict)
    min_support: int | None = None


def source_of(column: str) -> Any:
    """The label source whose dataset names its skin-type column ``column`` (or None)."""
    return next((s for s in SOURCES.values() if s.column == column), None)


def audit_groups(
    frame: pd.DataFrame, columns: Sequence[str], path: Path | str, min_support: int = MIN_CELL
) -> Groups:
    """Groups of a predictions frame from ``columns`` (one, or an intersection).

    Raises:
        FileContentError: A column in two vocabularies or outside its dataset's.
        ValueError: No column, the same column twice, or ``min_support < 1``.
    """
    if not columns or len(set(columns)) != len(columns):
        raise ValueError(f"give one or more distinct group columns, got {list(columns)}")
    if min_support < 1:
        raise ValueError(f"min_support must be >= 1, got {min_support}")
    parts, notes = [], []
    for column in columns:
        source = source_of(column)
        if source is None and is_skin_type_column(column):
            frame[column], respelled = read_own(frame[column], path)
            notes += [respelled] if respelled else []
        parts.append(read_groups(frame[column], source, path).astype(str))
        if source is not None:
            notes.append(f"'{column}': {source.note}")
    if len(parts) == 1:
        # The suite's own column keeps its rule: an empty group cell is an error (row named).
        own = source_of(columns[0]) is None
        single = frame[columns[0]] if own and is_skin_type_column(columns[0]) else parts[0]
        if own and not is_skin_type_column(columns[0]):
            single = single.where(frame[columns[0]].notna(), frame[columns[0]])
        return Groups(single, tuple(columns), tuple(notes))
    labels = pd.concat(parts, axis=1).agg(CROSS.join, axis=1)
    unknown = {UNCERTAIN, MISSING}
    not_compared = {}
    for cell, n in labels.value_counts().sort_index().items():
        if set(str(cell).split(CROSS)) & unknown:
            not_compared[str(cell)] = "a part of the cell is unknown"
        elif n < min_support:
            not_compared[str(cell)] = f"{n} image(s), fewer than {min_support}"
    return Groups(labels, tuple(columns), tuple(notes), not_compared, min_support)


def estimated_column(
    frame: pd.DataFrame,
    column: str,
    estimate: Callable[[pd.DataFrame], tuple[pd.Series, str]] | None,
    path: Path | str,
) -> str | None:
    """With ``estimate``: the estimated groups written into ``frame[column]``; their note."""
    if estimate is None:
        return None
    if column in frame.columns:
        raise FileContentError(
            path, "has the group column already; drop --images or name another --group-col",
            column=column,
        )  # fmt: skip
    frame[column], note = estimate(frame)
    return note
