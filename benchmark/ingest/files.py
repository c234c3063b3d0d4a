"""Finding image and mask files on disk.

By stem for metadata layouts; by pairing for segmentation folders (ISIC 2016-2018 suffixes,
sibling mask folders, PH2).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from benchmark.ingest.tables import Candidate, Exclusion

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
# Lower-cased; ISIC 2016 writes "_Segmentation", 2017/2018 "_segmentation", PH2 "_lesion".
MASK_SUFFIXES = ("_segmentation", "_lesion")
PH2_ROI_DIR_SUFFIX = "_roi"  # PH2 colour-region labels, not lesion images


def index_by_stem(folder: Path) -> dict[str, list[Path]]:
    """Map each file stem under ``folder`` (recursively) to the image files with that stem."""
    index: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(Path(folder).rglob("*")):
        if path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith("."):
            index[path.stem].append(path)
    return index


def attach_images(candidates: list[Candidate], folder: Path) -> list[Exclusion]:
    """Find each candidate's image file by stem; return exclusions for missing/ambiguous ones.

    Candidates that are kept get ``image_file`` set; the others are removed from the list.
    """
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: image folder not found")
    index = index_by_stem(folder)
    kept: list[Candidate] = []
    excluded: list[Exclusion] = []
    for cand in candidates:
        stems: tuple[str, ...] = cand.labels.pop("source_stems", (cand.image_id,))  # type: ignore[assignment]
        files = [f for stem in stems for f in index.get(stem, [])]
        if not files:
            excluded.append(
                Exclusion(
                    cand.image_id,
                    "missing_file",
                    f"no image file named {stems[0]}.* under {folder}",
                    cand.meta_file,
                    cand.line,
                )
            )
        elif len(files) > 1:
            excluded.append(
                Exclusion(
                    cand.image_id,
                    "ambiguous_file",
                    f"several files match: {[str(f) for f in files]}",
                    cand.meta_file,
                    cand.line,
                )
            )
        else:
            cand.image_file = files[0]
            kept.append(cand)
    candidates[:] = kept
    return excluded


def _mask_base(path: Path, mask_dirs: tuple[Path, ...]) -> str | None:
    """The image stem a mask file belongs to, or ``None`` if ``path`` is not a mask."""
    lower = path.stem.lower()
    for suffix in MASK_SUFFIXES:
        if lower.endswith(suffix):
            return path.stem[: -len(suffix)]
    if any(path.is_relative_to(d) for d in mask_dirs):
        return path.stem
    if any("mask" in part.lower() for part in path.parent.parts[-1:]):
        return path.stem
    return None


def pair_segmentation_folder(
    folder: Path, masks: Path | None = None
) -> tuple[list[Candidate], list[Exclusion], list[str]]:
    """Pair images with masks by stem.

    Masks are files whose stem ends in ``_segmentation``/``_Segmentation``/``_lesion``, or
    that lie in ``masks`` or in a folder whose name contains ``mask``. In a PH2 tree
    (``IMDnnn/IMDnnn_Dermoscopic_Image/IMDnnn.bmp``) the colour-region files in
    ``IMDnnn_roi/`` are skipped, so they are not taken for lesion images.

    Args:
        folder: Root of the images (and masks, unless ``masks`` is given).
        masks: Optional separate mask folder.

    Returns:
        ``(candidates, exclusions, orphan_masks)``; images without exactly one mask are
        excluded; masks without an image are listed by path.
    """
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: segmentation folder not found")
    mask_dirs = (masks,) if masks is not None else ()
    files = [
        p
        for root in (folder, *mask_dirs)
        for p in sorted(root.rglob("*"))
        if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")
    ]
    images: dict[str, list[Path]] = defaultdict(list)
    mask_files: dict[str, list[Path]] = defaultdict(list)
    for path in dict.fromkeys(files):
        base = _mask_base(path, mask_dirs)
        if base is not None:
            mask_files[base].append(path)
        elif not path.parent.name.lower().endswith(PH2_ROI_DIR_SUFFIX):
            images[path.stem].append(path)
    candidates, exclusions = [], []
    for stem, paths in sorted(images.items()):
        found = mask_files.get(stem, [])
        if len(paths) > 1 or len(found) != 1:
            reason = (
                ("ambiguous_file", f"several images: {[str(p) for p in paths]}")
                if len(paths) > 1
                else (
                    "missing_mask" if not found else "ambiguous_mask",
                    f"{len(found)} masks for {paths[0]}: {[str(f) for f in found]}",
                )
            )
            exclusions.append(Exclusion(stem, reason[0], reason[1], str(paths[0])))
            continue
        candidates.append(
            Candidate(stem, "segmentation-folder", image_file=paths[0], mask_file=found[0])
        )
    orphans = sorted(str(p) for base, ps in mask_files.items() if base not in images for p in ps)
    return candidates, exclusions, orphans
