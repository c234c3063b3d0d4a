"""Metadata readers, one per source layout: CSV rows -> candidates or exclusions.

Each reader returns ``(candidates, exclusions)``; finding files on disk is left to
:mod:`benchmark.ingest.files`. Diagnoses go through :func:`benchmark.core.diagnosis.classify`;
an unknown one is excluded with its text, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.core.diagnosis import SUPERCLASS_OF, classify
from benchmark.ingest.tables import Candidate, Exclusion, IngestError, clean, fst_label, read_table

Parsed = tuple[list[Candidate], list[Exclusion]]
ISIC2019_CLASSES = ("MEL", "NV", "BCC", "AK", "BKL", "DF", "VASC", "SCC", "UNK")
_DOWNSAMPLED = "_downsampled"


def _labels(diagnosis: str | None, code: str | None, **ids: str | None) -> dict[str, object]:
    labels: dict[str, object] = {
        "diagnosis": diagnosis,
        "diagnosis_code": code,
        "superclass": SUPERCLASS_OF[code] if code else None,
    }
    labels.update(ids)
    return labels


def _build(
    frame: pd.DataFrame,
    path: Path,
    dataset: str,
    id_col: str,
    row_labels: Callable[[pd.Series], tuple[str | None, dict[str, object]]],
) -> Parsed:
    """Turn rows into candidates; rows whose diagnosis does not map are excluded."""
    candidates: list[Candidate] = []
    exclusions: list[Exclusion] = []
    ids = frame[id_col].str.strip().str.removesuffix(_DOWNSAMPLED)
    lines = {k: [int(i) + 2 for i in v] for k, v in ids.groupby(ids).groups.items()}
    for index, row in frame.iterrows():
        line = int(index) + 2  # type: ignore[call-overload]
        raw_id = clean(row[id_col])
        if raw_id is None:
            exclusions.append(Exclusion("", "missing_id", f"empty '{id_col}'", str(path), line))
            continue
        image_id = raw_id.removesuffix(_DOWNSAMPLED)
        if len(lines[image_id]) > 1:
            # Which of the rows is right is unknown, so every copy is excluded.
            detail = f"image_id appears {len(lines[image_id])} times (lines {lines[image_id]})"
            exclusions.append(Exclusion(image_id, "duplicate_id", detail, str(path), line))
            continue
        problem, labels = row_labels(row)
        if problem:
            exclusions.append(Exclusion(image_id, "unknown_diagnosis", problem, str(path), line))
            continue
        labels["source_stems"] = (image_id, raw_id) if raw_id != image_id else (image_id,)
        candidates.append(
            Candidate(image_id, dataset, labels=labels, line=line, meta_file=str(path))
        )
    return candidates, exclusions


def read_ham10000(path: Path) -> Parsed:
    """HAM10000: ``lesion_id,image_id,dx,dx_type,age,sex,localization``."""
    frame = read_table(path, ("lesion_id", "image_id", "dx"), "HAM10000")

    def labels(row: pd.Series) -> tuple[str | None, dict[str, object]]:
        dx = clean(row["dx"])
        code = classify(dx)
        if code is None:
            return f"dx {dx!r} is not in the superclass vocabulary", {}
        return None, _labels(dx, code, lesion_id=clean(row["lesion_id"]))

    return _build(frame, path, "ham10000", "image_id", labels)


def read_isic2019(path: Path, metadata: Path | None = None) -> Parsed:
    """ISIC 2019 one-hot ground truth, optionally joined with its metadata (lesion_id).

    Cells may be integers or floats (``1``/``1.0``); a row must have exactly one class set.
    ``UNK`` rows are excluded as unknown.
    """
    frame = read_table(path, ("image", *ISIC2019_CLASSES[:-1]), "ISIC 2019 ground truth")
    classes = [c for c in ISIC2019_CLASSES if c in frame.columns]
    values = frame[classes].apply(pd.to_numeric, errors="coerce")
    lesions: dict[str, str | None] = {}
    if metadata is not None:
        meta = read_table(metadata, ("image", "lesion_id"), "ISIC 2019 metadata")
        lesions = {
            str(k).removesuffix(_DOWNSAMPLED): clean(v)
            for k, v in zip(meta["image"], meta["lesion_id"], strict=True)
        }

    def labels(row: pd.Series) -> tuple[str | None, dict[str, object]]:
        onehot = values.loc[row.name].to_numpy(dtype=float)
        hot = [c for c, v in zip(classes, onehot, strict=True) if v == 1.0]
        if np.isnan(onehot).any() or len(hot) != 1 or not set(onehot) <= {0.0, 1.0}:
            return (
                f"one-hot row is not exactly one class: {dict(zip(classes, onehot, strict=True))}",
                {},
            )
        if hot[0] == "UNK":
            return "UNK (none of the known classes)", {}
        image_id = str(row["image"]).removesuffix(_DOWNSAMPLED)
        return None, _labels(hot[0], classify(hot[0]), lesion_id=lesions.get(image_id))

    return _build(frame, path, "isic2019", "image", labels)


def read_isic2020(path: Path) -> Parsed:
    """ISIC 2020: ``image_name,patient_id,...,diagnosis,benign_malignant,target``."""
    frame = read_table(path, ("image_name", "patient_id", "diagnosis"), "ISIC 2020")

    def labels(row: pd.Series) -> tuple[str | None, dict[str, object]]:
        dx = clean(row["diagnosis"])
        code = classify(dx)
        if code is None:
            return f"diagnosis {dx!r} is not in the superclass vocabulary", {}
        return None, _labels(dx, code, patient_id=clean(row["patient_id"]))

    return _build(frame, path, "isic2020", "image_name", labels)


def read_isic_archive(path: Path) -> Parsed:
    """``metadata.csv`` written by ``isic image download``; columns vary with the query.

    The diagnosis is ``diagnosis`` (flat, older exports) or ``diagnosis_1..5``
    (hierarchical). ``fitzpatrick_skin_type``, ``patient_id``, ``lesion_id`` and
    ``image_manipulation`` are used when present.
    """
    frame = read_table(path, ("isic_id",), "ISIC Archive")
    levels = [
        c for c in ("diagnosis", *(f"diagnosis_{i}" for i in range(1, 6))) if c in frame.columns
    ]
    if not levels:
        raise IngestError(
            f"{path}: ISIC Archive metadata lacks required column 'diagnosis' "
            "(or 'diagnosis_1'..'diagnosis_5')"
        )

    def optional(row: pd.Series, column: str) -> str | None:
        return clean(row[column]) if column in row.index else None

    def labels(row: pd.Series) -> tuple[str | None, dict[str, object]]:
        texts = [clean(row[c]) for c in levels]
        code = classify(*texts)
        shown = ":".join(t for t in texts if t)
        if code is None:
            return f"diagnosis {shown or '<empty>'!r} is not in the superclass vocabulary", {}
        return None, _labels(
            shown,
            code,
            patient_id=optional(row, "patient_id"),
            lesion_id=optional(row, "lesion_id"),
            image_manipulation=optional(row, "image_manipulation"),
            fst_label=fst_label(optional(row, "fitzpatrick_skin_type")),
        )

    return _build(frame, path, "isic-archive", "isic_id", labels)


def read_isic2017(path: Path) -> Parsed:
    """ISIC 2017 task 3: ``image_id,melanoma,seborrheic_keratosis`` (``0``/``1`` or floats).

    The challenge has three classes; a row with neither flag set is a nevus by the
    challenge's definition, not by guess. A row with both set is excluded.
    """
    frame = read_table(path, ("image_id", "melanoma", "seborrheic_keratosis"), "ISIC 2017")
    flags = frame[["melanoma", "seborrheic_keratosis"]].apply(pd.to_numeric, errors="coerce")

    def labels(row: pd.Series) -> tuple[str | None, dict[str, object]]:
        mel, sk = flags.loc[row.name].to_numpy(dtype=float)
        if not {mel, sk} <= {0.0, 1.0} or mel + sk > 1:
            return f"flags melanoma={mel}, seborrheic_keratosis={sk} are not one class", {}
        name = "melanoma" if mel else "seborrheic keratosis" if sk else "nevus"
        return None, _labels(name, classify(name))

    return _build(frame, path, "isic2017", "image_id", labels)


LAYOUT_READERS: dict[str, Callable[[Path], Parsed]] = {
    "ham10000": read_ham10000,
    "isic2019": read_isic2019,
    "isic2020": read_isic2020,
    "isic2017": read_isic2017,
    "isic-archive": read_isic_archive,
}


def detect_layout(path: Path) -> str:
    """Guess a metadata CSV's layout from its header (for labels of a segmentation folder).

    Raises:
        IngestError: If the header matches no known layout.
    """
    header = set(read_table(path, (), "metadata").columns)
    if {"image_id", "dx"} <= header:
        return "ham10000"
    if {"image", "MEL", "NV"} <= header:
        return "isic2019"
    if {"image_id", "melanoma", "seborrheic_keratosis"} <= header:
        return "isic2017"
    if {"image_name", "diagnosis"} <= header:
        return "isic2020"
    if "isic_id" in header:
        return "isic-archive"
    raise IngestError(
        f"{path}: header {sorted(header)} matches no known metadata layout "
        "(HAM10000, ISIC 2017, ISIC 2019, ISIC 2020, ISIC Archive)"
    )
