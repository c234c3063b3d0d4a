"""ITA of one image: the paper's rule (as printed and guarded) and the robust estimate.

Paper rule (section 3.1): skin pixels are those with Cb in [77, 173] and Cr in [133, 255]
(inclusive; the classic rule is Cb [77, 127], Cr [133, 173]), with YCbCr computed the way
OpenCV does it: BT.601 full range from 8-bit RGB, rounded to integers before the bounds are
tested. L* and b* are averaged over all of them, lesion included; fewer than
``min_skin_pixels`` gives ``uncertain``. ``paper`` applies the formula exactly as printed
(b* < 0 flips the angle; see :mod:`benchmark.core.fitzpatrick`); ``paper_guarded`` leaves
b* <= 0 uncertain instead. ``lesion_excluded`` is the printed rule without the ground-truth
lesion. The robust estimate is described in :mod:`benchmark.skintone.robust`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from benchmark.core.color import lightness_and_b
from benchmark.core.config.data import SkintoneConfig
from benchmark.core.fitzpatrick import fst_from_ita, ita_angle, ita_degrees, ita_literal
from benchmark.core.manifest import ItaMaskSource
from benchmark.core.maxflow import field_of_view
from benchmark.skintone import robust as rb
from benchmark.skintone.constancy import GREY_LEVELS, chroma_levels, correct

SKIN_RULES = {"paper": ((77, 173), (133, 255)), "classic": ((77, 127), (133, 173))}
_MIN_PATCH_PIXELS = 50
TRIM = 0.1  # the trimmed centre drops this share of values at each end
ItaFunction = Callable[[ArrayLike, ArrayLike], NDArray[np.float64]]


@dataclass(frozen=True)
class ItaEstimate:
    """One ITA estimate.

    Attributes:
        ita: Individual Typology Angle in degrees (NaN when uncertain).
        l_star: Centre of L* over the pixels used (0..100).
        b_star: Centre of b* over the pixels used.
        skin_pixels: Number of pixels used, in original-resolution pixels.
        fst: ``I``..``VI`` or ``uncertain``.
        spread: Std (degrees) of ITA over skin patches: an uncertainty (NaN if < 2 patches).
        mask_source: Which lesion mask the estimate left out: ``ground_truth``,
            ``estimated`` or ``none``.
        note: Why the estimate fell back or is uncertain, where a rule decided it ("").
    """

    ita: float
    l_star: float
    b_star: float
    skin_pixels: int
    fst: str
    spread: float
    mask_source: str = "none"
    note: str = ""


def skin_mask(rgb: NDArray[np.uint8], rule: str = "paper") -> NDArray[np.bool_]:
    """Boolean skin mask of shape (H, W) of a uint8 sRGB image of shape (H, W, 3).

    YCbCr is BT.601 full range (the JPEG convention, OpenCV's ``COLOR_RGB2YCrCb``), rounded
    to integers; both bounds of each range are inclusive.
    """
    (cb_lo, cb_hi), (cr_lo, cr_hi) = SKIN_RULES[rule]
    ycrcb = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YCrCb)
    return np.asarray(cv2.inRange(ycrcb, (0, cr_lo, cb_lo), (255, cr_hi, cb_hi)).astype(bool))


@lru_cache(maxsize=16)
def central_ellipse(height: int, width: int, border: float) -> NDArray[np.bool_]:
    """Pixels inside the image's inscribed ellipse shrunk by ``border`` (read-only)."""
    yy, xx = np.ogrid[0:height, 0:width]
    ry, rx = (1 - border) * height / 2, (1 - border) * width / 2
    inside = ((yy - (height - 1) / 2) / ry) ** 2 + ((xx - (width - 1) / 2) / rx) ** 2 <= 1
    inside.setflags(write=False)
    return inside


def _spread(
    light: NDArray[np.float32],
    yellow: NDArray[np.float32],
    where: NDArray[np.intp],
    shape: tuple[int, int],
    grid: int,
    ita: ItaFunction,
) -> float:
    """Std of ITA over a grid x grid tiling; ``where`` are the pixels' flat indices."""
    height, width = shape
    patch = (where // width * grid // height) * grid + (where % width * grid // width)
    count = np.bincount(patch, minlength=grid * grid)
    ok = count >= _MIN_PATCH_PIXELS
    if ok.sum() < 2:
        return math.nan
    l_sum = np.bincount(patch, weights=light[where], minlength=grid * grid)
    b_sum = np.bincount(patch, weights=yellow[where], minlength=grid * grid)
    values = ita(l_sum[ok] / count[ok], b_sum[ok] / count[ok])
    values = values[np.isfinite(values)]
    return float(np.std(values, ddof=1)) if values.size >= 2 else math.nan


def _centre(values: NDArray[np.float32], how: str) -> float:
    if how == "median":
        return float(np.median(values))
    if how == "trimmed":
        cut = int(values.size * TRIM)
        if cut:
            values = np.partition(values, (cut, values.size - cut - 1))[cut : values.size - cut]
    return float(values.mean(dtype=np.float64))


@dataclass(frozen=True)
class _Image:
    """L*, b* of every pixel (flat), the RGB pixels and the analysis geometry."""

    rgb: NDArray[np.uint8]  # (H*W, 3)
    light: NDArray[np.float32]
    yellow: NDArray[np.float32]
    shape: tuple[int, int]
    area: float  # original-resolution pixels per analysed pixel


def _uncertain(n: int, source: str = "none", note: str = "") -> ItaEstimate:
    return ItaEstimate(math.nan, math.nan, math.nan, n, "uncertain", math.nan, source, note)


def _paper(
    image: _Image, where: NDArray[np.intp], cfg: SkintoneConfig, ita: ItaFunction, spread: bool
) -> ItaEstimate:
    """Mean L*, b* over ``where`` (flat indices), typed with ``ita``."""
    # Counted in original-resolution pixels, so the 500-pixel rule means what the paper meant.
    n = round(where.size * image.area)
    if n < cfg.min_skin_pixels:
        return _uncertain(n, note=f"{n} skin pixels (minimum {cfg.min_skin_pixels})")
    l_star = float(image.light[where].mean(dtype=np.float64))
    b_star = float(image.yellow[where].mean(dtype=np.float64))
    value = float(ita(l_star, b_star))
    sd = math.nan
    if spread:
        sd = _spread(image.light, image.yellow, where, image.shape, cfg.patch_grid, ita)
    note = "" if math.isfinite(value) else f"ITA undefined (b* {b_star:.2f} <= 0 under the guard)"
    return ItaEstimate(value, l_star, b_star, n, fst_from_ita(value), sd, note=note)


def _robust(image: _Image, lesion: rb.Lesion, cfg: SkintoneConfig, spread: bool) -> ItaEstimate:
    """The robust estimate (see :mod:`benchmark.skintone.robust`)."""
    height, width = image.shape
    fov = field_of_view(image.light.reshape(height, width))
    lesion, grown, give_up = rb.checked_lesion(lesion, fov, cfg)
    if give_up:
        return _uncertain(0, lesion.source, give_up)
    if cfg.robust_rule == "fov":
        candidates = fov
    else:
        candidates = skin_mask(image.rgb.reshape(height, width, 3), cfg.robust_rule) & fov
    if grown is not None:
        candidates = candidates & ~grown
    chosen = rb.choose_pixels(candidates, central_ellipse(height, width, cfg.border), cfg.rim_share)
    where = np.flatnonzero(chosen)
    n = round(where.size * image.area)
    if n < cfg.min_skin_pixels:
        note = f"{n} skin pixels left outside the lesion (minimum {cfg.min_skin_pixels})"
        return _uncertain(n, lesion.source, "; ".join(filter(None, (lesion.note, note))))
    if cfg.center == "mode":
        l_star, b_star = rb.mode_centre(image.rgb[where])
    else:
        l_star = _centre(image.light[where], cfg.center)
        b_star = _centre(image.yellow[where], cfg.center)
    value, fst = rb.robust_ita(l_star, b_star)
    sd = (
        _spread(image.light, image.yellow, where, image.shape, cfg.patch_grid, ita_angle)
        if spread
        else math.nan
    )
    return ItaEstimate(value, l_star, b_star, n, fst, sd, lesion.source, lesion.note)


def _lesion(
    rgb: NDArray[np.uint8],
    mask: NDArray[np.bool_] | None,
    source: ItaMaskSource,
    cfg: SkintoneConfig,
) -> rb.Lesion:
    if not cfg.exclude_lesion:
        return rb.Lesion(None, "none", "lesion exclusion is off (skintone.exclude_lesion)")
    if mask is not None:
        return rb.Lesion(mask, source)
    if cfg.lesion_estimate == "maxflow":
        return rb.estimated_lesion(rgb)
    return rb.Lesion(None, "none", "no lesion mask and lesion estimation is off")


def estimate(
    rgb: NDArray[np.uint8],
    lesion: NDArray[np.bool_] | None,
    cfg: SkintoneConfig,
    area: float = 1.0,
    *,
    lesion_source: ItaMaskSource = "ground_truth",
) -> dict[str, ItaEstimate]:
    """Paper (as printed), paper-guarded, lesion-excluded and robust ITA estimates.

    Args:
        rgb: uint8 sRGB image, shape (H, W, 3).
        lesion: Boolean lesion mask of shape (H, W), or ``None`` (the robust estimate then
            estimates one, as ``cfg.lesion_estimate`` says).
        cfg: Rules, thresholds and robust options; ``spread`` is computed for ``cfg.primary``.
        area: Original-resolution pixels per analysed pixel, when the image was decoded at
            reduced size; skin pixel counts and the minimum refer to original pixels.
        lesion_source: What ``lesion`` is: ``ground_truth`` or ``estimated`` (made elsewhere).

    Returns:
        ``{"paper", "paper_guarded", "robust"}`` and, for a ground-truth ``lesion``,
        ``"lesion_excluded"`` (the printed rule without the lesion pixels). A grey image
        (no colour) makes every estimate ``uncertain`` with the reason.

    Raises:
        ValueError: ``lesion`` is not of the image's size (both sizes named).
    """
    shape = (rgb.shape[0], rgb.shape[1])
    if lesion is not None and lesion.shape != shape:
        what = "lesion mask" if lesion_source == "ground_truth" else f"{lesion_source} lesion mask"
        raise ValueError(
            f"{what} is {lesion.shape[1]}x{lesion.shape[0]} but the image is {shape[1]}x{shape[0]}"
        )
    if (chroma := chroma_levels(rgb)) <= GREY_LEVELS:
        note = f"grey image (channels differ by at most {chroma:.0f} levels): no skin colour"
        names: tuple[str, ...] = ("paper", "paper_guarded", "robust")
        names += (
            ("lesion_excluded",) if lesion is not None and lesion_source == "ground_truth" else ()
        )
        return {name: _uncertain(0, "none", note) for name in names}
    flat = np.ascontiguousarray(rgb).reshape(-1, 3)
    light, yellow = lightness_and_b(flat)
    image = _Image(flat, light, yellow, shape, area)
    where = np.flatnonzero(skin_mask(rgb, cfg.rule))
    out = {
        "paper": _paper(image, where, cfg, ita_literal, cfg.primary == "paper"),
        "paper_guarded": _paper(image, where, cfg, ita_degrees, cfg.primary == "paper_guarded"),
    }
    if lesion is not None and lesion_source == "ground_truth":
        outside = where[~rb.grow(lesion, cfg.lesion_margin).ravel()[where]]
        out["lesion_excluded"] = _paper(image, outside, cfg, ita_literal, False)
    used = _lesion(rgb, lesion, lesion_source, cfg)
    corrected, refused = _corrected(image, cfg)
    if refused:
        out["robust"] = _uncertain(0, used.source, refused)
    else:
        out["robust"] = _robust(corrected, used, cfg, cfg.primary == "robust")
    return out


def _corrected(image: _Image, cfg: SkintoneConfig) -> tuple[_Image, str]:
    """The image the robust estimate reads: colour-corrected as configured, or why not."""
    if cfg.colour_constancy == "none":
        return image, ""
    fixed = correct(image.rgb.reshape(*image.shape, 3), cfg.colour_constancy)
    if fixed.note:
        return image, fixed.note
    flat = fixed.rgb.reshape(-1, 3)
    light, yellow = lightness_and_b(flat)
    return _Image(flat, light, yellow, image.shape, image.area), ""
