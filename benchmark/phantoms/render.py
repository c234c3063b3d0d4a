"""Render one dermoscopy-like phantom image with known skin colour and lesion mask.

The background skin has a chosen CIELAB colour, so its ITA and Fitzpatrick type are known
exactly. Lesion contrast shrinks with skin lightness, as on real dark skin, so a model
trained on a light-skewed mix shows the bias the study is about.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmark.core.color import lab_to_srgb, srgb_to_lab


@dataclass(frozen=True)
class PhantomSpec:
    """What to draw for one image.

    Attributes:
        size: Side in pixels.
        skin_lab: Background skin colour (L*, a*, b*).
        diagnosis_code: One of the manifest's diagnosis codes (``mel``, ``nv``, ...).
        hair: Number of hairs to draw (0 for none).
        vignette: Strength of dermoscope vignetting in [0, 1] (0 for none).
    """

    size: int
    skin_lab: tuple[float, float, float]
    diagnosis_code: str
    hair: int
    vignette: float


def quantised_skin_lab(skin_lab: tuple[float, float, float]) -> NDArray[np.float64]:
    """Return the CIELAB colour the skin actually has once written as 8-bit sRGB."""
    rgb8 = np.round(lab_to_srgb(np.asarray(skin_lab)) * 255).astype(np.uint8)
    return srgb_to_lab(rgb8)


def render(
    spec: PhantomSpec, rng: np.random.Generator
) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Draw the image and its lesion mask.

    Args:
        spec: What to draw.
        rng: The image's own random stream.

    Returns:
        ``(image, mask)``: uint8 RGB of shape ``(size, size, 3)`` and uint8 mask of shape
        ``(size, size)`` with values {0, 255}.
    """
    size = spec.size
    lab = np.empty((size, size, 3))
    lab[...] = spec.skin_lab
    # Fine zero-mean texture: any skin region large enough to measure keeps the nominal mean
    # colour (coarse blotches would shift the mean of whatever part is visible).
    lab[..., 0] += _smooth_noise(rng, size, scale=size / 64, amplitude=1.0)
    mask = _lesion_mask(rng, size, irregular=spec.diagnosis_code == "mel")
    lab = _paint_lesion(lab, mask, spec, rng)
    rgb = lab_to_srgb(lab)
    if spec.hair:
        rgb = _draw_hair(rgb, spec.hair, rng)
    if spec.vignette > 0:
        rgb = _vignette(rgb, spec.vignette)
    image = np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    return image, (mask > 0.5).astype(np.uint8) * 255


def _smooth_noise(
    rng: np.random.Generator, size: int, scale: float, amplitude: float
) -> NDArray[np.float64]:
    noise = cv2.GaussianBlur(rng.standard_normal((size, size)), (0, 0), scale)
    noise -= noise.mean()
    std = noise.std()
    return np.asarray(noise / std * amplitude if std > 0 else noise, dtype=np.float64)


def _lesion_mask(rng: np.random.Generator, size: int, irregular: bool) -> NDArray[np.float64]:
    radius = size * rng.uniform(0.16, 0.28)
    centre = size / 2 + rng.uniform(-0.08, 0.08, size=2) * size
    theta = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    r = np.ones_like(theta)
    # Melanoma-like lesions get stronger high-order harmonics: irregular, asymmetric borders.
    for k in range(2, 8):
        amp = rng.uniform(0, 0.12 if irregular else 0.05) / (k ** (0.6 if irregular else 1.2))
        r += amp * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    r *= radius * rng.uniform(0.8, 1.0, size=1)
    stretch = rng.uniform(0.75, 1.0)
    pts = np.stack([centre[0] + r * np.cos(theta), centre[1] + stretch * r * np.sin(theta)], 1)
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    return mask.astype(np.float64)


def lesion_contrast(l_star: float) -> float:
    """Lightness drop (L* units) of a lesion centre on skin of lightness ``l_star``.

    About 30 on very light skin (L* 90) and 7 on dark skin (L* 35).
    """
    return max(0.42 * (l_star - 18.0), 3.0)


def _paint_lesion(
    lab: NDArray[np.float64], mask: NDArray[np.float64], spec: PhantomSpec, rng: np.random.Generator
) -> NDArray[np.float64]:
    size = spec.size
    l_skin = spec.skin_lab[0]
    drop = lesion_contrast(l_skin) * rng.uniform(0.85, 1.15)
    grid = np.mgrid[0:size, 0:size].astype(np.float64) / size
    yy, xx = grid[0], grid[1]
    alpha = cv2.GaussianBlur(mask, (0, 0), size / 120)
    # Interior profile: darker towards the centre of mass.
    dist = cv2.distanceTransform((mask > 0).astype(np.uint8), cv2.DIST_L2, 5)
    core = np.asarray(dist, dtype=np.float64) / max(float(dist.max()), 1.0)
    code = spec.diagnosis_code
    lesion = lab.copy()
    if code in ("mel", "nv"):
        freq = rng.uniform(18, 30)
        network = 0.5 + 0.5 * np.sin(freq * np.pi * xx + rng.uniform(0, 6)) * np.sin(
            freq * np.pi * yy + rng.uniform(0, 6)
        )
        depth = drop * (0.55 + 0.45 * core) * (0.85 + 0.3 * network)
        lesion[..., 0] -= depth
        lesion[..., 1] += 3 + 0.15 * drop
        lesion[..., 2] += 2 + 0.1 * drop
        if code == "mel":
            # Blue-grey veil and uneven pigment: asymmetric dark blotch, lower b*.
            blotch = np.exp(
                -(
                    ((xx - rng.uniform(0.3, 0.7)) ** 2 + (yy - rng.uniform(0.3, 0.7)) ** 2)
                    / rng.uniform(0.004, 0.02)
                )
            )
            lesion[..., 0] -= 0.5 * drop * blotch
            lesion[..., 2] -= 10 * blotch
    else:
        redness = rng.uniform(8, 16)
        lesion[..., 0] -= 0.6 * drop * (0.6 + 0.4 * core)
        lesion[..., 1] += redness * (0.5 + 0.5 * core)
        lesion[..., 2] += rng.uniform(-2, 6)
        if code in ("bcc", "vasc"):
            vessels = _smooth_noise(rng, size, scale=size / 60, amplitude=1.0)
            lesion[..., 1] += 6.0 * (np.abs(vessels) < 0.15).astype(np.float64) * core
    out: NDArray[np.float64] = lab * (1 - alpha[..., None]) + lesion * alpha[..., None]
    return out


def _draw_hair(
    rgb: NDArray[np.float64], count: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    size = rgb.shape[0]
    canvas = (rgb * 255).astype(np.float32).copy()
    for _ in range(count):
        p0, p1, p2 = rng.uniform(-0.1, 1.1, size=(3, 2)) * size
        t = np.linspace(0, 1, 60)[:, None]
        curve = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2
        shade = float(rng.uniform(15, 45))
        cv2.polylines(
            canvas,
            [np.round(curve).astype(np.int32)],
            False,
            (shade, shade * 0.9, shade * 0.8),
            int(rng.integers(1, 3)),
            cv2.LINE_AA,
        )
    return np.asarray(canvas / 255.0, dtype=np.float64)


def _vignette(rgb: NDArray[np.float64], strength: float) -> NDArray[np.float64]:
    size = rgb.shape[0]
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1) - 0.5
    r = np.sqrt(xx**2 + yy**2) / np.sqrt(0.5)
    falloff = np.clip((r - 0.62) / 0.38, 0, 1) ** 1.5
    out: NDArray[np.float64] = rgb * (1 - strength * falloff)[..., None]
    return out
