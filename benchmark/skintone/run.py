"""ITA over many images: loading at analysis resolution, parallel estimation, manifest columns."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from PIL import Image
from tqdm import tqdm

from benchmark.core.config.data import SkintoneConfig
from benchmark.core.imaging import MASK_THRESHOLD, ImageProblemError, open_image, to_mask, to_rgb8
from benchmark.skintone.estimate import ItaEstimate, estimate

ESTIMATES = ("paper", "paper_guarded", "lesion_excluded", "robust")
_IN_PROCESS_BELOW = 16


def _reduced(image: Image.Image, max_side: int) -> Image.Image:
    """Decode at no less than ``max_side`` on the longer side: JPEG DCT scaling, else box.

    Non-JPEG images are converted to 8-bit RGB first (``reduce`` refuses 16-bit, palette and
    1-bit modes).
    """
    width, height = image.size
    if not max_side or max(width, height) <= max_side:
        image.load()
        return image
    scale = max_side / max(width, height)
    if image.format == "JPEG":
        image.draft("RGB", (max(1, round(width * scale)), max(1, round(height * scale))))
        image.load()
        return image
    factor = int(1 / scale)
    if factor < 2:
        image.load()
        return image
    return Image.fromarray(to_rgb8(image)[0]).reduce(factor)


Loaded = tuple[NDArray[np.uint8], NDArray[np.bool_] | None, float]


def load_for_ita(image_path: Path, mask_path: Path | None, max_side: int) -> Loaded:
    """Read an image (any mode) and its lesion mask at analysis resolution.

    Args:
        image_path: The image.
        mask_path: Its lesion mask (same size as the image), or ``None``.
        max_side: See :class:`benchmark.core.config.data.SkintoneConfig`.

    Returns:
        ``(rgb, lesion, area)``: uint8 (H, W, 3), a bool (H, W) mask or ``None``, and the
        number of original pixels per analysed pixel.

    Raises:
        ImageProblemError: Unreadable image or mask, or a mask whose size differs from the
            image's (both sizes and files named).
    """
    image = open_image(image_path) if max_side == 0 else _lazy(image_path)
    original = image.size
    image = _reduced(image, max_side)
    rgb, _ = to_rgb8(image)
    lesion = None
    if mask_path is not None:
        mask_image = open_image(mask_path, "mask")
        if mask_image.size != original:
            raise ImageProblemError(
                "mask_size_mismatch",
                (
                    f"mask {mask_path} is {mask_image.size[0]}x{mask_image.size[1]} but image "
                    f"{image_path} is {original[0]}x{original[1]}"
                ),
            )
        if mask_image.size != image.size:
            mask_image = mask_image.resize(image.size, Image.Resampling.NEAREST)
        lesion = to_mask(mask_image, MASK_THRESHOLD)[0] > 0
    area = original[0] * original[1] / (rgb.shape[0] * rgb.shape[1])
    return rgb, lesion, area


def _lazy(path: Path) -> Image.Image:
    """Open without decoding (so JPEG DCT scaling can apply); errors as :func:`open_image`."""
    if not Path(path).is_file() or Path(path).stat().st_size == 0:
        return open_image(path)  # raises the specific problem
    try:
        return Image.open(path)
    except Exception:  # PIL raises many types for a bad header
        return open_image(path)


def estimate_path(
    image_path: Path, mask_path: Path | None, cfg: SkintoneConfig
) -> dict[str, ItaEstimate]:
    """All estimates for one image file (see :func:`benchmark.skintone.estimate.estimate`)."""
    try:
        rgb, lesion, area = load_for_ita(image_path, mask_path, cfg.max_side)
    except ImageProblemError:
        raise
    except Exception as exc:  # a truncated JPEG fails at load time under draft()
        raise ImageProblemError("unreadable_image", f"image {image_path}: {exc}") from exc
    return estimate(rgb, lesion, cfg, area)


def _job(args: tuple[Path, Path | None, SkintoneConfig]) -> dict[str, ItaEstimate] | str:
    try:
        return estimate_path(*args)
    except ImageProblemError as problem:
        return str(problem)


def worker_start() -> None:
    """Start a worker with one thread: the pool already runs a process per core.

    OpenCV's and OpenBLAS's own threads on top of it would fight over the same cores (in
    the pool, the estimate without the Max-Flow lesion step measured slower than with it).
    """
    import cv2
    from threadpoolctl import threadpool_limits

    cv2.setNumThreads(1)
    threadpool_limits(1)


def estimate_many(
    jobs: list[tuple[Path, Path | None]], cfg: SkintoneConfig, progress: bool = True
) -> list[dict[str, ItaEstimate] | str]:
    """Estimate every (image, mask) in order, over ``cfg.workers`` processes.

    Returns:
        Per job, the estimates, or the error message of an unreadable file.
    """
    tasks = [(image, mask, cfg) for image, mask in jobs]
    workers = cfg.workers or os.cpu_count() or 1
    bar = {"total": len(tasks), "desc": "ITA", "unit": "img", "disable": not progress}
    if workers == 1 or len(tasks) < _IN_PROCESS_BELOW:
        return [_job(t) for t in tqdm(tasks, **bar)]  # type: ignore[call-overload]
    with ProcessPoolExecutor(max_workers=workers, initializer=worker_start) as pool:
        return list(tqdm(pool.map(_job, tasks, chunksize=8), **bar))  # type: ignore[call-overload]


def _columns(result: dict[str, ItaEstimate] | str, primary: str) -> dict[str, Any]:
    if isinstance(result, str):
        return {
            "ita": np.nan,
            "l_star": np.nan,
            "b_star": np.nan,
            "skin_pixels": 0,
            "fst": "uncertain",
            "ita_spread": np.nan,
            "ita_mask_source": None,
            "ita_note": None,
            "skintone_error": result,
        }
    main = result[primary]
    row: dict[str, Any] = {
        "ita": main.ita,
        "l_star": main.l_star,
        "b_star": main.b_star,
        "skin_pixels": main.skin_pixels,
        "fst": main.fst,
        "ita_spread": main.spread,
        "ita_mask_source": result["robust"].mask_source,
        "ita_note": result["robust"].note or None,
        "skintone_error": None,
    }
    for name in ESTIMATES:
        est = result.get(name)
        row[f"ita_{name}"] = est.ita if est else np.nan
        row[f"fst_{name}"] = est.fst if est else None
    return row


def add_skintone(
    manifest: pd.DataFrame, root: Path, cfg: SkintoneConfig, progress: bool = True
) -> pd.DataFrame:
    """Return ``manifest`` with ITA columns for every image.

    Adds ``ita, l_star, b_star, skin_pixels, fst, ita_spread`` (from the ``cfg.primary``
    estimate), ``ita_<e>``, ``fst_<e>`` for ``e`` in paper, paper_guarded, lesion_excluded
    (only where a mask exists) and robust, and the robust estimate's ``ita_mask_source``
    (``ground_truth``, ``estimated``, ``none``) with ``ita_note`` (why it fell back). An
    unreadable image gets ``uncertain`` and ``skintone_error``.

    Args:
        manifest: Rows with ``image_path`` and optional ``mask_path``, relative to ``root``.
        root: The data root.
        cfg: Estimation settings.
        progress: Show a progress bar.
    """
    masks = manifest["mask_path"] if "mask_path" in manifest else pd.Series([None] * len(manifest))
    jobs = [
        (root / str(image), None if pd.isna(mask) else root / str(mask))
        for image, mask in zip(manifest["image_path"], masks, strict=True)
    ]
    results = estimate_many(jobs, cfg, progress)
    columns = pd.DataFrame([_columns(r, cfg.primary) for r in results], index=manifest.index)
    out = manifest.drop(columns=[c for c in columns.columns if c in manifest.columns])
    return pd.concat([out, columns], axis=1)


CSV_COLUMNS = ("image_id", "ita", "l_star", "b_star", "skin_pixels", "fst", "note")
ROBUST_COLUMNS = ("mask_source",)  # which lesion mask the robust estimate left out


def image_ids(images: list[Path]) -> list[str]:
    """One id per image: its stem, or its path from the common folder where stems collide.

    Two files share a stem as ``x.jpg`` beside ``x.png``, or ``a/x.jpg`` beside ``b/x.jpg``:
    both are then named by their relative path (extension kept), never twice by ``x``.
    """
    stems = [image.stem for image in images]
    shared = {stem for stem in stems if stems.count(stem) > 1}
    if not shared:
        return stems
    root = Path(os.path.commonpath([str(image.parent.resolve()) for image in images]))
    return [
        image.resolve().relative_to(root).as_posix() if image.stem in shared else image.stem
        for image in images
    ]


def find_images(paths: list[Path]) -> list[Path]:
    """Image files named directly or found under folders (mask-like files skipped), sorted."""
    from benchmark.ingest.files import image_and_mask_files

    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += image_and_mask_files(path)[0]
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return sorted(dict.fromkeys(found))


def ita_table(
    images: list[Path],
    masks: Path | None,
    estimate_name: str,
    cfg: SkintoneConfig,
    progress: bool = True,
) -> tuple[pd.DataFrame, list[str]]:
    """ITA of loose image files, one row per image with :data:`CSV_COLUMNS`.

    The robust estimate adds :data:`ROBUST_COLUMNS`. Ids are stems, unique by
    :func:`image_ids`; ``note`` says why an estimate is uncertain or an image unreadable.

    Args:
        images: Image files.
        masks: Folder of lesion masks matched by stem (``X.png``, ``X_segmentation.png``).
            Without it, ``robust`` leaves out the lesion that Max-Flow estimates.
        estimate_name: ``paper``, ``paper_guarded``, ``lesion_excluded`` or ``robust``.
        cfg: Estimation settings.
        progress: Show a progress bar.

    Returns:
        The table and a list of problems (unreadable files, images without a mask when one
        was needed), to print on stderr.
    """
    from benchmark.ingest.files import image_and_mask_files

    by_stem: dict[str, Path] = {}
    if masks is not None:
        # Any file in the folder may be a mask, except the images themselves; files named as
        # masks (X_segmentation.png, masks/X.png) win over bare same-stem files.
        own = set(images)
        loose = image_and_mask_files(masks, masks_only=True)[1]
        by_stem = {k: v for k, v in loose.items() if v not in own}
        by_stem.update(image_and_mask_files(masks)[1])
    jobs = [(image, by_stem.get(image.stem)) for image in images]
    fallback = "an estimated lesion mask" if estimate_name == "robust" else "the paper rule"
    problems = [
        f"{image}: no mask in {masks}; {fallback} used"
        for image, mask in jobs
        if masks is not None and mask is None
    ]
    rows = []
    results = estimate_many(jobs, cfg, progress)
    for image_id, result in zip(image_ids(images), results, strict=True):
        if isinstance(result, str):
            problems.append(result)
            rows.append({"image_id": image_id, "skin_pixels": 0, "fst": "uncertain",
                         "note": f"unreadable: {result}"})  # fmt: skip
            continue
        est = result.get(estimate_name) or result["paper"]
        rows.append(
            {
                "image_id": image_id,
                "ita": est.ita,
                "l_star": est.l_star,
                "b_star": est.b_star,
                "skin_pixels": est.skin_pixels,
                "fst": est.fst,
                "mask_source": est.mask_source if estimate_name == "robust" else None,
                "note": est.note,
            }
        )
    columns = [*CSV_COLUMNS, *(ROBUST_COLUMNS if estimate_name == "robust" else ())]
    return pd.DataFrame(rows).reindex(columns=columns), problems


def ita_summary(table: pd.DataFrame, unreadable: int) -> str:
    """One line for stderr: images, uncertain ones by reason, unreadable ones."""
    uncertain = table[(table["fst"] == "uncertain") & ~table["note"].fillna("").str.startswith(
        "unreadable")]  # fmt: skip
    # A reason's first words name it ("grey image", "12 skin pixels left ..."): counted by them.
    reasons = (
        uncertain["note"]
        .fillna("")
        .map(lambda n: n.split("(")[0].split(":")[0].strip() or "too few skin pixels")
    )
    counted = ", ".join(f"{reason} {n}" for reason, n in reasons.value_counts().items())
    return (
        f"{len(table)} image(s): {len(uncertain)} uncertain"
        + (f" ({counted})" if counted else "")
        + f", {unreadable} unreadable"
    )
