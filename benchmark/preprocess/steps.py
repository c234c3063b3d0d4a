"""The paper's image preprocessing (section 3.3.1), one pure function per step.

Order: resize to the model side first (every later step then costs the same per image),
Non-Local Means, gamma, CLAHE on L*, black-hat hair/ruler removal. Masks are resized with
nearest neighbour so they stay binary.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmark.core.config.downstream import PreprocessConfig

RGB8 = NDArray[np.uint8]


@dataclass(frozen=True)
class Preprocessed:
    """One preprocessed image.

    Attributes:
        image: (size, size, 3) uint8 RGB.
        artefact_fraction: Share of pixels flagged as hair/ruler before removal.
        residual_fraction: Share still flagged after removal (the exclusion criterion).
    """

    image: RGB8
    artefact_fraction: float
    residual_fraction: float


def resize(rgb: RGB8, size: int) -> RGB8:
    """Resize (H, W, 3) to (size, size, 3); area interpolation when shrinking."""
    h, w = rgb.shape[:2]
    interp = cv2.INTER_AREA if size < min(h, w) else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(rgb, (size, size), interpolation=interp))


def resize_mask(mask: NDArray[np.uint8], size: int) -> NDArray[np.uint8]:
    """Resize an (H, W) {0, 255} mask to (size, size) with nearest neighbour."""
    out = cv2.resize(mask, (size, size), interpolation=cv2.INTER_NEAREST)
    return np.where(out > 127, 255, 0).astype(np.uint8)


def denoise(rgb: RGB8, strength: float) -> RGB8:
    """Non-Local Means on colour images (template 7 px, search window 21 px)."""
    return np.asarray(cv2.fastNlMeansDenoisingColored(rgb, None, strength, strength, 7, 21))


def gamma_correct(rgb: RGB8, gamma: float) -> RGB8:
    """``255 * (x / 255) ** (1 / gamma)`` through a lookup table; gamma 1 returns the input."""
    if gamma == 1.0:
        return rgb
    table = np.round(255.0 * (np.arange(256) / 255.0) ** (1.0 / gamma)).astype(np.uint8)
    return np.asarray(cv2.LUT(rgb, table))


def clahe_lightness(rgb: RGB8, clip: float, tiles: int) -> RGB8:
    """CLAHE on the CIELAB L* channel only, so hue (and skin tone's b*) is left alone."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    clahe = cv2.createCLAHE(clipLimit=clip, tileGridSize=(tiles, tiles))
    lab[..., 0] = clahe.apply(np.ascontiguousarray(lab[..., 0]))
    return np.asarray(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB))


def hair_mask(rgb: RGB8, kernel: int, threshold: int) -> NDArray[np.bool_]:
    """Thin dark structures (hair, ruler marks): grey black-hat response above ``threshold``.

    The structuring element is a cross of side ``kernel``: lines thinner than it respond,
    blob-like lesions wider than it do not.
    """
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    element = cv2.getStructuringElement(cv2.MORPH_CROSS, (kernel, kernel))
    blackhat = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, element)
    return np.asarray(blackhat > threshold)


def remove_hair(rgb: RGB8, cfg: PreprocessConfig) -> tuple[RGB8, float, float]:
    """Inpaint hair-like pixels (Telea); returns the image and the before/after shares."""
    found = hair_mask(rgb, cfg.hair_kernel, cfg.hair_threshold)
    before = float(found.mean())
    if not found.any():
        return rgb, 0.0, 0.0
    # Dilate by one pixel so the inpainting does not copy the hair's dark fringe back in.
    grown = cv2.dilate(found.astype(np.uint8), np.ones((3, 3), np.uint8))
    out = np.asarray(cv2.inpaint(rgb, grown, cfg.inpaint_radius, cv2.INPAINT_TELEA), np.uint8)
    after = float(hair_mask(out, cfg.hair_kernel, cfg.hair_threshold).mean())
    return out, before, after


def preprocess(rgb: RGB8, cfg: PreprocessConfig) -> Preprocessed:
    """Run every enabled step on one (H, W, 3) uint8 RGB image.

    Args:
        rgb: The decoded image at any size.
        cfg: Which steps run and their parameters.

    Returns:
        The (size, size, 3) result and the artefact shares.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {rgb.shape} {rgb.dtype}")
    out = resize(rgb, cfg.size)
    if cfg.denoise:
        out = denoise(out, cfg.denoise_strength)
    out = gamma_correct(out, cfg.gamma)
    if cfg.clahe:
        out = clahe_lightness(out, cfg.clahe_clip, cfg.clahe_tiles)
    before = after = 0.0
    if cfg.hair_removal:
        out, before, after = remove_hair(out, cfg)
    return Preprocessed(np.ascontiguousarray(out), before, after)
