"""Ingest: read a source layout, check every file, write the ingested set.

Output folder layout (all written under a temporary name, then renamed):
``images/``, ``masks/``, ``manifest.parquet``, ``exclusions.csv``, ``summary.json``.
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from benchmark.core.config.data import IngestConfig
from benchmark.core.imaging import MASK_THRESHOLD, ImageProblemError
from benchmark.core.io import atomic_path, write_json_atomic
from benchmark.core.manifest import REQUIRED, is_missing, write_manifest
from benchmark.ingest.files import attach_images, attach_masks, pair_segmentation_folder
from benchmark.ingest.images import PlaceResult, place
from benchmark.ingest.phantom_source import read_phantom_folder
from benchmark.ingest.sources import LAYOUT_READERS, detect_layout, read_isic2019
from benchmark.ingest.tables import Candidate, Exclusion, unsafe_id
from benchmark.phantoms.generate import generate_phantoms

_IN_PROCESS_BELOW = 64  # process start-up costs more than checking a few images


@dataclass(frozen=True)
class IngestInputs:
    """Where a source's files are.

    Attributes:
        source: Layout name (see :class:`benchmark.core.config.data.IngestConfig`).
        images: Image folder (for ``phantoms``: the phantom folder with its manifest).
        metadata: Metadata CSV, if the layout has one (optional labels for
            ``segmentation-folder``).
        masks: Separate mask folder, if any.
        extra_metadata: ISIC 2019 metadata CSV (lesion_id), if any.
    """

    source: str
    images: Path
    metadata: Path | None = None
    masks: Path | None = None
    extra_metadata: Path | None = None


def collect(inputs: IngestInputs) -> tuple[list[Candidate], list[Exclusion], dict[str, Any]]:
    """Read metadata and find files: candidates with files, exclusions, and notes."""
    notes: dict[str, Any] = {}
    if inputs.source == "phantoms":
        cands, excl = read_phantom_folder(inputs.images)
    elif inputs.source == "segmentation-folder":
        cands, excl, orphans = pair_segmentation_folder(inputs.images, inputs.masks)
        notes["orphan_masks"] = orphans
        excl += _drop_unsafe(cands)
        if inputs.metadata is not None:
            excl += _label_from_metadata(cands, inputs.metadata, notes)
    else:
        if inputs.metadata is None:
            raise ValueError(f"source {inputs.source!r} needs a metadata CSV")
        if inputs.source == "isic2019":
            cands, excl = read_isic2019(inputs.metadata, inputs.extra_metadata)
        else:
            cands, excl = LAYOUT_READERS[inputs.source](inputs.metadata)
        excl += _drop_unsafe(cands)
        excl += attach_images(cands, inputs.images)
        if inputs.masks is not None:
            excl += attach_masks(cands, inputs.masks)
    return cands, excl, notes


def _drop_unsafe(cands: list[Candidate]) -> list[Exclusion]:
    """Refuse ids that cannot safely name an output file (``../``, slashes, ...)."""
    unsafe = [c for c in cands if unsafe_id(c.image_id)]
    cands[:] = [c for c in cands if not unsafe_id(c.image_id)]
    return [
        Exclusion(c.image_id, "unsafe_path", str(unsafe_id(c.image_id)), c.meta_file, c.line)
        for c in unsafe
    ]


def _label_from_metadata(
    cands: list[Candidate], metadata: Path, notes: dict[str, Any]
) -> list[Exclusion]:
    layout = detect_layout(metadata)
    labelled, excluded = LAYOUT_READERS[layout](metadata)
    by_id = {c.image_id: c for c in labelled}
    unknown = {e.image_id: e for e in excluded}
    out: list[Exclusion] = []
    kept: list[Candidate] = []
    for cand in cands:
        if cand.image_id in unknown:
            out.append(unknown[cand.image_id])
            continue
        if cand.image_id in by_id:
            labels = dict(by_id[cand.image_id].labels)
            labels.pop("source_stems", None)
            cand.labels.update(labels)
        kept.append(cand)
    notes["label_layout"] = layout
    cands[:] = kept
    return out


def _place_one(job: tuple[Candidate, Path, str, int]) -> PlaceResult | Exclusion:
    cand, out_root, link, threshold = job
    assert cand.image_file is not None
    try:
        return place(cand.image_id, cand.image_file, cand.mask_file, out_root, link, threshold)
    except ImageProblemError as problem:
        return Exclusion(
            cand.image_id,
            problem.reason,
            str(problem),
            cand.meta_file or str(cand.image_file),
            cand.line,
        )


def place_all(
    cands: list[Candidate], out_root: Path, link: str, threshold: int, workers: int, progress: bool
) -> list[PlaceResult | Exclusion]:
    """Check and write every candidate's files, in order, over ``workers`` processes."""
    jobs = [(c, out_root, link, threshold) for c in cands]
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(jobs) < _IN_PROCESS_BELOW:
        return [_place_one(j) for j in tqdm(jobs, desc="ingest", unit="img", disable=not progress)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = pool.map(_place_one, jobs, chunksize=16)
        return list(tqdm(results, total=len(jobs), desc="ingest", unit="img", disable=not progress))


@dataclass(frozen=True)
class IngestResult:
    """The ingested set as tables.

    Attributes:
        manifest: One row per ingested image (manifest schema).
        exclusions: One row per excluded image: ``image_id, reason, detail, file, line``.
        summary: Counts for ``summary.json`` and the stage's metrics.
    """

    manifest: pd.DataFrame
    exclusions: pd.DataFrame
    summary: dict[str, Any]


def _row(cand: Candidate, placed: PlaceResult) -> dict[str, Any]:
    labels = dict(cand.labels)
    patient, lesion = labels.pop("patient_id", None), labels.get("lesion_id")
    stand_in = (
        ("patient_id", patient)
        if patient
        else (("lesion_id", lesion) if lesion else ("image_id", cand.image_id))
    )
    labels.setdefault("source", "real")
    for unlabelled in ("diagnosis", "diagnosis_code", "superclass"):
        labels.setdefault(unlabelled, None)
    return {
        "image_id": cand.image_id,
        "image_path": placed.image_path,
        "mask_path": placed.mask_path,
        "patient_id": stand_in[1],
        "patient_id_source": stand_in[0],
        "dataset": cand.dataset,
        **labels,
        "width": placed.width,
        "height": placed.height,
        "converted_from": placed.converted_from,
        "mask_binarized": placed.mask_binarized,
    }


def _summary(
    manifest: pd.DataFrame, exclusions: pd.DataFrame, source: str, notes: dict[str, Any]
) -> dict[str, Any]:
    def counts(column: str, dropna: bool = False) -> dict[str, int]:
        if column not in manifest.columns:
            return {}
        values = manifest[column].value_counts(dropna=dropna).sort_index()
        return {"missing" if is_missing(k) else str(k): int(v) for k, v in values.items()}

    return {
        "source": source,
        "ingested": len(manifest),
        "excluded": len(exclusions),
        "excluded_by_reason": {
            str(k): int(v) for k, v in exclusions["reason"].value_counts().sort_index().items()
        },
        "with_mask": int(manifest["mask_path"].notna().sum()) if len(manifest) else 0,
        "converted": counts("converted_from", dropna=True),
        "masks_binarized": int(manifest["mask_binarized"].fillna(False).sum())
        if len(manifest)
        else 0,
        "superclass": counts("superclass"),
        "fst_label": counts("fst_label", dropna=True),
        "patient_id_source": counts("patient_id_source"),
        "patients": int(manifest["patient_id"].nunique()) if len(manifest) else 0,
        "unlabelled": sorted(manifest.loc[manifest["superclass"].isna(), "image_id"].tolist())
        if len(manifest)
        else [],
        **notes,
    }


def ingest(
    inputs: IngestInputs,
    out_dir: Path,
    link: str = "hardlink",
    mask_threshold: int = MASK_THRESHOLD,
    workers: int = 0,
    progress: bool = True,
) -> IngestResult:
    """Ingest one source into ``out_dir``; every excluded image is listed with its reason.

    Args:
        inputs: The source layout and its files.
        out_dir: Output folder, replaced atomically.
        link: ``hardlink`` or ``copy`` for unchanged images.
        mask_threshold: Threshold for non-binary masks (0..255 scale).
        workers: Processes for checking images; 0 means one per core.
        progress: Show a progress bar.

    Returns:
        The manifest, the exclusions and the summary, as written.

    Raises:
        benchmark.ingest.tables.IngestError: If metadata is missing or lacks a column.
    """
    cands, exclusions, notes = collect(inputs)
    with atomic_path(Path(out_dir)) as tmp:
        (tmp / "images").mkdir(parents=True)
        (tmp / "masks").mkdir()
        results = place_all(cands, tmp, link, mask_threshold, workers, progress)
        rows = [
            _row(c, r) for c, r in zip(cands, results, strict=True) if isinstance(r, PlaceResult)
        ]
        exclusions += [r for r in results if isinstance(r, Exclusion)]
        notes["masks_full"] = sum(1 for r in results if isinstance(r, PlaceResult) and r.mask_full)
        manifest = pd.DataFrame(rows) if rows else _empty_manifest()
        excl = pd.DataFrame(
            [e.__dict__ for e in exclusions],
            columns=["image_id", "reason", "detail", "file", "line"],
        )
        excl["line"] = excl["line"].astype("Int64")
        write_manifest(
            manifest,
            tmp / "manifest.parquet",
            data_root=tmp,
            name=Path(out_dir) / "manifest.parquet",
        )
        excl.to_csv(tmp / "exclusions.csv", index=False)
        summary = _summary(manifest, excl, inputs.source, notes)
        write_json_atomic(tmp / "summary.json", summary)
    return IngestResult(manifest, excl, summary)


def _empty_manifest() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype="object") for name in REQUIRED})


def metrics_of(summary: dict[str, Any]) -> dict[str, Any]:
    """The numeric part of a summary, for ``metrics/ingest.json`` and MLflow."""
    keep = (
        "ingested",
        "excluded",
        "with_mask",
        "masks_binarized",
        "masks_full",
        "patients",
        "excluded_by_reason",
        "superclass",
        "fst_label",
        "patient_id_source",
    )
    out = {k: summary[k] for k in keep if k in summary}
    out["converted"] = sum(summary.get("converted", {}).values())
    for listed in ("orphan_masks", "unlabelled"):
        if listed in summary:
            out[listed] = len(summary[listed])
    return out


def ingest_from_config(
    cfg: IngestConfig, raw_dir: Path, out_dir: Path, progress: bool = True
) -> IngestResult:
    """Run ingest as the ``ingest`` stage configures it.

    For ``source: phantoms`` the phantom set is generated first (from ``cfg.phantoms``)
    into a scratch folder beside ``out_dir`` and ingested like any other source; otherwise
    ``cfg``'s relative paths are resolved against ``raw_dir``.

    Args:
        cfg: The stage's config.
        raw_dir: Folder of the raw data (unused for phantoms).
        out_dir: Output folder.
        progress: Show progress bars.

    Returns:
        The ingest result.
    """

    def under_raw(rel: str) -> Path | None:
        return Path(raw_dir) / rel if rel else None

    common = {
        "link": cfg.link,
        "mask_threshold": cfg.mask_threshold,
        "workers": cfg.workers,
        "progress": progress,
    }
    if cfg.source == "phantoms":
        Path(out_dir).parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=Path(out_dir).parent, prefix=".phantoms-") as tmp:
            folder = Path(tmp) / "phantoms"
            generate_phantoms(cfg.phantoms, folder, progress=progress, workers=cfg.workers)
            return ingest(IngestInputs("phantoms", folder), out_dir, **common)  # type: ignore[arg-type]
    inputs = IngestInputs(
        cfg.source,
        Path(raw_dir) / cfg.images,
        under_raw(cfg.metadata),
        under_raw(cfg.masks),
        under_raw(cfg.extra_metadata),
    )
    return ingest(inputs, out_dir, **common)  # type: ignore[arg-type]
