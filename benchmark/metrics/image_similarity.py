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


def frechet_distance(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """FID between two feature sets of shape (n, d): |mu_a - mu_b|^2 + Tr(Ca + Cb - 2 sqrt(Ca Cb)).

    Needs at least two rows each; the covariance of few images is singular, so small sets
    give a noisy, biased FID (report KID beside it).
    """
    from scipy import linalg

    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root, _ = linalg.sqrtm(np.atleast_2d(cov_a) @ np.atleast_2d(cov_b), disp=False)
    trace = np.trace(np.atleast_2d(cov_a) + np.atleast_2d(cov_b) - 2 * np.real(root))
    return float(np.sum((mu_a - mu_b) ** 2) + trace)


def kernel_inception_distance(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """Unbiased MMD^2 with the cubic polynomial kernel (x.y / d + 1)^3 (KID), shapes (n, d)."""
    d = a.shape[1]

    def kernel(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray((x @ y.T / d + 1) ** 3, dtype=np.float64)

    kaa, kbb, kab = kernel(a, a), kernel(b, b), kernel(a, b)
    m, n = len(a), len(b)
    return float(
        (kaa.sum() - np.trace(kaa)) / (m * (m - 1))
        + (kbb.sum() - np.trace(kbb)) / (n * (n - 1))
        - 2 * kab.mean()
    )


INCEPTION_SIZE = 299  # Inception-v3's input side, px


def inception_features(images: list[NDArray[np.uint8]], weights: str) -> NDArray[np.float64]:
    """2048-d pool features of torchvision's Inception-v3 loaded from a local weights file.

    The weights are torchvision's (ported from TensorFlow): they expect ImageNet-normalised
    input *with* ``transform_input=True``, which maps it back to the [-1, 1] scaling they were
    trained on, as ``inception_v3(weights=...)`` does. Give images at 299 px from the
    full-resolution files; smaller ones are upsampled here, which blurs what FID compares.

    Args:
        images: uint8 RGB images of shape (H, W, 3), ideally 299 x 299.
        weights: A state dict (``.pth`` loaded with ``weights_only=True``, or safetensors).

    Returns:
        Array of shape (len(images), 2048).
    """
    import torch
    from torchvision.models import inception_v3

    model = inception_v3(weights=None, aux_logits=True, init_weights=False, transform_input=True)
    state = (
        __import__("safetensors.torch").torch.load_file(weights)
        if weights.endswith(".safetensors")
        else torch.load(weights, weights_only=True)
    )
    model.load_state_dict(state)
    model.fc = torch.nn.Identity()
    model.eval()
    batch = torch.stack([torch.from_numpy(i).permute(2, 0, 1).float() / 255 for i in images])
    batch = torch.nn.functional.interpolate(
        batch, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", antialias=True
    )
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        return model((batch - mean) / std).double().numpy()
