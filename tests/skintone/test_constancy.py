"""Colour constancy: known answers of each method, refusals, and the measured effect on ITA."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmark.core.config.data import PhantomConfig
from benchmark.phantoms.generate import generate_phantoms
from benchmark.skintone.constancy import METHODS, Method, apply_cast, correct, illuminant
from tests.perf.colour_cast import CASTS, UNIFORM_MIX, cast_errors
from tests.support.config import paper

SKIN = (180, 120, 90)


def _linear(value: float) -> float:
    """sRGB (IEC 61966-2-1) decoding of one 8-bit value, written out independently."""
    x = value / 255
    return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4


def _flat(color: tuple[int, int, int], shape: tuple[int, int] = (16, 16)) -> np.ndarray:
    return np.full((*shape, 3), color, np.uint8)


def test_gray_world_maps_a_uniform_cast_back_to_neutral() -> None:
    cast = apply_cast(_flat((128, 128, 128)), (1.25, 1.0, 0.8))
    got = correct(cast, "gray_world")
    # The illuminant is the cast: gains = mean / cast = (0.813, 1.017, 1.271), up to the
    # 8-bit rounding of the cast image (about 0.5%).
    np.testing.assert_allclose(got.gains, (3.05 / 3 / 1.25, 3.05 / 3, 3.05 / 3 / 0.8), rtol=0.01)
    assert got.note == ""
    assert int(got.rgb.max()) - int(got.rgb.min()) <= 1  # neutral grey again
    assert abs(int(got.rgb[0, 0, 1]) - 128) <= 2  # at the illuminant's mean brightness


def test_shades_of_gray_is_the_minkowski_six_norm() -> None:
    a, b = (200, 100, 50), (100, 150, 250)
    image = np.concatenate([_flat(a, (8, 16)), _flat(b, (8, 16))])
    expected = [
        ((_linear(x) ** 6 + _linear(y) ** 6) / 2) ** (1 / 6) for x, y in zip(a, b, strict=True)
    ]
    np.testing.assert_allclose(expected, (0.51458, 0.27195, 0.85168), atol=1e-5)
    np.testing.assert_allclose(illuminant(image, "shades_of_gray"), expected, rtol=1e-5)
    gains = correct(image, "shades_of_gray").gains
    np.testing.assert_allclose(gains, np.mean(expected) / np.array(expected), rtol=1e-5)


def test_gray_world_is_the_mean_and_where_restricts_the_pixels() -> None:
    image = np.concatenate([_flat((128, 128, 128), (8, 16)), _flat(SKIN, (8, 16))])
    mean = [(_linear(128) + _linear(c)) / 2 for c in SKIN]
    np.testing.assert_allclose(illuminant(image, "gray_world"), mean, rtol=1e-6)
    grey_half = np.zeros((16, 16), bool)
    grey_half[:8] = True
    got = correct(image, "gray_world", where=grey_half)
    np.testing.assert_allclose(got.gains, (1.0, 1.0, 1.0), rtol=1e-6)
    np.testing.assert_array_equal(got.rgb, image)


def test_max_rgb_ignores_a_small_specular_highlight() -> None:
    image = _flat(SKIN, (40, 50))  # 2000 pixels
    image.reshape(-1, 3)[:10] = 255  # 0.5% specular highlight
    e = [_linear(c) for c in SKIN]
    np.testing.assert_allclose(illuminant(image, "max_rgb"), e, rtol=1e-6)
    np.testing.assert_allclose(correct(image, "max_rgb").gains, np.mean(e) / np.array(e), rtol=1e-6)


def test_none_is_the_identity() -> None:
    image = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    got = correct(image, "none")
    assert got.rgb is image
    assert got.gains == (1.0, 1.0, 1.0)
    assert got.note == ""
    np.testing.assert_array_equal(apply_cast(image, (1.0, 1.0, 1.0)), image)


@pytest.mark.parametrize("method", METHODS[1:])
@pytest.mark.parametrize(
    ("image", "reason"),
    [
        (
            np.stack([np.arange(64, 128, dtype=np.uint8).reshape(8, 8) + k for k in (0, 2, 1)], -1),
            "grey",
        ),
        (_flat((4, 2, 1)), "near-black"),
    ],
)
def test_grey_and_near_black_images_are_left_unchanged_with_a_reason(
    image: np.ndarray, reason: str, method: Method
) -> None:
    got = correct(image, method)
    assert got.note.startswith(reason)
    assert "cannot" in got.note
    assert got.gains == (1.0, 1.0, 1.0)
    np.testing.assert_array_equal(got.rgb, image)


def test_an_illuminant_without_one_channel_or_without_pixels_is_refused() -> None:
    red = _flat((200, 0, 0))
    assert correct(red, "gray_world").note.startswith("the illuminant estimate has almost no")
    nothing = correct(_flat(SKIN), "gray_world", where=np.zeros((16, 16), bool))
    assert nothing.note.startswith("no pixels")
    for got in (correct(red, "gray_world"), nothing):
        assert got.gains == (1.0, 1.0, 1.0)


def test_gray_world_undoes_a_cast_on_a_grey_world_scene() -> None:
    image = _flat((128, 128, 128), (30, 30))
    # Three patches whose colours permute the channels: every channel has the same mean.
    for k, color in enumerate([(200, 100, 50), (50, 200, 100), (100, 50, 200)]):
        image[10 * k : 10 * k + 6, 5:15] = color
    np.testing.assert_allclose(correct(image, "gray_world").gains, (1, 1, 1), rtol=1e-9)
    # A white-balance shift whose mean gain is 1: gray world keeps the illuminant's mean.
    got = correct(apply_cast(image, (1.15, 1.0, 0.85)), "gray_world")
    assert np.abs(got.rgb.astype(int) - image).max() <= 1


def test_colour_casts_move_ita_and_gray_world_removes_the_skin_colour(tmp_path: Path) -> None:
    cfg = paper(PhantomConfig, n=12, size=64, seed=3, fst_mix=UNIFORM_MIX)
    manifest = generate_phantoms(cfg, tmp_path, progress=False, workers=1)
    casts = [c for c in CASTS if c.name in ("none", "warm 1.25", "cool 1.25")]
    table = cast_errors(manifest, tmp_path, ("none", "gray_world"), casts)
    got = table.set_index(["method", "family"])
    mae, b_star = got["ita_mae"], got["b_star_median"]
    # Measured (seed 3): uncast 0.31 deg, warm 8.4, cool 17.3; gray world 50-51 throughout.
    assert mae["none", "none"] < 1.0
    assert mae["none", "warm"] > 5.0
    assert mae["none", "cool"] > 10.0 > 10 * mae["none", "none"]
    for family in ("none", "warm", "cool"):
        # Gray world takes the skin for the illuminant: b* goes to ~0, ITA to +-90.
        assert mae["gray_world", family] > 40.0 > mae["none", "cool"]
        assert abs(b_star["gray_world", family]) < 1.0 < 10.0 < b_star["none", "none"]
    assert (table["uncertain"] == 0).all()
