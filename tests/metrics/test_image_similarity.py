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


def test_fid_and_kid_known_answers() -> None:
    from benchmark.metrics.image_similarity import frechet_distance, kernel_inception_distance

    x = np.random.default_rng(0).normal(size=(200, 3))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    # Same covariance, mean shifted by (1, 2, 2): FID = |shift|^2 = 9.
    assert frechet_distance(x, x + np.array([1.0, 2.0, 2.0])) == pytest.approx(9.0, abs=1e-6)
    # Constant features: every kernel value is 1, so KID = 1 + 1 - 2 = 0 exactly.
    assert kernel_inception_distance(np.zeros((2, 1)), np.zeros((3, 1))) == 0.0
    y = np.random.default_rng(1).normal(size=(200, 3))
    assert abs(kernel_inception_distance(x, y)) < 0.05  # same distribution
    assert kernel_inception_distance(x, x + 3.0) > 1.0


def test_inception_features_from_a_local_weights_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import torch
    from torchvision.models import inception_v3

    from benchmark.metrics.image_similarity import inception_features

    torch.manual_seed(0)
    path = tmp_path / "inception.pth"
    torch.save(inception_v3(weights=None, aux_logits=True, init_weights=True).state_dict(), path)
    features = inception_features([np.full((40, 40, 3), v, np.uint8) for v in (50, 200)], str(path))
    assert features.shape == (2, 2048)
    assert np.isfinite(features).all()
