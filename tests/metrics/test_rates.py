"""Hand-computed cases for the base rates and the one ROC AUC."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmark.metrics import rates
from benchmark.metrics.rates import (
    NO_NEG,
    NO_POS,
    NO_PRED,
    NO_ROWS,
    ONE_CLASS,
    RATES,
    Confusion,
    Rate,
    confusion,
    confusion_rates,
    roc_auc,
)

# Hand case: TP 2 (rows 0, 1), FN 1 (row 2), FP 1 (row 3), TN 3 (rows 4-6); n 7, P 3, N 4.
Y = [1, 1, 1, 0, 0, 0, 0]
P = [1, 1, 0, 1, 0, 0, 0]


def _reasons(got: dict[str, Rate]) -> dict[str, str | None]:
    return {m: r.reason for m, r in got.items()}


def test_confusion_counts_by_hand() -> None:
    got = confusion(Y, P)
    assert got == Confusion(tp=2, fp=1, fn=1, tn=3)
    assert (got.n, got.positives, got.negatives, got.predicted_positives) == (7, 3, 4, 3)
    # The MetricFrame columns (n, positives, tp, fp) rebuild the same counts.
    assert Confusion.from_counts(n=7, positives=3, tp=2, fp=1) == got
    # Bool predictions count like 0/1 ones.
    assert confusion(np.array(Y), np.array(P, dtype=bool)) == got


def test_rates_by_hand() -> None:
    got = confusion_rates(confusion(Y, P))
    assert tuple(got) == RATES
    # accuracy (2 + 3) / 7; sensitivity 2 / 3; specificity 3 / 4; precision 2 / (2 + 1);
    # F1 2*2 / (2*2 + 1 + 1) = 4 / 6; selection rate (2 + 1) / 7.
    expected = [5 / 7, 2 / 3, 3 / 4, 2 / 3, 2 / 3, 3 / 7]
    assert [got[m].value for m in RATES] == pytest.approx(expected, abs=1e-15)
    # Support: the denominator (positives for F1).
    assert [got[m].support for m in RATES] == [7, 3, 4, 3, 3, 7]
    assert all(r.defined and r.reason is None for r in got.values())


def test_no_positives_sensitivity_and_f1_nan_even_with_false_positives() -> None:
    # y 0 0 0, pred 1 0 0: TP 0, FP 1, TN 2. The F1 formula would give 0 / (0 + 1 + 0) = 0.
    got = confusion_rates(confusion([0, 0, 0], [1, 0, 0]))
    assert math.isnan(got["sensitivity"].value)
    assert math.isnan(got["f1"].value)
    assert _reasons(got) == {
        "accuracy": None,
        "sensitivity": NO_POS,
        "specificity": None,
        "precision": None,
        "f1": NO_POS,
        "selection_rate": None,
    }
    assert got["f1"].support == 0
    assert got["sensitivity"].support == 0
    # Precision is defined: 0 true of 1 predicted positive. Specificity 2 / 3.
    assert got["precision"] == Rate(0.0, 1)
    assert got["specificity"].value == pytest.approx(2 / 3)
    assert got["accuracy"].value == pytest.approx(2 / 3)


def test_no_predicted_positives_precision_nan_but_f1_zero() -> None:
    # y 1 0, pred 0 0: TP 0, FN 1, TN 1. F1 = 0 / (0 + 0 + 1) = 0, defined (P = 1).
    got = confusion_rates(confusion([1, 0], [0, 0]))
    assert math.isnan(got["precision"].value)
    assert got["precision"].reason == NO_PRED
    assert got["f1"] == Rate(0.0, 1)
    assert got["sensitivity"] == Rate(0.0, 1)
    assert got["specificity"] == Rate(1.0, 1)
    assert got["selection_rate"] == Rate(0.0, 2)


def test_no_negatives_specificity_nan() -> None:
    # y 1 1, pred 1 0: TP 1, FN 1; no negatives.
    got = confusion_rates(confusion([1, 1], [1, 0]))
    assert math.isnan(got["specificity"].value)
    assert (got["specificity"].support, got["specificity"].reason) == (0, NO_NEG)
    assert got["sensitivity"] == Rate(0.5, 2)
    assert got["precision"] == Rate(1.0, 1)


def test_no_rows_every_rate_nan_with_reason() -> None:
    got = confusion_rates(confusion([], []))
    assert all(math.isnan(r.value) and r.support == 0 for r in got.values())
    assert _reasons(got) == {
        "accuracy": NO_ROWS,
        "sensitivity": NO_POS,
        "specificity": NO_NEG,
        "precision": NO_PRED,
        "f1": NO_POS,
        "selection_rate": NO_ROWS,
    }


def test_array_functions_are_the_rates_of_the_counts() -> None:
    assert rates.accuracy(Y, P).value == pytest.approx(5 / 7)
    assert rates.sensitivity(Y, P).value == pytest.approx(2 / 3)
    assert rates.recall(Y, P) == rates.sensitivity(Y, P)
    assert rates.specificity(Y, P).value == pytest.approx(3 / 4)
    assert rates.precision(Y, P).value == pytest.approx(2 / 3)
    assert rates.f1_score(Y, P).value == pytest.approx(2 / 3)
    assert rates.selection_rate(Y, P).value == pytest.approx(3 / 7)
    assert rates.sensitivity([0, 0], [1, 1]).reason == NO_POS
    assert rates.f1_score.__name__ == "f1"


@pytest.mark.parametrize(
    ("y_true", "y_pred"),
    [([0, 1], [0, 2]), ([0, 3], [0, 1]), ([0, 1, 1], [0, 1]), ([[0, 1]], [[0, 1]])],
)
def test_confusion_rejects_bad_input(y_true: list[int], y_pred: list[int]) -> None:
    with pytest.raises(ValueError, match=r"y_true|y_pred"):
        confusion(y_true, y_pred)


def test_auc_by_hand() -> None:
    # Positives 0.35, 0.8; negatives 0.1, 0.4. Pairs won: 0.35 > 0.1, 0.8 > 0.1, 0.8 > 0.4;
    # 0.35 < 0.4 lost: 3 of 4.
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == Rate(0.75, 4)
    # A tie counts 1/2: positive 0.6 beats 0.2 and ties 0.6 -> 1.5 / 2.
    assert roc_auc([0, 0, 1], [0.2, 0.6, 0.6]).value == pytest.approx(0.75)
    # Perfectly reversed scores: no pair won.
    assert roc_auc([1, 0], [0.1, 0.9]).value == 0.0


def test_auc_one_class_is_nan_with_reason() -> None:
    got = roc_auc([1, 1], [0.2, 0.9])
    assert math.isnan(got.value)
    assert (got.support, got.reason, got.defined) == (2, ONE_CLASS, False)
    assert roc_auc([0, 0, 0], [0.1, 0.2, 0.3]).reason == ONE_CLASS
    empty = roc_auc([], [])
    assert math.isnan(empty.value)
    assert (empty.support, empty.reason) == (0, ONE_CLASS)


def test_auc_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="equal"):
        roc_auc([0, 1], [0.5])
    with pytest.raises(ValueError, match="0/1"):
        roc_auc([0, 2], [0.1, 0.2])
