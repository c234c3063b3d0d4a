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
IGNORED_SUFFIXES = ("_superpixels",)  # ISIC 2017 superpixel maps, neither image nor mask
MASK_DIR_WORDS = ("mask", "segmentation", "groundtruth")


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


def _is_mask_dir(name: str) -> bool:
    lower = name.lower().replace(" ", "").replace("-", "").replace("_", "")
    return any(word in lower for word in MASK_DIR_WORDS)


def _mask_base(path: Path, root: Path, mask_dirs: tuple[Path, ...]) -> str | None:
    """The image stem a mask file belongs to, or ``None`` if ``path`` is not a mask."""
    lower = path.stem.lower()
    for suffix in MASK_SUFFIXES:
        if lower.endswith(suffix):
            return path.stem[: -len(suffix)]
    if any(path.is_relative_to(d) for d in mask_dirs):
        return path.stem
    # Only folders below the root count, so a root named "images_and_masks" is no mask folder.
    below = path.relative_to(root).parent.parts if path.is_relative_to(root) else ()
    return path.stem if any(_is_mask_dir(part) for part in below) else None


def _image_files(root: Path) -> list[Path]:
    return [
        p
        for p in sorted(root.rglob("*"))
        if p.suffix.lower() in IMAGE_EXTENSIONS
        and not p.name.startswith(".")
        and not p.stem.lower().endswith(IGNORED_SUFFIXES)
        and not p.parent.name.lower().endswith(PH2_ROI_DIR_SUFFIX)
    ]


def _split(
    files: list[Path], root: Path, mask_dirs: tuple[Path, ...]
) -> tuple[dict[str, list[Path]], dict[str, list[Path]]]:
    images: dict[str, list[Path]] = defaultdict(list)
    masks: dict[str, list[Path]] = defaultdict(list)
    for path in dict.fromkeys(files):
        base = _mask_base(path, root, mask_dirs)
        (masks[base] if base is not None else images[path.stem]).append(path)
    return images, masks


def sibling_mask_dirs(folder: Path) -> tuple[Path, ...]:
    """Folders beside ``folder`` whose name says they hold masks (``masks``, ``GroundTruth``)."""
    return tuple(
        sorted(
            d
            for d in folder.parent.iterdir()
            if d.is_dir() and d != folder and _is_mask_dir(d.name)
        )
    )


def pair_segmentation_folder(
    folder: Path, masks: Path | None = None
) -> tuple[list[Candidate], list[Exclusion], list[str]]:
    """Pair images with masks by stem.

    Masks are files whose stem ends in ``_segmentation``/``_Segmentation``/``_lesion``, that
    lie in ``masks``, or in a folder below ``folder`` named like a mask folder (``masks``,
    ``segmentation``, ``GroundTruth``). When ``folder`` holds no masks and ``masks`` is not
    given, mask folders beside it are used (``images/`` + ``masks/``). In a PH2 tree
    (``IMDnnn/IMDnnn_Dermoscopic_Image/IMDnnn.bmp``) the colour-region files in
    ``IMDnnn_roi/`` are skipped, as are ISIC 2017 ``*_superpixels`` maps.

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
    files = [p for root in (folder, *mask_dirs) for p in _image_files(root)]
    images, mask_files = _split(files, folder, mask_dirs)
    if not mask_files and masks is None and (siblings := sibling_mask_dirs(folder)):
        files += [p for root in siblings for p in _image_files(root)]
        images, mask_files = _split(files, folder, siblings)
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


def attach_masks(candidates: list[Candidate], folder: Path) -> list[Exclusion]:
    """Give metadata-source candidates their mask from ``folder`` (matched by stem).

    Images without a mask keep none; an image with several candidate masks is excluded.
    """
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: mask folder not found")
    _, masks = _split(_image_files(folder), folder, (folder,))
    kept, excluded = [], []
    for cand in candidates:
        found = masks.get(cand.image_id, [])
        if len(found) > 1:
            excluded.append(
                Exclusion(
                    cand.image_id,
                    "ambiguous_mask",
                    f"several masks: {[str(f) for f in found]}",
                    cand.meta_file,
                    cand.line,
                )
            )
            continue
        cand.mask_file = found[0] if found else None
        kept.append(cand)
    candidates[:] = kept
    return excluded


def image_and_mask_files(
    folder: Path, masks_only: bool = False
) -> tuple[list[Path], dict[str, Path]]:
    """Image files under ``folder`` and its masks by image stem (see segmentation rules).

    Args:
        folder: Folder to scan recursively.
        masks_only: Treat every file as a mask (a dedicated mask folder).

    Returns:
        ``(images, masks)``: non-mask image files, and the first mask found per image stem.
    """
    images, masks = _split(_image_files(folder), folder, (folder,) if masks_only else ())
    flat = sorted(p for paths in images.values() for p in paths)
    return flat, {stem: sorted(paths)[0] for stem, paths in masks.items()}
