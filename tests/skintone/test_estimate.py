"""One-image ITA: skin rules, uncertain cases, lesion and vignette handling, spread."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmark.config.data import SkintoneConfig
from benchmark.skintone.color import srgb_to_lab
from benchmark.skintone.estimate import estimate, skin_mask
from benchmark.skintone.fitzpatrick import ita_degrees

SKIN = (200, 150, 120)  # Cb 102, Cr 159: skin under both rules
CFG = SkintoneConfig(max_side=0)


def _flat(color: tuple[int, int, int], size: int = 64) -> np.ndarray:
    return np.full((size, size, 3), color, np.uint8)


def _ita(color: tuple[int, int, int]) -> float:
    lab = srgb_to_lab(np.array(color, np.uint8))
    return float(ita_degrees(lab[0], lab[2]))


@pytest.mark.parametrize(
    ("rgb", "paper", "classic"),
    [
        # Y = .299R + .587G + .114B; Cb = 128 + .564(B - Y); Cr = 128 + .713(R - Y)
        (SKIN, True, True),  # Y 161.5, Cb 105, Cr 155
        ((220, 120, 200), True, False),  # Y 159, Cb 151 (> 127), Cr 171
        ((240, 60, 60), True, False),  # Y 113, Cb 100, Cr 219 (> 173)
        ((128, 128, 128), False, False),  # Cr 128 < 133
        ((0, 0, 0), False, False),
    ],
)
def test_skin_rules(rgb: tuple[int, int, int], paper: bool, classic: bool) -> None:
    image = np.array([[rgb]], np.uint8)
    assert bool(skin_mask(image, "paper")[0, 0]) is paper
    assert bool(skin_mask(image, "classic")[0, 0]) is classic


def test_flat_skin_gives_the_exact_ita() -> None:
    got = estimate(_flat(SKIN), None, CFG)
    assert got["paper"].ita == pytest.approx(_ita(SKIN), abs=1e-3)
    assert got["paper"].skin_pixels == 64 * 64
    assert got["paper"].spread == pytest.approx(0.0, abs=1e-6) or math.isnan(got["paper"].spread)
    assert got["robust"].ita == pytest.approx(_ita(SKIN), abs=1e-3)


@pytest.mark.parametrize("image", [_flat((0, 0, 0)), _flat((128, 128, 128)), _flat(SKIN, size=22)])
def test_too_few_skin_pixels_is_uncertain(image: np.ndarray) -> None:
    got = estimate(image, None, CFG)["paper"]
    assert got.fst == "uncertain"
    assert math.isnan(got.ita)
    assert got.skin_pixels < 500


def test_min_skin_pixels_is_a_parameter() -> None:
    got = estimate(_flat(SKIN, size=22), None, SkintoneConfig(min_skin_pixels=100))["paper"]
    assert got.fst != "uncertain"
    assert got.skin_pixels == 484


def test_non_positive_b_star_is_uncertain() -> None:
    purple = (200, 150, 210)  # a skin-rule pixel whose b* is negative
    assert srgb_to_lab(np.array(purple, np.uint8))[2] < 0
    got = estimate(_flat(purple), None, CFG)["paper"]
    assert got.skin_pixels == 64 * 64
    assert got.b_star < 0
    assert got.fst == "uncertain"
    assert math.isnan(got.ita)


def test_lesion_pulls_the_paper_rule_darker_and_exclusion_removes_it() -> None:
    image = _flat(SKIN, 100)
    lesion = np.zeros((100, 100), bool)
    lesion[30:70, 30:70] = True
    image[lesion] = (120, 70, 50)  # dark brown lesion, still skin-coloured
    got = estimate(image, lesion, CFG)
    assert got["paper"].ita < _ita(SKIN) - 5
    assert got["lesion_excluded"].ita == pytest.approx(_ita(SKIN), abs=1e-3)
    assert got["robust"].ita == pytest.approx(_ita(SKIN), abs=1e-3)


def test_robust_ignores_vignette_corners() -> None:
    image = _flat(SKIN, 100)
    yy, xx = np.mgrid[0:100, 0:100]
    corner = (yy - 49.5) ** 2 + (xx - 49.5) ** 2 > 50**2
    image[corner] = (110, 70, 55)  # dark rim, still skin-coloured
    got = estimate(image, None, CFG)
    assert got["paper"].ita < _ita(SKIN) - 2
    assert got["robust"].ita == pytest.approx(_ita(SKIN), abs=1e-3)


def test_spread_grows_with_uneven_skin() -> None:
    image = _flat(SKIN, 128)
    image[:, 64:] = (180, 120, 90)
    got = estimate(image, None, SkintoneConfig(max_side=0, primary="paper"))["paper"]
    halves = [_ita(SKIN), _ita((180, 120, 90))]
    # 8x8 patches: 32 of each colour, so the sample std is |a - b| / 2 * sqrt(64 / 63).
    assert got.spread == pytest.approx(
        abs(halves[0] - halves[1]) / 2 * math.sqrt(64 / 63), rel=1e-3
    )


def test_lesion_mask_of_wrong_size() -> None:
    with pytest.raises(ValueError, match="lesion mask is 10x10 but the image is 64x64"):
        estimate(_flat(SKIN), np.zeros((10, 10), bool), CFG)
