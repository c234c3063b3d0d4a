from __future__ import annotations

import math

import pytest

from benchmark.metrics.agreement import fst_agreement


def test_hand_computed_agreement() -> None:
    true = ["I", "II", "III", "IV", None, "VI"]
    pred = ["I", "III", "III", "VI", "II", "uncertain"]
    got = fst_agreement(true, pred)
    # Labelled and estimated: (I,I) (II,III) (III,III) (IV,VI): exact 2/4, within one 3/4.
    assert got["support"] == 4
    assert got["uncertain"] == 1
    assert got["exact"] == pytest.approx(0.5)
    assert got["within_one"] == pytest.approx(0.75)
    assert got["confusion"]["VI"]["uncertain"] == 1
    assert got["confusion"]["IV"]["VI"] == 1
    assert sum(sum(r.values()) for r in got["confusion"].values()) == 5


def test_perfect_agreement_has_kappa_one() -> None:
    got = fst_agreement(["I", "III", "V", "VI"], ["I", "III", "V", "VI"])
    assert got["kappa_quadratic"] == pytest.approx(1.0)


def test_quadratic_kappa_hand_computed() -> None:
    # Types I and II swapped, weights (i - j)^2 / 25: observed disagreement 1/25, expected
    # from the marginals 1/50, so kappa = 1 - (1/25) / (1/50) = -1.
    got = fst_agreement(["I", "II"], ["II", "I"])
    assert got["kappa_quadratic"] == pytest.approx(-1.0)


def test_no_overlap_is_nan_with_reason() -> None:
    got = fst_agreement([None, "II"], ["I", "uncertain"])
    assert math.isnan(got["exact"])
    assert got["support"] == 0
    assert "no image" in got["reason"]


def test_single_type_kappa_is_nan_with_reason() -> None:
    got = fst_agreement(["II", "II"], ["II", "II"])
    assert got["exact"] == 1.0
    assert math.isnan(got["kappa_quadratic"])
    assert "single type" in got["reason"]


def test_length_mismatch() -> None:
    with pytest.raises(ValueError, match="2 items"):
        fst_agreement(["I", "II"], ["I"])
