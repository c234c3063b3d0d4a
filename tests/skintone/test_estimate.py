"""One-image ITA: skin rules, uncertain cases, lesion and vignette handling, spread."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmark.core.color import srgb_to_lab
from benchmark.core.config.data import SkintoneConfig
from benchmark.core.fitzpatrick import ita_degrees
from benchmark.skintone.estimate import estimate, skin_mask
from benchmark.skintone.robust import mode_centre
from tests.support.config import default

SKIN = (200, 150, 120)  # Cb 102, Cr 159: skin under both rules
CFG = default(SkintoneConfig, max_side=0)


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
    got = estimate(_flat(SKIN, size=22), None, default(SkintoneConfig, min_skin_pixels=100))[
        "paper"
    ]
    assert got.fst != "uncertain"
    assert got.skin_pixels == 484


PURPLE = (200, 150, 210)  # a skin-rule pixel whose b* is negative (L* 67.4)


def test_non_positive_b_star_is_uncertain_under_the_guarded_paper_rule() -> None:
    assert srgb_to_lab(np.array(PURPLE, np.uint8))[2] < 0
    got = estimate(_flat(PURPLE), None, CFG)["paper_guarded"]
    assert got.skin_pixels == 64 * 64
    assert got.b_star < 0
    assert got.fst == "uncertain"
    assert math.isnan(got.ita)


def test_literal_paper_formula_turns_a_bluish_background_into_type_vi() -> None:
    lab = srgb_to_lab(np.array(PURPLE, np.uint8))
    got = estimate(_flat(PURPLE), None, CFG)["paper"]
    expected = math.degrees(math.atan((lab[0] - 50) / lab[2]))
    assert got.ita == pytest.approx(expected, abs=1e-3)
    assert got.ita < -30
    assert got.fst == "VI"


def test_robust_types_a_bluish_cast_by_lightness() -> None:
    lab = srgb_to_lab(np.array(PURPLE, np.uint8))
    got = estimate(_flat(PURPLE), None, CFG)["robust"]
    assert got.ita == pytest.approx(math.degrees(math.atan2(lab[0] - 50, lab[2])), abs=1e-3)
    assert got.ita > 90
    assert got.fst == "I"


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
    got = estimate(image, None, default(SkintoneConfig, max_side=0, primary="paper"))["paper"]
    halves = [_ita(SKIN), _ita((180, 120, 90))]
    # 8x8 patches: 32 of each colour, so the sample std is |a - b| / 2 * sqrt(64 / 63).
    assert got.spread == pytest.approx(
        abs(halves[0] - halves[1]) / 2 * math.sqrt(64 / 63), rel=1e-3
    )


def test_lesion_mask_of_wrong_size() -> None:
    with pytest.raises(ValueError, match="lesion mask is 10x10 but the image is 64x64"):
        estimate(_flat(SKIN), np.zeros((10, 10), bool), CFG)
    with pytest.raises(ValueError, match="estimated lesion mask is 10x10 but the image is 64x64"):
        estimate(_flat(SKIN), np.zeros((10, 10), bool), CFG, lesion_source="estimated")


def _with_lesion(size: int = 120) -> tuple[np.ndarray, np.ndarray]:
    image = _flat(SKIN, size)
    yy, xx = np.mgrid[0:size, 0:size]
    lesion = (yy - size / 2) ** 2 + (xx - size / 2) ** 2 <= (size / 4) ** 2
    image[lesion] = (120, 70, 50)
    return image, lesion


def test_robust_without_a_mask_estimates_the_lesion_and_leaves_it_out() -> None:
    image, _ = _with_lesion()
    got = estimate(image, None, CFG)
    assert got["robust"].mask_source == "estimated"
    assert got["robust"].note == ""
    assert got["robust"].ita == pytest.approx(_ita(SKIN), abs=1e-3)
    assert got["paper"].ita < _ita(SKIN) - 5
    assert "lesion_excluded" not in got  # only a ground-truth mask defines that estimate


def test_ground_truth_mask_is_recorded_as_such() -> None:
    image, lesion = _with_lesion()
    assert estimate(image, lesion, CFG)["robust"].mask_source == "ground_truth"


def test_an_estimated_lesion_covering_almost_everything_is_uncertain_with_its_reason() -> None:
    image = _flat(SKIN, 100)
    most = np.ones((100, 100), bool)
    most[:3] = False
    got = estimate(image, most, CFG, lesion_source="estimated")["robust"]
    assert got.fst == "uncertain"
    assert got.mask_source == "estimated"
    assert "too little skin" in got.note
    assert "over 90%" in got.note


def test_no_lesion_found_excludes_nothing_and_says_so() -> None:
    got = estimate(_flat(SKIN), None, CFG)["robust"]  # flat: Max-Flow finds no lesion
    assert got.mask_source == "none"
    assert "no lesion found" in got.note
    assert got.ita == pytest.approx(_ita(SKIN), abs=1e-3)
    tiny = np.zeros((64, 64), bool)
    tiny[0, 0] = True
    assert estimate(_flat(SKIN), tiny, CFG, lesion_source="estimated")["robust"].mask_source == (
        "none"
    )


def test_lesion_exclusion_off_is_recorded() -> None:
    image, lesion = _with_lesion()
    off = default(SkintoneConfig, max_side=0, exclude_lesion=False, center="mean")
    got = estimate(image, lesion, off)["robust"]
    assert got.mask_source == "none"
    assert got.ita < _ita(SKIN) - 1  # the lesion is in (a mean, unlike the mode, shows it)


def test_a_lesion_filling_the_view_leaves_skin_only_at_the_rim() -> None:
    image = _flat(SKIN, 100)
    yy, xx = np.mgrid[0:100, 0:100]
    lesion = (yy - 49.5) ** 2 + (xx - 49.5) ** 2 <= 47**2
    image[lesion] = (120, 70, 50)
    got = estimate(image, lesion, default(SkintoneConfig, max_side=0, lesion_margin=0.0))["robust"]
    assert got.ita == pytest.approx(_ita(SKIN), abs=1e-3)  # measured in the corners


def test_mode_ignores_a_minority_of_far_colours() -> None:
    rng = np.random.default_rng(0)
    skin = np.clip(rng.normal(SKIN, 2.0, (5000, 3)), 0, 255).astype(np.uint8)
    light, yellow = srgb_to_lab(skin)[:, 0].mean(), srgb_to_lab(skin)[:, 2].mean()
    dark = np.tile(np.array([[90, 50, 40]], np.uint8), (1500, 1))
    got = mode_centre(np.concatenate([skin, dark]))
    assert got[0] == pytest.approx(light, abs=0.3)
    assert got[1] == pytest.approx(yellow, abs=0.3)


@pytest.mark.parametrize(
    ("rgb", "reason"), [((128, 128, 128), "grey image"), ((6, 2, 1), "near-black image")]
)
def test_colour_constancy_on_a_grey_or_near_black_image_is_uncertain_with_the_reason(
    rgb: tuple[int, int, int], reason: str
) -> None:
    cfg = default(SkintoneConfig, colour_constancy="shades_of_gray", min_skin_pixels=1)
    got = estimate(_flat(rgb), None, cfg)
    assert got["robust"].fst == "uncertain"
    assert got["robust"].note.startswith(reason)
    # The paper's rule is computed as printed, never colour-corrected.
    assert "colour constancy" not in got["paper"].note


def test_colour_constancy_takes_uniform_skin_for_the_illuminant() -> None:
    """Why it is off by default: on skin alone, the skin's own colour is the 'cast'."""
    plain = estimate(_flat(SKIN), None, CFG)["robust"]
    grey = estimate(_flat(SKIN), None, default(SkintoneConfig, colour_constancy="gray_world"))[
        "robust"
    ]
    assert plain.b_star > 10
    assert abs(grey.b_star) < 0.5  # the skin's yellow removed
    assert grey.l_star == pytest.approx(plain.l_star, abs=3)  # brightness kept
