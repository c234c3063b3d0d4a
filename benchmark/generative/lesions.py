"""Does a synthetic image contain a lesion? An objective check, measured against real images.

A synthetic image *contains a lesion* when the suite's Max-Flow segmenter
(:func:`benchmark.core.maxflow.segment`) finds a region covering ``MIN_AREA`` to
``MAX_AREA`` of the image whose mean colour differs from the mean colour of the rest by at
least half the median such difference over the real dark-skin reference images (CIE76
ΔE*ab, CIELAB of the sRGB pixels; the real images use their ground-truth masks where they
have them, else Max-Flow's), *and* by at least the skin's own colour spread (root mean
square ΔE of the skin pixels from their mean: a contrast-to-noise ratio of 1).

Half the median, because lesion contrast on dark skin is low and varies: a generated lesion
as faint as a faint real one still counts. The contrast-to-noise condition is what tells a
lesion from blotchy texture: on the textures an undertrained generator draws, Max-Flow finds
a dark region of sufficient ΔE, but no darker than the skin around it varies (measured on
phantoms: real V–VI images at the generator's 32 px have contrast-to-noise 1.5 at their 10th
percentile, lesion-less textures 0.7 at their median).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from benchmark.core.color import srgb_to_lab
from benchmark.core.imaging import open_image, to_rgb8
from benchmark.core.maxflow import MaxflowParams, segment

MIN_AREA = 0.02  # share of the image: smaller is a speck, not a lesion
MAX_AREA = 0.60  # larger leaves too little skin to call the region a lesion on skin
CONTRAST_SHARE = 0.5  # of the real reference images' median lesion-skin ΔE
LESION_COLUMNS = ("lesion_area", "lesion_delta_e", "lesion_skin_spread")


@dataclass(frozen=True)
class LesionMeasure:
    """What the check measures on one image.

    Attributes:
        area: Lesion share of the image, in [0, 1] (0 when none is found).
        delta_e: CIE76 ΔE*ab between the mean lesion and mean skin colour (NaN when the
            mask or its complement is empty).
        skin_spread: Root mean square ΔE*ab of the skin pixels from their mean (NaN as above).
    """

    area: float
    delta_e: float
    skin_spread: float = float("nan")


def measure(rgb: NDArray[np.uint8], mask: NDArray[np.bool_] | None = None) -> LesionMeasure:
    """Area and lesion-skin contrast of one (H, W, 3) uint8 image.

    Args:
        rgb: The image.
        mask: (H, W) lesion mask; None runs Max-Flow.
    """
    lesion = segment(rgb, MaxflowParams()) > 0 if mask is None else mask.astype(bool)
    if lesion.shape != rgb.shape[:2]:
        raise ValueError(f"mask shape {lesion.shape} does not fit image {rgb.shape[:2]}")
    area = float(lesion.mean())
    if not lesion.any() or lesion.all():
        return LesionMeasure(area, float("nan"))
    lab = srgb_to_lab(rgb.reshape(-1, 3)).reshape(rgb.shape)
    skin = lab[~lesion]
    gap = lab[lesion].mean(axis=0) - skin.mean(axis=0)
    spread = np.sqrt(((skin - skin.mean(axis=0)) ** 2).sum(axis=1).mean())
    return LesionMeasure(area, float(np.sqrt((gap**2).sum())), float(spread))


def reference_contrast(paths: list[Path], masks: list[Path | None]) -> float:
    """Median lesion-skin ΔE of real images (ground-truth mask where given); NaN if none."""
    values = []
    for path, mask_path in zip(paths, masks, strict=True):
        rgb = to_rgb8(open_image(path))[0]
        mask = None
        if mask_path is not None:
            mask = np.asarray(open_image(mask_path)) > 127
            mask = mask if mask.ndim == 2 else mask[..., 0]
        values.append(measure(rgb, mask).delta_e)
    finite = [v for v in values if np.isfinite(v)]
    return float(np.median(finite)) if finite else float("nan")


def check_lesions(paths: list[Path], reference_delta_e: float) -> pd.DataFrame:
    """The check on every synthetic image.

    Args:
        paths: Synthetic image files.
        reference_delta_e: :func:`reference_contrast` of the real dark-skin images.

    Returns:
        One row per path: ``lesion_area``, ``lesion_delta_e``, ``lesion_skin_spread`` and
        ``lesion_found`` (bool).
    """
    threshold = CONTRAST_SHARE * reference_delta_e
    rows = []
    for path in paths:
        m = measure(to_rgb8(open_image(path))[0])
        stands_out = bool(m.delta_e >= max(threshold, m.skin_spread))  # NaN compares False
        rows.append(
            {
                "lesion_area": m.area,
                "lesion_delta_e": m.delta_e,
                "lesion_skin_spread": m.skin_spread,
                "lesion_found": MIN_AREA <= m.area <= MAX_AREA and stands_out,
            }
        )
    return pd.DataFrame(rows, columns=[*LESION_COLUMNS, "lesion_found"])
