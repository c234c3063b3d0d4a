"""Shared shapes of ingest: metadata errors, exclusions and candidate records."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from benchmark.core.fitzpatrick import FST_LABELS
from benchmark.core.manifest import is_missing

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_ROMAN = {str(i + 1): label for i, label in enumerate(FST_LABELS)}


class IngestError(ValueError):
    """Metadata cannot be used at all (missing file or column); names the file."""


@dataclass(frozen=True)
class Exclusion:
    """One image left out of the ingested set, and why.

    Attributes:
        image_id: The id as the source names it.
        reason: Short machine-readable reason, e.g. ``missing_file``.
        detail: Human-readable explanation.
        file: Source file (metadata CSV or image) that the reason refers to.
        line: Line of the metadata CSV (header is line 1), when the row came from one.
    """

    image_id: str
    reason: str
    detail: str
    file: str = ""
    line: int | None = None


@dataclass
class Candidate:
    """An image the source names, before its files are checked.

    Attributes:
        image_id: Canonical id (ISIC ids as ``ISIC_0012345``).
        dataset: Source layout name.
        image_file: The image on disk, ``None`` when no file was found.
        mask_file: The lesion mask on disk, if the source has one.
        labels: Manifest columns known from metadata (diagnosis, patient_id, ...).
        line: Metadata line, for error messages.
        meta_file: Metadata file the row came from.
    """

    image_id: str
    dataset: str
    image_file: Path | None = None
    mask_file: Path | None = None
    labels: dict[str, object] = field(default_factory=dict)
    line: int | None = None
    meta_file: str = ""


def unsafe_id(image_id: str) -> str | None:
    """Return why an id cannot name files in the output folder, or ``None`` if it can."""
    if not _SAFE_ID.match(image_id) or ".." in image_id:
        return f"image id {image_id!r} is not a safe file name (letters, digits, . _ - only)"
    return None


def read_table(path: Path, required: tuple[str, ...], what: str) -> pd.DataFrame:
    """Read a metadata CSV as strings (CRLF, BOM and LF all accepted), checking columns.

    Args:
        path: The CSV.
        required: Columns that must be present.
        what: Layout name for error messages.

    Returns:
        All cells as strings, missing cells as ``<NA>``.

    Raises:
        IngestError: If the file is missing, is a directory, cannot be parsed or lacks a
            required column; the message names the file and the column.
    """
    path = Path(path)
    if path.is_dir():
        raise IngestError(f"{path}: expected a {what} CSV file, found a directory")
    if not path.is_file():
        raise IngestError(f"{path}: {what} metadata file not found")
    try:
        frame = pd.read_csv(
            path, dtype="string", encoding="utf-8-sig", keep_default_na=False, na_values=[""]
        )
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise IngestError(f"{path}: cannot parse {what} metadata: {exc}") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    for column in required:
        if column not in frame.columns:
            raise IngestError(
                f"{path}: {what} metadata lacks required column '{column}' "
                f"(columns: {list(frame.columns)})"
            )
    return frame


def fst_label(value: object) -> str | None:
    """Normalise a Fitzpatrick label (``I``..``VI``, ``1``..``6``, ``-1``/empty) to roman."""
    if is_missing(value):
        return None
    text = str(value).strip().upper().removeprefix("FST").strip()
    if text.endswith(".0"):
        text = text[:-2]
    if text in FST_LABELS:
        return text
    return _ROMAN.get(text)


def clean(value: object) -> str | None:
    """Return a stripped string, or ``None`` for missing/empty cells."""
    if is_missing(value):
        return None
    text = str(value).strip()
    return text or None
