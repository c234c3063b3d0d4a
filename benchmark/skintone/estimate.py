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

from benchmark.config.data import SkintoneConfig
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


def skin_mask(rgb: NDArray[np.uint8], rule: str = "paper") -> NDArray[np.bool_]:
    """Boolean skin mask of shape (H, W) of a uint8 sRGB image of shape (H, W, 3).

    YCbCr is BT.601 full range (the JPEG convention, OpenCV's ``COLOR_RGB2YCrCb``), rounded
    to integers; both bounds of each range are inclusive.
    """
    (cb_lo, cb_hi), (cr_lo, cr_hi) = SKIN_RULES[rule]
    ycrcb = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YCrCb)
    return cv2.inRange(ycrcb, (0, cr_lo, cb_lo), (255, cr_hi, cb_hi)).astype(bool)


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
    light: NDArray[np.float32],
    yellow: NDArray[np.float32],
    where: NDArray[np.intp],
    shape: tuple[int, int],
    grid: int,
) -> float:
    """Std of ITA over a grid x grid tiling; ``where`` are the pixels' flat indices."""
    height, width = shape
    patch = (where // width * grid // height) * grid + (where % width * grid // width)
    count = np.bincount(patch, minlength=grid * grid)
    ok = count >= _MIN_PATCH_PIXELS
    if ok.sum() < 2:
        return math.nan
    l_sum = np.bincount(patch, weights=light, minlength=grid * grid)
    b_sum = np.bincount(patch, weights=yellow, minlength=grid * grid)
    ita = ita_degrees(l_sum[ok] / count[ok], b_sum[ok] / count[ok])
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


@dataclass(frozen=True)
class _Skin:
    """L*, b* of the skin pixels only, with their flat indices in an image of ``shape``."""

    light: NDArray[np.float32]
    yellow: NDArray[np.float32]
    where: NDArray[np.intp]
    shape: tuple[int, int]
    area: float  # original-resolution pixels per analysed pixel


def _estimate(
    skin: _Skin, keep: NDArray[np.bool_] | None, cfg: SkintoneConfig, center: str, spread: bool
) -> ItaEstimate:
    light, yellow, where = skin.light, skin.yellow, skin.where
    if keep is not None:
        light, yellow, where = light[keep], yellow[keep], where[keep]
    # Counted in original-resolution pixels, so the 500-pixel rule means what the paper meant.
    n = round(light.size * skin.area)
    if n < cfg.min_skin_pixels:
        return ItaEstimate(math.nan, math.nan, math.nan, n, "uncertain", math.nan)
    l_star, b_star = _centre(light, center), _centre(yellow, center)
    ita = float(ita_degrees(l_star, b_star))
    sd = _spread(light, yellow, where, skin.shape, cfg.patch_grid) if spread else math.nan
    return ItaEstimate(ita, l_star, b_star, n, fst_from_ita(ita), sd)


def estimate(
    rgb: NDArray[np.uint8],
    lesion: NDArray[np.bool_] | None,
    cfg: SkintoneConfig,
    area: float = 1.0,
) -> dict[str, ItaEstimate]:
    """Paper, lesion-excluded and robust ITA estimates of one image.

    L* and b* are computed for skin pixels only (often a third of a dermoscopic image).

    Args:
        rgb: uint8 sRGB image, shape (H, W, 3).
        lesion: Boolean lesion mask of shape (H, W), or ``None``.
        cfg: Rule, thresholds and robust options; ``spread`` is computed for ``cfg.primary``.
        area: Original-resolution pixels per analysed pixel, when the image was decoded at
            reduced size; skin pixel counts and the minimum refer to original pixels.

    Returns:
        ``{"paper": ..., "robust": ...}`` and, when ``lesion`` is given, ``"lesion_excluded"``
        (the paper rule without the lesion pixels).
    """
    shape = (rgb.shape[0], rgb.shape[1])
    if lesion is not None and lesion.shape != shape:
        raise ValueError(
            f"lesion mask is {lesion.shape[1]}x{lesion.shape[0]} but the image is "
            f"{shape[1]}x{shape[0]}"
        )
    where = np.flatnonzero(skin_mask(rgb, cfg.rule))
    light, yellow = lightness_and_b(rgb.reshape(-1, 3)[where])
    skin = _Skin(light, yellow, where, shape, area)
    out = {"paper": _estimate(skin, None, cfg, "mean", cfg.primary == "paper")}
    robust = central_ellipse(*shape, cfg.border).ravel()[where]
    if lesion is not None:
        outside = ~_grow(lesion, cfg.lesion_margin).ravel()[where]
        out["lesion_excluded"] = _estimate(skin, outside, cfg, "mean", False)
        if cfg.exclude_lesion:
            robust = robust & outside
    out["robust"] = _estimate(skin, robust, cfg, cfg.center, cfg.primary == "robust")
    return out
