"""Image-level similarity for synthetic-image validation: histograms, SSIM, GLCM texture.

Pure functions over uint8 arrays; images are (H, W, 3) RGB.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

GLCM_FEATURES = ("contrast", "homogeneity", "energy", "correlation")


def rgb_histogram(image: NDArray[np.uint8], bins: int = 32) -> NDArray[np.float64]:
    """Per-channel normalised histogram, shape (3, bins), each row summing to 1."""
    return np.stack(
        [
            np.histogram(image[..., c], bins=bins, range=(0, 256))[0] / image[..., c].size
            for c in range(3)
        ]
    )


def histogram_distance(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """Mean over channels of the total-variation distance between two (3, bins) histograms.

    0 for identical histograms, 1 for histograms without overlap.
    """
    return float(np.mean(0.5 * np.abs(a - b).sum(axis=1)))


def to_gray(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """ITU-R 601 luma as uint8, shape (H, W)."""
    luma = image.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    return np.clip(np.round(luma), 0, 255).astype(np.uint8)


def nearest_ssim(
    image: NDArray[np.uint8], references: list[NDArray[np.uint8]]
) -> tuple[float, int]:
    """Highest SSIM (grayscale, data range 255) of ``image`` to any reference, and its index.

    All images must share one size. Returns ``(nan, -1)`` without references.
    """
    from skimage.metrics import structural_similarity

    if not references:
        return float("nan"), -1
    gray = to_gray(image)
    scores = [structural_similarity(gray, to_gray(ref), data_range=255) for ref in references]
    best = int(np.argmax(scores))
    return float(scores[best]), best


def glcm_features(image: NDArray[np.uint8], levels: int = 32) -> dict[str, float]:
    """GLCM texture (distance 1, four angles, symmetric, normalised), averaged over angles."""
    from skimage.feature import graycomatrix, graycoprops

    gray = (to_gray(image).astype(np.int64) * levels // 256).astype(np.uint8)
    matrix = graycomatrix(
        gray,
        distances=[1],
        angles=[0, np.pi / 4, np.pi / 2, 3 * np.pi / 4],
        levels=levels,
        symmetric=True,
        normed=True,
    )
    return {name: float(np.nan_to_num(graycoprops(matrix, name)).mean()) for name in GLCM_FEATURES}


def iqr_fences(values: NDArray[np.float64], factor: float = 1.5) -> tuple[float, float]:
    """Tukey fences ``(Q1 - factor * IQR, Q3 + factor * IQR)`` of finite values."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return -np.inf, np.inf
    q1, q3 = np.percentile(finite, [25, 75])
    return float(q1 - factor * (q3 - q1)), float(q3 + factor * (q3 - q1))
