from __future__ import annotations

import numpy as np
import pytest

from benchmark.core.config.base import ConfigError
from benchmark.core.config.downstream import PreprocessConfig
from benchmark.preprocess.steps import (
    clahe_lightness,
    gamma_correct,
    hair_mask,
    preprocess,
    remove_hair,
    resize,
    resize_mask,
)
from tests.support.config import paper


def skin(size: int = 64, value: tuple[int, int, int] = (200, 160, 140)) -> np.ndarray:
    return np.tile(np.array(value, np.uint8), (size, size, 1))


def test_gamma_is_the_documented_power_law() -> None:
    rgb = np.array([[[0, 64, 255]]], np.uint8)
    out = gamma_correct(rgb, 2.0)
    assert out.tolist() == [[[0, round(255 * (64 / 255) ** 0.5), 255]]]  # 64 -> 128
    assert gamma_correct(rgb, 1.0) is rgb


def test_resize_mask_stays_binary_and_nearest() -> None:
    mask = np.zeros((30, 40), np.uint8)
    mask[:, 20:] = 255
    out = resize_mask(mask, 16)
    assert out.shape == (16, 16)
    assert set(np.unique(out).tolist()) == {0, 255}
    assert (out[:, :8] == 0).all()
    assert (out[:, 8:] == 255).all()


def test_resize_any_aspect_to_square() -> None:
    assert resize(np.zeros((30, 50, 3), np.uint8), 24).shape == (24, 24, 3)


def test_clahe_changes_lightness_not_hue() -> None:
    rng = np.random.default_rng(0)
    base = skin(64)
    shade = rng.integers(-30, 30, (64, 64, 1))
    rgb = np.clip(base.astype(int) + shade, 0, 255).astype(np.uint8)
    out = clahe_lightness(rgb, 4.0, 4)
    assert out.std() > rgb.std()  # contrast stretched
    # chroma ratio R:B barely moves: CLAHE acted on L* only
    assert (
        abs(out[..., 0].mean() / out[..., 2].mean() - rgb[..., 0].mean() / rgb[..., 2].mean()) < 0.1
    )


def test_hair_is_found_and_inpainted_but_a_lesion_blob_is_not() -> None:
    cfg = paper(PreprocessConfig, hair_kernel=9, hair_threshold=12)
    rgb = skin(64)
    rgb[:, 30:32] = (40, 30, 25)  # a 2-px dark hair across the image
    yy, xx = np.mgrid[:64, :64]
    blob = (yy - 16) ** 2 + (xx - 12) ** 2 < 8**2
    rgb[blob] = (90, 60, 50)  # a 16-px lesion: wider than the kernel
    found = hair_mask(rgb, 9, 12)
    assert found[:, 30:32].mean() > 0.9
    assert found[blob].mean() < 0.3
    out, before, after = remove_hair(rgb, cfg)
    assert before > 0.02
    assert after < before / 2
    assert not hair_mask(out, 9, 12)[:, 26:36].any()  # no hair left; the rest is lesion rim
    assert out[40:64, 30:32].mean() > 120  # hair pixels now skin-coloured


def test_preprocess_shape_and_bad_input() -> None:
    done = preprocess(skin(50), paper(PreprocessConfig, size=32))
    assert done.image.shape == (32, 32, 3)
    assert done.image.dtype == np.uint8
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        preprocess(np.zeros((8, 8), np.uint8), paper(PreprocessConfig, size=32))


def test_config_refuses_bad_values() -> None:
    with pytest.raises(ConfigError, match="multiple of 8"):
        paper(PreprocessConfig, size=100)
    with pytest.raises(ConfigError, match="odd"):
        paper(PreprocessConfig, hair_kernel=8)
