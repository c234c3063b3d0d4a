"""Colour constancy of a uint8 sRGB image: gray world, shades of gray and max-RGB.

Dermatoscopes differ in white balance and illumination, and ITA moves with L* and b*. Each
method estimates the illuminant as the Minkowski p-norm mean of each channel in linear RGB
(Finlayson & Trezzi 2004): p = 1 is gray world, p = :data:`SHADES_OF_GRAY_P` shades of
gray (the ISIC challenge winners' choice, e.g. Barata et al. 2015), p = inf max-RGB (white
patch, here a high percentile). A von Kries diagonal correction in linear RGB then maps the
illuminant to a grey of the same mean brightness.

All three assume that the scene averages grey (or that its brightest pixels are white). A
dermoscopic close-up is mostly skin, so they take the skin's own colour for the illuminant
and remove it: measured on phantoms with ground truth (``tests/perf/colour_cast.py``), every
method drives the skin's b* to about 0, hence ITA to about +-90 degrees (type I above
L* = 50, VI below), with an ITA error near 50 degrees with or without a planted cast, against
0.3 (no cast) and 7 to 14 (casts) degrees uncorrected. They undo a cast, but not without a grey
reference in the picture; the ITA estimate does not use them by default.

Every method is one per-channel function of the 8-bit value, so both the statistics (from
histograms) and the correction (a lookup table) are cheap: about 1 ms for 512 x 384 pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import get_args

import cv2
import numpy as np
from numpy.typing import NDArray

# The table the ITA estimate decodes sRGB with, so correction and estimate agree exactly.
from benchmark.core.color import LINEAR_LUT
from benchmark.core.config.data import ColourConstancy

Method = ColourConstancy
METHODS: tuple[Method, ...] = get_args(ColourConstancy)
SHADES_OF_GRAY_P = 6
MAX_RGB_PERCENTILE = 99.0  # max-RGB's "maximum": robust to specular highlights
GREY_LEVELS = 2  # no pixel differs between channels by more than this: a grey image
NEAR_BLACK_L = 5.0  # L* of the mean linear colour below this: too dark for an estimate
MIN_CHANNEL_SHARE = 0.01  # an illuminant channel below this share of the mean: no estimate
_P: dict[str, float] = {
    "gray_world": 1.0,
    "shades_of_gray": float(SHADES_OF_GRAY_P),
    "max_rgb": math.inf,
}
_LINEAR = LINEAR_LUT.astype(np.float64)
_CHANNELS = ("red", "green", "blue")

Gains = tuple[float, float, float]  # (R, G, B) linear gains
Illuminant = tuple[float, float, float]  # (R, G, B) in linear RGB, 0..1


@dataclass(frozen=True)
class Corrected:
    """A colour-corrected image.

    Attributes:
        rgb: uint8 sRGB image of shape (H, W, 3); the input itself when nothing was done.
        gains: Per-channel (R, G, B) gains applied in linear RGB; (1, 1, 1) when none were.
        note: ``""`` on success, else why the image could not be corrected (left unchanged).
    """

    rgb: NDArray[np.uint8]
    gains: Gains
    note: str = ""


def _check_image(rgb: NDArray[np.uint8]) -> None:
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected a uint8 (H, W, 3) image, got {rgb.dtype} {rgb.shape}")


def _encode(linear: NDArray[np.float64]) -> NDArray[np.float64]:
    """Linear RGB in [0, 1] to sRGB in [0, 1] (IEC 61966-2-1), the inverse of the table."""
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


def _lab_lightness(y: float) -> float:
    """CIE L* (0..100) of relative luminance ``y`` (0..1)."""
    return 116 * math.cbrt(y) - 16 if y > 216 / 24389 else 24389 / 27 * y


def _mask8(where: NDArray[np.bool_] | None, shape: tuple[int, int]) -> NDArray[np.uint8] | None:
    if where is None:
        return None
    if where.shape != shape:
        raise ValueError(f"where is {where.shape} but the image is {shape}")
    return where.astype(np.uint8)


def _histograms(rgb: NDArray[np.uint8], mask: NDArray[np.uint8] | None) -> NDArray[np.float64]:
    """(3, 256) pixel counts of each channel's 8-bit values."""
    image = np.ascontiguousarray(rgb)
    return np.stack([
        cv2.calcHist([image], [c], mask, [256], [0, 256]).ravel().astype(np.float64)
        for c in range(3)
    ])  # fmt: skip


def _from_histograms(hist: NDArray[np.float64], p: float) -> NDArray[np.float64]:
    """Per-channel Minkowski p-norm mean of linear values; p = inf: a high percentile."""
    n = hist[0].sum()
    if math.isinf(p):
        # The raw maximum is a specular highlight or a hot pixel: take a percentile.
        cdf = np.cumsum(hist, axis=1)
        level = np.argmax(cdf >= n * MAX_RGB_PERCENTILE / 100, axis=1)
        return np.asarray(_LINEAR[level], dtype=np.float64)
    return np.asarray((hist @ _LINEAR**p / n) ** (1 / p), dtype=np.float64)


def illuminant(
    rgb: NDArray[np.uint8], method: Method, *, where: NDArray[np.bool_] | None = None
) -> Illuminant:
    """The illuminant a method estimates, in linear RGB.

    Gray world is the mean of each channel, shades of gray its Minkowski
    :data:`SHADES_OF_GRAY_P`-norm mean, max-RGB its :data:`MAX_RGB_PERCENTILE` th
    percentile: the raw maximum would be a specular highlight or a hot pixel.

    Args:
        rgb: uint8 sRGB image, shape (H, W, 3).
        method: ``gray_world``, ``shades_of_gray`` or ``max_rgb``.
        where: Boolean (H, W) mask of the pixels to estimate from (e.g. the field of view);
            ``None``: every pixel.

    Returns:
        (R, G, B) in linear RGB, 0..1 (NaN when ``where`` selects no pixel).

    Raises:
        ValueError: An unknown method, ``none``, a non-uint8 (H, W, 3) image or ``where`` of
            another size.
    """
    _check_image(rgb)
    if method not in _P:
        raise ValueError(f"no illuminant for method {method!r}; expected one of {sorted(_P)}")
    hist = _histograms(rgb, _mask8(where, rgb.shape[:2]))
    if hist[0].sum() == 0:
        return (math.nan, math.nan, math.nan)
    e = _from_histograms(hist, _P[method])
    return (float(e[0]), float(e[1]), float(e[2]))


def apply_cast(rgb: NDArray[np.uint8], gains: Gains) -> NDArray[np.uint8]:
    """Multiply each channel by a gain in linear RGB (a white-balance or illumination change).

    Used both to plant a colour cast (measurements, tests) and to undo one (:func:`correct`).
    Values are clipped to [0, 1] in linear RGB and rounded to the nearest 8-bit sRGB level.

    Args:
        rgb: uint8 sRGB image, shape (H, W, 3).
        gains: (R, G, B) linear gains, each >= 0.

    Returns:
        uint8 sRGB image of the same shape.

    Raises:
        ValueError: A non-uint8 (H, W, 3) image.
    """
    _check_image(rgb)
    # One 8-bit value maps to one 8-bit value per channel: a 256-entry table per channel.
    scaled = np.clip(_LINEAR[:, None] * np.asarray(gains, dtype=np.float64)[None, :], 0.0, 1.0)
    table = np.rint(_encode(scaled) * 255).astype(np.uint8).reshape(1, 256, 3)
    return np.asarray(cv2.LUT(np.ascontiguousarray(rgb), table), dtype=np.uint8)


def chroma_levels(rgb: NDArray[np.uint8], mask: NDArray[np.uint8] | None = None) -> float:
    """The largest difference between channels (R-G, G-B; 8-bit levels) over the pixels.

    At most :data:`GREY_LEVELS` is a grey image: it has no colour, hence no skin tone.

    Args:
        rgb: uint8 image (H, W, 3).
        mask: uint8 (H, W) mask of the pixels to look at (None: all).
    """
    r, g, b = cv2.split(np.ascontiguousarray(rgb))
    return float(
        max(cv2.minMaxLoc(cv2.absdiff(r, g), mask)[1], cv2.minMaxLoc(cv2.absdiff(g, b), mask)[1])
    )


def _refusal(
    rgb: NDArray[np.uint8], hist: NDArray[np.float64], mask: NDArray[np.uint8] | None
) -> str:
    """Why no illuminant can be estimated from these pixels ("" if one can)."""
    n = hist[0].sum()
    if n == 0:
        return "no pixels to estimate the illuminant from: colour constancy cannot estimate it"
    mean = hist @ _LINEAR / n
    lightness = _lab_lightness(float(mean @ (0.2126729, 0.7151522, 0.0721750)))
    if lightness < NEAR_BLACK_L:
        return (
            f"near-black image (mean L* {lightness:.1f}): "
            "colour constancy cannot estimate the illuminant"
        )
    chroma = chroma_levels(rgb, mask)
    if chroma <= GREY_LEVELS:
        return (
            f"grey image (channels differ by at most {chroma:.0f} levels): "
            "colour constancy cannot estimate the illuminant"
        )
    return ""


def correct(
    rgb: NDArray[np.uint8], method: Method, *, where: NDArray[np.bool_] | None = None
) -> Corrected:
    """Correct an image's colour cast with one colour-constancy method.

    The illuminant (:func:`illuminant`) is mapped to neutral by a von Kries diagonal
    correction in linear RGB, ``gain_c = mean(e) / e_c``: the illuminant's mean brightness is
    kept, so an overall illumination change is not undone, only its colour.

    Args:
        rgb: uint8 sRGB image, shape (H, W, 3).
        method: One of :data:`METHODS`; ``none`` returns the input with gains (1, 1, 1).
        where: Boolean (H, W) mask of the pixels to estimate the illuminant from (e.g. the
            field of view); ``None``: every pixel. The whole image is corrected.

    Returns:
        The corrected image and the gains. A grey or near-black image (or an illuminant
        with almost no signal in one channel) is returned unchanged with a ``note``.

    Raises:
        ValueError: An unknown method, a non-uint8 (H, W, 3) image or ``where`` of another
            size.
    """
    if method not in METHODS:
        raise ValueError(f"unknown colour constancy method {method!r}; expected one of {METHODS}")
    _check_image(rgb)
    if method == "none":
        return Corrected(rgb, (1.0, 1.0, 1.0))
    mask = _mask8(where, rgb.shape[:2])
    hist = _histograms(rgb, mask)
    note = _refusal(rgb, hist, mask)
    if note:
        return Corrected(rgb, (1.0, 1.0, 1.0), note)
    e = _from_histograms(hist, _P[method])
    weakest = int(np.argmin(e))
    if e[weakest] < MIN_CHANNEL_SHARE * e.mean():
        note = (
            f"the illuminant estimate has almost no {_CHANNELS[weakest]} "
            f"({e[weakest] / e.mean():.1%} of its mean): colour constancy cannot correct it"
        )
        return Corrected(rgb, (1.0, 1.0, 1.0), note)
    gains = e.mean() / e
    out = (float(gains[0]), float(gains[1]), float(gains[2]))
    return Corrected(apply_cast(rgb, out), out)
