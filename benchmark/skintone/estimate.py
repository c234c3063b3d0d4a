"""ITA of one image: skin mask in YCbCr, true CIELAB, paper and robust estimates.

Paper rule (section 3.1): skin pixels are those with Cb in [77, 173] and Cr in [133, 255]
(inclusive; the classic rule is Cb [77, 127], Cr [133, 173]); L* and b* are averaged over all
of them, lesion included; fewer than ``min_skin_pixels`` gives ``uncertain``. ITA and the FST
bins are in :mod:`benchmark.skintone.fitzpatrick` (b* <= 0 gives NaN and ``uncertain``).

Robust variant: the same skin mask, minus the lesion (dilated by a margin) where a mask
exists, minus everything outside a central ellipse (vignetting, dermoscope rims), with a
median (or mean) as centre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmark.config import SkintoneConfig
from benchmark.skintone.color import lightness_and_b
from benchmark.skintone.fitzpatrick import fst_from_ita, ita_degrees

SKIN_RULES = {"paper": ((77, 173), (133, 255)), "classic": ((77, 127), (133, 173))}
_MIN_PATCH_PIXELS = 50
TRIM = 0.1  # the trimmed centre drops this share of values at each end


@dataclass(frozen=True)
class ItaEstimate:
    """One ITA estimate.

    Attributes:
        ita: Individual Typology Angle in degrees (NaN when uncertain).
        l_star: Centre of L* over the pixels used (0..100).
        b_star: Centre of b* over the pixels used.
        skin_pixels: Number of pixels used (at the analysed resolution).
        fst: ``I``..``VI`` or ``uncertain``.
        spread: Std (degrees) of ITA over skin patches: an uncertainty (NaN if < 2 patches).
    """

    ita: float
    l_star: float
    b_star: float
    skin_pixels: int
    fst: str
    spread: float


def skin_mask(ycbcr: NDArray[np.uint8], rule: str = "paper") -> NDArray[np.bool_]:
    """Boolean skin mask of shape (H, W) from a uint8 YCbCr image of shape (H, W, 3)."""
    (cb_lo, cb_hi), (cr_lo, cr_hi) = SKIN_RULES[rule]
    cb, cr = ycbcr[..., 1], ycbcr[..., 2]
    return np.asarray((cb >= cb_lo) & (cb <= cb_hi) & (cr >= cr_lo) & (cr <= cr_hi))


@lru_cache(maxsize=16)
def central_ellipse(height: int, width: int, border: float) -> NDArray[np.bool_]:
    """Pixels inside the image's inscribed ellipse shrunk by ``border`` (read-only)."""
    yy, xx = np.ogrid[0:height, 0:width]
    ry, rx = (1 - border) * height / 2, (1 - border) * width / 2
    inside = ((yy - (height - 1) / 2) / ry) ** 2 + ((xx - (width - 1) / 2) / rx) ** 2 <= 1
    inside.setflags(write=False)
    return inside


def _grow(lesion: NDArray[np.bool_], margin: float) -> NDArray[np.bool_]:
    radius = round(margin * max(lesion.shape))
    if radius < 1:
        return lesion
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(lesion.astype(np.uint8), kernel).astype(bool)


def _spread(
    light: NDArray[np.float32], yellow: NDArray[np.float32], used: NDArray[np.bool_], grid: int
) -> float:
    """Std of ITA over a grid x grid tiling (patches with too few pixels are skipped)."""
    h, w = (light.shape[0] // grid) * grid, (light.shape[1] // grid) * grid
    if h == 0 or w == 0:
        return math.nan

    def tile_sum(a: NDArray[np.float32]) -> NDArray[np.float64]:
        return np.asarray(
            a[:h, :w].reshape(grid, h // grid, grid, w // grid).sum(axis=(1, 3)), dtype=np.float64
        )

    weights = used.astype(np.float32)
    count = tile_sum(weights)
    ok = count >= _MIN_PATCH_PIXELS
    if ok.sum() < 2:
        return math.nan
    ita = ita_degrees(
        tile_sum(light * weights)[ok] / count[ok], tile_sum(yellow * weights)[ok] / count[ok]
    )
    ita = ita[np.isfinite(ita)]
    return float(np.std(ita, ddof=1)) if ita.size >= 2 else math.nan


def _centre(values: NDArray[np.float32], how: str) -> float:
    if how == "median":
        return float(np.median(values))
    if how == "trimmed":
        cut = int(values.size * TRIM)
        if cut:
            values = np.partition(values, (cut, values.size - cut - 1))[cut : values.size - cut]
    return float(values.mean(dtype=np.float64))


def _estimate(
    light: NDArray[np.float32],
    yellow: NDArray[np.float32],
    used: NDArray[np.bool_],
    cfg: SkintoneConfig,
    center: str,
) -> ItaEstimate:
    n = int(used.sum())
    if n < cfg.min_skin_pixels:
        return ItaEstimate(math.nan, math.nan, math.nan, n, "uncertain", math.nan)
    l_star, b_star = _centre(light[used], center), _centre(yellow[used], center)
    ita = float(ita_degrees(l_star, b_star))
    return ItaEstimate(
        ita, l_star, b_star, n, fst_from_ita(ita), _spread(light, yellow, used, cfg.patch_grid)
    )


def estimate(
    rgb: NDArray[np.uint8],
    ycbcr: NDArray[np.uint8],
    lesion: NDArray[np.bool_] | None,
    cfg: SkintoneConfig,
) -> dict[str, ItaEstimate]:
    """Paper, lesion-excluded and robust ITA estimates of one image.

    Args:
        rgb: uint8 sRGB image, shape (H, W, 3).
        ycbcr: The same image in YCbCr (JPEG/BT.601 full range), shape (H, W, 3).
        lesion: Boolean lesion mask of shape (H, W), or ``None``.
        cfg: Rule, thresholds and robust options.

    Returns:
        ``{"paper": ..., "robust": ...}`` and, when ``lesion`` is given, ``"lesion_excluded"``
        (the paper rule without the lesion pixels).
    """
    if lesion is not None and lesion.shape != rgb.shape[:2]:
        raise ValueError(
            f"lesion mask is {lesion.shape[1]}x{lesion.shape[0]} but the image is "
            f"{rgb.shape[1]}x{rgb.shape[0]}"
        )
    light, yellow = lightness_and_b(rgb)
    skin = skin_mask(ycbcr, cfg.rule)
    out = {"paper": _estimate(light, yellow, skin, cfg, "mean")}
    robust = skin & central_ellipse(*skin.shape, cfg.border)
    if lesion is not None:
        grown = _grow(lesion, cfg.lesion_margin)
        out["lesion_excluded"] = _estimate(light, yellow, skin & ~grown, cfg, "mean")
        if cfg.exclude_lesion:
            robust &= ~grown
    out["robust"] = _estimate(light, yellow, robust, cfg, cfg.center)
    return out
