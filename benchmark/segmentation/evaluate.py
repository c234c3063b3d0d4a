"""Score a folder of predicted lesion masks against a folder of reference masks.

Files are matched by mask id: the file stem without a mask suffix (``_segmentation``,
``_Segmentation``, ``_lesion``; case-insensitive, as in ingest), so
``ISIC_0000031_Segmentation.png`` and ``ISIC_0000031.png`` match. Only the files directly in
each folder count, and only image files. Metrics and the empty-mask policy are those of
:mod:`benchmark.metrics.segmentation`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from benchmark.core.fitzpatrick import MISSING, UNCERTAIN
from benchmark.core.imaging import open_image
from benchmark.ingest.files import MASK_SUFFIXES
from benchmark.metrics.equity import equity_scaled
from benchmark.metrics.segmentation import (
    BoolMask,
    MaskError,
    as_binary,
    by_group,
    score_pair,
    summarise,
)

MASK_FILE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif")
PROGRESS_MIN_FILES = 50  # below this a progress bar is noise


def mask_id(path: Path) -> str:
    """The image id of a mask file: its stem without a mask suffix (case-insensitive)."""
    stem = path.stem
    for suffix in MASK_SUFFIXES:
        if stem.lower().endswith(suffix):
            return stem[: -len(suffix)]
    return stem


def index_masks(folder: Path, what: str) -> dict[str, Path]:
    """Map mask id to file for the image files directly in ``folder`` (hidden files skipped).

    Args:
        folder: Folder of mask files.
        what: How to name the folder in errors (``"truth"``, ``"prediction"``).

    Returns:
        ``{image_id: path}``, sorted by id.

    Raises:
        FileNotFoundError: ``folder`` is not a directory.
        ValueError: Two files in ``folder`` have the same id (both are named).
    """
    if not folder.is_dir():
        raise FileNotFoundError(f"{what} folder {folder} not found")
    index: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in MASK_FILE_EXTENSIONS:
            continue
        if not path.is_file():
            continue
        key = mask_id(path)
        if key in index:
            index[key] = _one_mask(index[key], path, folder, what)
        else:
            index[key] = path
    return dict(sorted(index.items()))


def _one_mask(first: Path, second: Path, folder: Path, what: str) -> Path:
    """Of two files with one id, the one with a mask suffix.

    ISIC folders hold image and mask side by side (``X.jpg`` beside ``X_Segmentation.png``):
    the unsuffixed file is the image.
    """
    suffixed = [p for p in (first, second) if p.stem != mask_id(p)]
    if len(suffixed) == 1:
        return suffixed[0]
    raise ValueError(
        f"{what} folder {folder}: {first.name} and {second.name} both have image id "
        f"{mask_id(first)}; keep one mask per image in the folder"
    )


def read_mask(path: Path, what: str = "mask") -> BoolMask:
    """Read a binary mask file.

    Args:
        path: 8-bit grayscale (``L``, values 0 and 255 only) or 1-bit (``1``) image file.
        what: How to name the file in errors.

    Returns:
        Bool array of shape (H, W), True for lesion.

    Raises:
        benchmark.core.imaging.ImageProblemError: Missing, empty or unreadable file.
        MaskError: Another image mode, or grey values other than 0 and 255; names the file.
    """
    image = open_image(path, what)
    if image.mode == "1":
        return np.asarray(image, dtype=bool)
    if image.mode != "L":
        raise MaskError(
            f"{what} {path} has image mode {image.mode}; expected a single-channel "
            "8-bit (L) or 1-bit mask with values 0 and 255"
        )
    return as_binary(np.asarray(image, dtype=np.uint8), f"{what} {path}")


def score_files(truth_path: Path, pred_path: Path) -> dict[str, float]:
    """Score one predicted mask file against its reference mask file.

    Returns:
        ``{metric: value}`` as :func:`benchmark.metrics.segmentation.score_pair` gives it.

    Raises:
        MaskError: A mask is not binary, or the sizes differ (both files and sizes named).
    """
    truth = read_mask(truth_path, "truth mask")
    pred = read_mask(pred_path, "predicted mask")
    if truth.shape != pred.shape:
        (th, tw), (ph, pw) = truth.shape, pred.shape
        raise MaskError(
            f"truth mask {truth_path} is {tw}x{th} (WxH) but predicted mask {pred_path} "
            f"is {pw}x{ph}"
        )
    return score_pair(truth, pred)


def _groups(ids: list[str], manifest: pd.DataFrame, group_col: str) -> list[Any]:
    missing = [c for c in ("image_id", group_col) if c not in manifest.columns]
    if missing:
        raise ValueError(f"manifest has no column(s) {missing}; needed to group by {group_col}")
    duplicated = manifest["image_id"][manifest["image_id"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"manifest repeats image_id {duplicated[:5]}")
    lookup = dict(zip(manifest["image_id"].astype(str), manifest[group_col], strict=True))
    return [lookup.get(i) for i in ids]  # absent -> None -> group "missing"


def evaluate_folders(
    truth_dir: Path,
    pred_dir: Path,
    manifest: pd.DataFrame | None = None,
    group_col: str = "fst",
) -> dict[str, Any]:
    """Score every predicted mask against the reference mask with the same id.

    Args:
        truth_dir: Folder of reference masks.
        pred_dir: Folder of predicted masks.
        manifest: Optional table with ``image_id`` and ``group_col``; adds ``by_group``.
        group_col: Manifest column to group by (the ITA-estimated skin type by default).

    Returns:
        JSON-able dict (NaN kept as float NaN): ``per_image`` (``image_id`` and every
        metric, sorted by id), ``mean``, ``n_defined``, ``n_images``, ``empty_cases``,
        ``missing_predictions`` (truth ids without a prediction, not scored) and
        ``n_missing_predictions``, ``unmatched_predictions`` (names of prediction files
        without a truth) and ``n_unmatched_predictions``; with a manifest also ``by_group``
        (``{group: {support, mean, n_defined, empty_cases}}``, ids absent from the
        manifest or without a value in group ``"missing"``).

    Raises:
        FileNotFoundError: A folder does not exist.
        benchmark.core.imaging.ImageProblemError: A mask file is empty or unreadable (named).
        ValueError: Duplicate ids in a folder, a bad mask or size mismatch (file named),
            or a manifest without the needed columns.
    """
    truths = index_masks(Path(truth_dir), "truth")
    preds = index_masks(Path(pred_dir), "prediction")
    matched = [i for i in truths if i in preds]
    per_image: list[dict[str, Any]] = []
    for image_id in tqdm(
        matched, desc="scoring masks", unit="mask", disable=len(matched) < PROGRESS_MIN_FILES
    ):
        per_image.append({"image_id": image_id, **score_files(truths[image_id], preds[image_id])})
    result: dict[str, Any] = {"per_image": per_image, **summarise(per_image)}
    result["missing_predictions"] = [i for i in truths if i not in preds]
    result["n_missing_predictions"] = len(result["missing_predictions"])
    result["unmatched_predictions"] = [p.name for i, p in preds.items() if i not in truths]
    result["n_unmatched_predictions"] = len(result["unmatched_predictions"])
    if manifest is not None:
        result["by_group"] = by_group(per_image, _groups(matched, manifest, group_col))
        result["equity_scaled"] = equity_scaled_dice(result)
    return result


def equity_scaled_dice(result: dict[str, Any]) -> dict[str, Any]:
    """Equity-scaled mean Dice over the skin-type groups of a result with ``by_group``.

    Groups ``uncertain`` and ``missing`` are not skin types and take no part
    (:func:`benchmark.metrics.equity.equity_scaled`).
    """
    groups = {
        str(g): float(v["mean"]["dice"])
        for g, v in result["by_group"].items()
        if g not in (UNCERTAIN, MISSING)
    }
    es = equity_scaled(float(result["mean"]["dice"]), groups)
    return {"dice": es.value, "groups": sorted(groups), "reason": es.reason}


def read_groups(path: Path, group_col: str = "fst") -> pd.DataFrame:
    """Read ``image_id`` and ``group_col`` from a Parquet or CSV table (a manifest or not).

    Raises:
        ValueError: If the file cannot be read or lacks either column; the file is named.
    """
    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype=str)
    except Exception as exc:  # pandas and pyarrow raise many types for a bad file
        raise ValueError(f"{path}: cannot read table: {exc}") from exc
    missing = [c for c in ("image_id", group_col) if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}")
    return frame[["image_id", group_col]]
