from __future__ import annotations

import numpy as np
import pytest

from benchmark.metrics.image_similarity import (
    glcm_features,
    histogram_distance,
    iqr_fences,
    nearest_ssim,
    rgb_histogram,
)


def _noise(seed: int, size: int = 32) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def test_histogram_against_itself_and_shifted() -> None:
    image = np.full((10, 10, 3), 10, np.uint8)
    assert histogram_distance(rgb_histogram(image), rgb_histogram(image)) == 0.0
    # Shifted by 128 grey levels: no bin overlaps, total variation 1.
    assert histogram_distance(rgb_histogram(image), rgb_histogram(image + 128)) == 1.0
    half = image.copy()
    half[:5] = 138
    assert histogram_distance(rgb_histogram(image), rgb_histogram(half)) == pytest.approx(0.5)


def test_ssim_of_an_image_with_itself_is_one() -> None:
    image = _noise(0)
    score, index = nearest_ssim(image, [_noise(1), image, _noise(2)])
    assert score == pytest.approx(1.0)
    assert index == 1
    assert np.isnan(nearest_ssim(image, [])[0])


def test_glcm_of_flat_and_striped_images() -> None:
    flat = glcm_features(np.full((16, 16, 3), 100, np.uint8))
    assert flat["contrast"] == 0.0
    assert flat["energy"] == pytest.approx(1.0)
    assert flat["homogeneity"] == pytest.approx(1.0)
    stripes = np.zeros((16, 16, 3), np.uint8)
    stripes[:, ::2] = 255
    assert glcm_features(stripes)["contrast"] > 100


def test_iqr_fences_hand_computed() -> None:
    low, high = iqr_fences(np.array([1.0, 2.0, 3.0, 4.0, 5.0, np.nan]))
    # Q1 = 2, Q3 = 4, IQR = 2.
    assert (low, high) == (-1.0, 7.0)
