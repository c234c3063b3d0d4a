"""Read a phantom folder (written by ``skinbench phantoms``) as an ingest source."""

from __future__ import annotations

from pathlib import Path

from benchmark.core.manifest import ManifestError, is_missing, read_manifest
from benchmark.ingest.tables import Candidate, Exclusion, IngestError

# Columns that ingest recomputes from the files themselves.
_RECOMPUTED = (
    "image_id",
    "image_path",
    "mask_path",
    "width",
    "height",
    "converted_from",
    "mask_binarized",
    "dataset",
)


def read_phantom_folder(folder: Path) -> tuple[list[Candidate], list[Exclusion]]:
    """Candidates for every row of ``folder/manifest.parquet``, carrying its ground truth.

    Raises:
        IngestError: If the manifest is missing or invalid (a ``../`` path is refused here).
    """
    manifest = Path(folder) / "manifest.parquet"
    try:
        frame = read_manifest(manifest)
    except ManifestError as exc:
        raise IngestError(str(exc)) from exc
    candidates = []
    for index, row in enumerate(frame.to_dict("records")):
        labels = {
            str(k): (None if is_missing(v) else v) for k, v in row.items() if k not in _RECOMPUTED
        }
        mask = row.get("mask_path")
        candidates.append(
            Candidate(
                str(row["image_id"]),
                "phantoms",
                image_file=Path(folder) / str(row["image_path"]),
                mask_file=None if is_missing(mask) else Path(folder) / str(mask),
                labels=labels,
                line=index,
                meta_file=str(manifest),
            )
        )
    return candidates, []
