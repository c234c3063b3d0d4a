from __future__ import annotations

import math

import numpy as np
import pytest

from benchmark.core.color import lab_to_srgb, srgb_to_lab
from benchmark.core.fitzpatrick import (
    fst_from_ita,
    fst_interval,
    ita_angle,
    ita_degrees,
    ita_literal,
)


@pytest.mark.parametrize(
    ("ita", "label"),
    [
        (80.0, "I"),
        (55.0001, "I"),
        (55.0, "II"),
        (41.0001, "II"),
        (41.0, "III"),
        (28.0, "IV"),
        (10.0, "V"),
        (-29.9999, "V"),
        (-30.0, "VI"),
        (-80.0, "VI"),
        (float("nan"), "uncertain"),
    ],
)
def test_bins_close_upper_bound_to_darker_type(ita: float, label: str) -> None:
    assert fst_from_ita(ita) == label


def test_ita_hand_computed() -> None:
    # atan((65 - 50) / 15) = 45 degrees; atan((50 - 50) / 10) = 0; atan(-10 / 10) = -45.
    got = ita_degrees([65.0, 50.0, 40.0], [15.0, 10.0, 10.0])
    np.testing.assert_allclose(got, [45.0, 0.0, -45.0])


def test_ita_undefined_for_non_positive_b() -> None:
    got = ita_degrees([60.0, 60.0], [0.0, -3.0])
    assert np.isnan(got).all()
    assert fst_from_ita(float(got[0])) == "uncertain"


def test_srgb_to_lab_reference_values() -> None:
    # Reference values for D65 sRGB (Bruce Lindbloom's calculator).
    lab = srgb_to_lab(np.array([[255, 255, 255], [255, 0, 0], [0, 0, 0]], np.uint8))
    np.testing.assert_allclose(lab[0], [100.0, 0.0, 0.0], atol=0.01)
    np.testing.assert_allclose(lab[1], [53.24, 80.09, 67.20], atol=0.02)
    np.testing.assert_allclose(lab[2], [0.0, 0.0, 0.0], atol=1e-9)


def test_lab_round_trip_in_gamut() -> None:
    lab = np.array([[70.0, 10.0, 18.0], [35.0, 12.0, 20.0]])
    np.testing.assert_allclose(srgb_to_lab(lab_to_srgb(lab)), lab, atol=1e-6)


def test_intervals_tile_the_range() -> None:
    assert fst_interval("I") == (55.0, 80.0)
    assert fst_interval("III") == (28.0, 41.0)
    assert fst_interval("VI") == (-60.0, -30.0)
    assert math.isclose(fst_interval("V")[0], -30.0)


def test_literal_formula_has_no_b_star_guard() -> None:
    # The paper's formula as printed: L* = 65, b* = -3 -> atan(-5) = -78.69 degrees, type VI.
    value = float(ita_literal(65.0, -3.0))
    assert value == pytest.approx(-78.690, abs=1e-3)
    assert fst_from_ita(value) == "VI"
    assert math.isnan(float(ita_degrees(65.0, -3.0)))
    assert float(ita_literal(65.0, 0.0)) == 90.0
    assert float(ita_literal(40.0, 0.0)) == -90.0


@pytest.mark.parametrize(("l_star", "b_star"), [(65.0, 15.0), (40.0, 20.0), (50.0, 5.0)])
def test_angle_equals_the_formula_for_positive_b_star(l_star: float, b_star: float) -> None:
    assert float(ita_angle(l_star, b_star)) == pytest.approx(float(ita_degrees(l_star, b_star)))


def test_angle_types_a_bluish_cast_by_lightness() -> None:
    assert float(ita_angle(65.0, -3.0)) == pytest.approx(180 - 78.690, abs=1e-3)
    assert fst_from_ita(float(ita_angle(65.0, -3.0))) == "I"
    assert fst_from_ita(float(ita_angle(40.0, -3.0))) == "VI"
