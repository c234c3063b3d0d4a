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

# The mottled texture's grain (Gaussian sigma as a share of the side: about 1.6 px at the
# classifiers' 64 px, so it survives resizing and denoising) and its amplitude per channel.
# A coarser grain (1/20) plants the same gap but blotches the skin at the generator's 32 px,
# where the lesion check then finds 8% of generated images with a lesion instead of 50%.
TEXTURE_SCALE = 1 / 40
TEXTURE_SHARES = ((0, 1.0), (1, 0.5), (2, 0.5))
# The pigment network, the melanocytic cue: its pitch (cycles across the image: a period of
# 5-8 px at 64 px, so it survives the classifiers' resolution), its depth (a share of the
# lesion's lightness drop, so it fades with skin lightness like every cue), and the share of
# keratoses with a faint network of their own.
NETWORK_CYCLES = (8.0, 14.0)
NETWORK_DEPTH = (0.25, 0.5)
KERATOSIS_NETWORK = 0.1


@dataclass(frozen=True)
class PhantomSpec:
    """What to draw for one image.

    Attributes:
        size: Side in pixels.
        skin_lab: Background skin colour (L*, a*, b*).
        diagnosis_code: One of the manifest's diagnosis codes (``mel``, ``nv``, ...).
        hair: Number of hairs to draw (0 for none).
        vignette: Strength of dermoscope vignetting in [0, 1] (0 for none).
        texture: Amplitude (standard deviation, CIELAB units) of a mottled skin texture of
            fixed size, the same on every skin: L* at ``texture``, a* and b* at half of it,
            on skin and lesion alike (0 for none). Against it the lesion cues, which shrink
            with skin lightness (:func:`lesion_contrast`), stand out less on dark skin.
    """

    size: int
    skin_lab: tuple[float, float, float]
    diagnosis_code: str
    hair: int
    vignette: float
    texture: float = 0.0


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
    if spec.texture > 0:
        for channel, share in TEXTURE_SHARES:
            lab[..., channel] += _smooth_noise(
                rng, size, scale=size * TEXTURE_SCALE, amplitude=spec.texture * share
            )
    mask = _lesion_mask(rng, size, _irregularity(spec.diagnosis_code, rng))
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


def _lesion_mask(rng: np.random.Generator, size: int, irregularity: float) -> NDArray[np.float64]:
    """A filled lesion outline; ``irregularity`` in [0, 1] sets its high-order harmonics."""
    radius = size * rng.uniform(0.14, 0.28)
    centre = size / 2 + rng.uniform(-0.08, 0.08, size=2) * size
    theta = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    r = np.ones_like(theta)
    decay = 1.2 - 0.6 * irregularity
    for k in range(2, 8):
        amp = rng.uniform(0, 0.04 + 0.08 * irregularity) / (k**decay)
        r += amp * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    r *= radius * rng.uniform(0.8, 1.0, size=1)
    stretch = rng.uniform(0.7, 1.0)
    pts = np.stack([centre[0] + r * np.cos(theta), centre[1] + stretch * r * np.sin(theta)], 1)
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    return mask.astype(np.float64)


def _irregularity(code: str, rng: np.random.Generator) -> float:
    """Border irregularity by diagnosis; the two superclasses overlap."""
    if code == "mel":
        return float(rng.uniform(0.45, 1.0))
    if code in ("bcc", "bkl"):
        return float(rng.uniform(0.0, 0.75))
    return float(rng.uniform(0.0, 0.5))


def lesion_contrast(l_star: float) -> float:
    """Lightness drop (L* units) of a lesion centre on skin of lightness ``l_star``.

    About 30 on very light skin (L* 90) and 7 on dark skin (L* 35). Every class cue (network,
    colour, veil, vessels) scales with it too, so on dark skin the cues that tell the two
    superclasses apart are weaker, as is lesion visibility: the phantom world's mechanism of
    skin-tone bias.
    """
    return max(0.42 * (l_star - 18.0), 3.0)


def _network(rng: np.random.Generator, size: int) -> NDArray[np.float64]:
    """A pigment-network-like lattice in [0, 1] at a random pitch."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    freq = rng.uniform(*NETWORK_CYCLES)
    wave = np.sin(freq * np.pi * xx + rng.uniform(0, 6)) * np.sin(
        freq * np.pi * yy + rng.uniform(0, 6)
    )
    return np.asarray(0.5 + 0.5 * wave, dtype=np.float64)


def _blotch(rng: np.random.Generator, size: int) -> NDArray[np.float64]:
    """An off-centre Gaussian blotch in [0, 1]."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    spread = rng.uniform(0.004, 0.02)
    centre = rng.uniform(0.3, 0.7, size=2)
    return np.asarray(np.exp(-((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2) / spread))


def _melanocytic(
    lesion: NDArray[np.float64], core: NDArray[np.float64], drop: float, cue: float,
    code: str, rng: np.random.Generator,
) -> None:  # fmt: skip
    """Brown pigment with a network; melanoma adds a blue-grey blotch (some are amelanotic)."""
    size = core.shape[0]
    amelanotic = code == "mel" and rng.uniform() < 0.15
    pigment = rng.uniform(0.35, 0.6) if amelanotic else 1.0
    network = _network(rng, size) * rng.uniform(*NETWORK_DEPTH)
    lesion[..., 0] -= pigment * drop * (0.55 + 0.45 * core) * (0.85 + network)
    lesion[..., 1] += cue * (3 + rng.uniform(0, 8) if amelanotic else 3 + 0.15 * drop)
    lesion[..., 2] += cue * rng.uniform(2, 8)
    if code == "mel" and rng.uniform() < 0.75:
        blotch = _blotch(rng, size)
        lesion[..., 0] -= 0.5 * drop * blotch
        lesion[..., 2] -= cue * 10 * blotch


def _non_melanocytic(
    lesion: NDArray[np.float64], core: NDArray[np.float64], drop: float, cue: float,
    code: str, rng: np.random.Generator,
) -> None:  # fmt: skip
    """Redness, vessels for BCC/vascular; keratoses are brownish, some with a faint network."""
    size = core.shape[0]
    brown = code == "bkl"
    depth = rng.uniform(0.6, 0.95) if brown else 0.6
    lesion[..., 0] -= depth * drop * (0.6 + 0.4 * core)
    if brown and rng.uniform() < KERATOSIS_NETWORK:
        lesion[..., 0] -= drop * 0.5 * _network(rng, size) * rng.uniform(0.05, 0.3)
    redness = rng.uniform(2, 9) if brown else rng.uniform(6, 16)
    lesion[..., 1] += cue * redness * (0.5 + 0.5 * core)
    lesion[..., 2] += cue * (rng.uniform(2, 8) if brown else rng.uniform(-2, 6))
    if code in ("bcc", "vasc"):
        vessels = _smooth_noise(rng, size, scale=size / 60, amplitude=1.0)
        lesion[..., 1] += cue * 6.0 * (np.abs(vessels) < 0.15).astype(np.float64) * core


def _paint_lesion(
    lab: NDArray[np.float64], mask: NDArray[np.float64], spec: PhantomSpec, rng: np.random.Generator
) -> NDArray[np.float64]:
    size = spec.size
    drop = lesion_contrast(spec.skin_lab[0]) * rng.uniform(0.85, 1.15)
    cue = drop / lesion_contrast(90.0)  # 1 on the lightest skin, ~0.25 on the darkest
    alpha = cv2.GaussianBlur(mask, (0, 0), size / 120)
    # Interior profile: darker towards the centre of mass.
    dist = cv2.distanceTransform((mask > 0).astype(np.uint8), cv2.DIST_L2, 5)
    core = np.asarray(dist, dtype=np.float64) / max(float(dist.max()), 1.0)
    lesion = lab.copy()
    painter = _melanocytic if spec.diagnosis_code in ("mel", "nv") else _non_melanocytic
    painter(lesion, core, drop, cue, spec.diagnosis_code, rng)
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
