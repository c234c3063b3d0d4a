"""The manifest: one table, one row per image, that every stage reads and extends.

This module is the only definition of its schema. :func:`validate` checks types, allowed
values, unique ``image_id`` and that paths are relative and stay inside the data root;
:func:`read_manifest` and :func:`write_manifest` move it to and from Parquet (CSV is read
too). Every error names the file, the row and the column.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal, get_args

import numpy as np
import pandas as pd

from benchmark.core.fitzpatrick import FST_LABELS, UNCERTAIN
from benchmark.core.io import FileContentError, atomic_path

SUPERCLASSES = ("melanocytic", "non_melanocytic")
DIAGNOSIS_CODES = ("mel", "nv", "ak", "bcc", "bkl", "df", "vasc", "scc")
SOURCES = ("real", "synthetic")
SPLITS = ("train", "val", "test")
ID_STAND_INS = ("patient_id", "lesion_id", "image_id")
# Which lesion mask the robust skin-tone estimate left out (``ita_mask_source``).
ItaMaskSource = Literal["ground_truth", "estimated", "none"]
ITA_MASK_SOURCES: tuple[ItaMaskSource, ...] = get_args(ItaMaskSource)


@dataclass(frozen=True)
class Column:
    """One manifest column.

    Attributes:
        name: Column name.
        kind: ``str``, ``int``, ``float`` or ``bool``.
        required: Whether the column must be present.
        nullable: Whether missing values are allowed.
        allowed: The allowed values, if the column is categorical.
        path: Whether the value is a path relative to the data root.
    """

    name: str
    kind: str
    required: bool = False
    nullable: bool = True
    allowed: tuple[str, ...] | None = None
    path: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("image_id", "str", required=True, nullable=False),
    Column("image_path", "str", required=True, nullable=False, path=True),
    Column("mask_path", "str", path=True),
    Column("patient_id", "str", required=True, nullable=False),
    Column("patient_id_source", "str", required=True, nullable=False, allowed=ID_STAND_INS),
    Column("lesion_id", "str"),
    Column("dataset", "str", required=True, nullable=False),
    # Labels may be absent only for unlabelled segmentation folders; classification filters.
    Column("diagnosis", "str", required=True),
    Column("diagnosis_code", "str", required=True, allowed=DIAGNOSIS_CODES),
    Column("superclass", "str", required=True, allowed=SUPERCLASSES),
    Column("source", "str", required=True, nullable=False, allowed=SOURCES),
    Column("image_manipulation", "str"),
    Column("fst_label", "str", allowed=FST_LABELS),
    Column("width", "int", required=True, nullable=False),
    Column("height", "int", required=True, nullable=False),
    Column("converted_from", "str"),
    Column("mask_binarized", "bool"),
    # Ground truth that only phantoms have: the background skin colour as rendered.
    Column("true_l_star", "float"),
    Column("true_b_star", "float"),
    Column("true_ita", "float"),
    # Added by later stages.
    Column("ita", "float"),
    Column("l_star", "float"),
    Column("b_star", "float"),
    Column("skin_pixels", "int"),
    Column("fst", "str", allowed=(*FST_LABELS, UNCERTAIN)),
    Column("ita_spread", "float"),
    Column("ita_paper", "float"),
    Column("fst_paper", "str", allowed=(*FST_LABELS, UNCERTAIN)),
    Column("ita_lesion_excluded", "float"),
    Column("fst_lesion_excluded", "str", allowed=(*FST_LABELS, UNCERTAIN)),
    Column("ita_paper_guarded", "float"),
    Column("fst_paper_guarded", "str", allowed=(*FST_LABELS, UNCERTAIN)),
    Column("ita_robust", "float"),
    Column("fst_robust", "str", allowed=(*FST_LABELS, UNCERTAIN)),
    Column("ita_mask_source", "str", allowed=ITA_MASK_SOURCES),
    Column("ita_note", "str"),
    Column("skintone_error", "str"),
    Column("split", "str", allowed=SPLITS),
    # The unit a split keeps whole: patients joined through shared lesion ids.
    Column("split_group", "str"),
    Column("generator", "str"),
    Column("prompt", "str"),
    Column("seed", "int"),
    Column("base_model", "str"),
    Column("lora_sha256", "str"),
    Column("mask_source", "str"),
)
COLUMNS_BY_NAME = {c.name: c for c in COLUMNS}
REQUIRED = tuple(c.name for c in COLUMNS if c.required)
_DTYPES = {"str": "string", "int": "Int64", "float": "float64", "bool": "boolean"}


class ManifestError(FileContentError):
    """A manifest violates the schema; the message names file, row and column."""


def is_missing(value: object) -> bool:
    """Whether a cell is missing: ``None``, ``pd.NA`` or a float NaN."""
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with schema columns cast to their nullable dtypes, schema columns first.

    Args:
        frame: A manifest-like table; unknown columns are kept after the schema columns.

    Returns:
        The conformed copy (values are not validated; see :func:`validate`).
    """
    out = frame.copy()
    for col in COLUMNS:
        if col.name in out.columns:
            out[col.name] = out[col.name].astype(_DTYPES[col.kind])  # type: ignore[call-overload]
    known = [c.name for c in COLUMNS if c.name in out.columns]
    extra = [c for c in out.columns if c not in COLUMNS_BY_NAME]
    return out[known + extra].reset_index(drop=True)


def validate(
    frame: pd.DataFrame,
    file: str | Path = "<manifest>",
    data_root: Path | None = None,
    check_files: bool = False,
) -> None:
    """Check a manifest against the schema.

    Args:
        frame: The table (one row per image).
        file: Name used in error messages (the manifest's path).
        data_root: Root the paths are relative to; required when ``check_files`` is set.
        check_files: Also require every ``image_path``/``mask_path`` to exist.

    Raises:
        ManifestError: On the first violation, naming file, row (0-based data row) and column.
    """
    missing = [name for name in REQUIRED if name not in frame.columns]
    if missing:
        raise ManifestError(file, f"missing required column(s) {missing}", column=missing[0])
    for col in COLUMNS:
        if col.name in frame.columns:
            _check_column(frame[col.name], col, file)
    duplicated = frame["image_id"].duplicated(keep=False)
    if duplicated.any():
        rows = np.flatnonzero(duplicated.to_numpy())
        value = frame["image_id"].iloc[rows[0]]
        raise ManifestError(
            file,
            f"duplicate image_id {value!r} (rows {rows.tolist()[:10]})",
            row=int(rows[1]),
            column="image_id",
        )
    if check_files:
        if data_root is None:
            raise ValueError("check_files needs data_root")
        _check_files(frame, file, data_root)


def _check_column(series: pd.Series, col: Column, file: str | Path) -> None:
    for row, value in enumerate(series.tolist()):
        if is_missing(value):
            if not col.nullable:
                raise ManifestError(file, "missing value", row=row, column=col.name)
            continue
        if not _has_kind(value, col.kind):
            raise ManifestError(
                file, f"expected {col.kind}, got {value!r}", row=row, column=col.name
            )
        if col.allowed is not None and value not in col.allowed:
            raise ManifestError(
                file, f"{value!r} is not one of {list(col.allowed)}", row=row, column=col.name
            )
        if col.kind == "str" and not str(value).strip():
            raise ManifestError(file, "empty string", row=row, column=col.name)
        if col.path:
            problem = path_problem(str(value))
            if problem:
                raise ManifestError(file, problem, row=row, column=col.name)


def _has_kind(value: object, kind: str) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool | np.bool_)
    if kind == "int":
        # A float column holding whole numbers is what pandas makes of ints with gaps.
        if isinstance(value, float | np.floating):
            return float(value).is_integer()
        return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
    return isinstance(value, float | int | np.floating | np.integer) and not isinstance(
        value, bool | np.bool_
    )


def path_problem(value: str) -> str | None:
    """Return why ``value`` is not a safe relative path inside the data root, or ``None``."""
    if "\\" in value:
        return f"path {value!r} uses backslashes; write POSIX paths"
    path = PurePosixPath(value)
    if path.is_absolute():
        return f"path {value!r} is absolute; paths must be relative to the data root"
    if ".." in path.parts:
        return f"path {value!r} contains '..' and could escape the data root"
    return None


def _check_files(frame: pd.DataFrame, file: str | Path, root: Path) -> None:
    resolved_root = root.resolve()
    for name in ("image_path", "mask_path"):
        if name not in frame.columns:
            continue
        for row, value in enumerate(frame[name].tolist()):
            if is_missing(value):
                continue
            target = (root / value).resolve()
            if not target.is_relative_to(resolved_root):
                raise ManifestError(
                    file, f"{value!r} resolves outside {root}", row=row, column=name
                )
            if not target.is_file():
                raise ManifestError(
                    file, f"file {root / value} does not exist", row=row, column=name
                )


def read_manifest(
    path: Path, data_root: Path | None = None, check_files: bool = False
) -> pd.DataFrame:
    """Read and validate a manifest from Parquet (``.parquet``) or CSV (``.csv``).

    Args:
        path: The manifest file.
        data_root: Root for the relative paths (default: the manifest's folder).
        check_files: Also check that every referenced file exists.

    Returns:
        The conformed, validated table.

    Raises:
        ManifestError: If the file is missing, unreadable or invalid.
    """
    path = Path(path)
    if not path.is_file():
        raise ManifestError(
            path,
            "manifest file not found"
            if not path.exists()
            else "expected a file, found a directory",
        )
    try:
        frame = (
            pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
            if path.suffix == ".csv"
            else pd.read_parquet(path)
        )
    except Exception as exc:  # pyarrow and pandas raise many types for a bad file
        raise ManifestError(path, f"cannot read manifest: {exc}") from exc
    if path.suffix == ".csv":
        frame = _parse_csv_types(frame, path)
    # Validate the raw values first, so a bad cell is reported by row and column rather than
    # surfacing as a failed dtype cast.
    validate(frame, path, data_root or path.parent, check_files)
    return conform(frame)


def _parse_csv_types(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    for col in COLUMNS:
        if col.name not in frame.columns or col.kind == "str":
            continue
        series = frame[col.name]
        if col.kind == "bool":
            mapped = series.str.lower().map({"true": True, "false": False})
            bad = series.notna() & mapped.isna()
            frame[col.name] = mapped
        else:
            numeric = pd.to_numeric(series, errors="coerce")
            bad = series.notna() & numeric.isna()
            frame[col.name] = numeric
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ManifestError(
                path, f"expected {col.kind}, got {series.iloc[row]!r}", row=row, column=col.name
            )
    return frame


def write_manifest(
    frame: pd.DataFrame, path: Path, data_root: Path | None = None, name: str | Path | None = None
) -> None:
    """Validate and write a manifest to Parquet atomically.

    Args:
        frame: The table.
        path: Destination ``.parquet`` file.
        data_root: Root for the relative paths; when given, referenced files must exist.
        name: File name for error messages when ``path`` is a temporary location.

    Raises:
        ManifestError: If the table is invalid (nothing is written then).
    """
    path = Path(path)
    validate(frame, name or path, data_root, check_files=data_root is not None)
    out = conform(frame)
    with atomic_path(path) as tmp:
        out.to_parquet(tmp, index=False)


def empty_manifest() -> pd.DataFrame:
    """A manifest with every schema column and no row (what a branch that did not run writes)."""
    return conform(pd.DataFrame(columns=[c.name for c in COLUMNS]))


def rebase(frame: pd.DataFrame, old_root: Path, new_root: Path) -> pd.DataFrame:
    """Re-express ``image_path``/``mask_path`` relative to ``new_root``.

    ``new_root`` must be an ancestor of ``old_root``; used to merge manifests whose images
    live under different roots (real and synthetic).

    Raises:
        ValueError: If ``new_root`` does not contain ``old_root``.
    """
    # abspath, not resolve: a symlinked data folder must still count as inside the root.
    old, new = Path(os.path.abspath(old_root)), Path(os.path.abspath(new_root))
    if not old.is_relative_to(new):
        raise ValueError(f"{new_root} does not contain {old_root}; cannot rebase paths")
    prefix = old.relative_to(new).as_posix()
    out = frame.copy()
    for column in ("image_path", "mask_path"):
        if column in out and prefix != ".":
            out[column] = out[column].map(lambda p: p if is_missing(p) else f"{prefix}/{p}")
    return out
