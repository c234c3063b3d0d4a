"""Multi-class metrics against scikit-learn and fairlearn, hand cases and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fairlearn.metrics import MetricFrame
from sklearn.metrics import balanced_accuracy_score, recall_score, roc_auc_score

from benchmark.metrics.inputs import FairnessInputError
from benchmark.metrics.multiclass import (
    check_labels,
    check_probabilities,
    multiclass_metrics,
    top_label,
)

CLASSES = ("MEL", "NV", "BCC", "BKL")


def _data(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    logits = rng.normal(0, 1, (n, 4)) + 1.5 * np.eye(4)[y]
    prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, prob, rng.choice(["I", "III", "V"], n)


def test_parity_with_scikit_learn_and_fairlearn_per_group() -> None:
    y, prob, groups = _data()
    pred = prob.argmax(axis=1)
    frame = MetricFrame(
        metrics=balanced_accuracy_score, y_true=y, y_pred=pred, sensitive_features=groups
    )
    for g in ("I", "III", "V"):
        rows = groups == g
        result = multiclass_metrics(y[rows], prob[rows], CLASSES)
        assert abs(result.balanced_accuracy.value - frame.by_group[g]) < 1e-9
        macro = roc_auc_score(y[rows], prob[rows], multi_class="ovr", average="macro")
        assert abs(result.macro_auc.value - macro) < 1e-9
        for k, name in enumerate(CLASSES):
            rates = result.per_class[name]
            truth, hit = y[rows] == k, pred[rows] == k
            assert abs(rates["sensitivity"].value - recall_score(truth, hit)) < 1e-9
            assert abs(rates["specificity"].value - recall_score(~truth, ~hit)) < 1e-9
            assert abs(rates["auc"].value - roc_auc_score(truth, prob[rows, k])) < 1e-9


def test_hand_computed_case() -> None:
    # Truth MEL, MEL, NV, NV; arg-max MEL, NV, NV, NV.
    prob = np.array([[0.7, 0.3], [0.4, 0.6], [0.2, 0.8], [0.1, 0.9]])
    result = multiclass_metrics(np.array([0, 0, 1, 1]), prob, ("MEL", "NV"))
    assert result.per_class["MEL"]["sensitivity"].value == 0.5
    assert result.per_class["MEL"]["specificity"].value == 1.0
    assert result.balanced_accuracy.value == 0.75  # (1/2 + 2/2) / 2
    assert result.macro_auc.value == 1.0  # MEL scores 0.7, 0.4 above NV's 0.2, 0.1
    assert result.class_support == {"MEL": 2, "NV": 2}


def test_class_missing_from_a_group_is_nan_with_the_reason() -> None:
    prob = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])
    result = multiclass_metrics(np.array([0, 1, 0]), prob, ("MEL", "NV", "DF"))
    df = result.per_class["DF"]
    assert math.isnan(df["sensitivity"].value)
    assert df["sensitivity"].reason == "no images of class DF"
    assert math.isnan(df["auc"].value)
    assert math.isnan(result.macro_auc.value)
    assert "DF" in str(result.macro_auc.reason)
    # Balanced accuracy is over the classes present, as scikit-learn's.
    assert result.balanced_accuracy.value == balanced_accuracy_score([0, 1, 0], [0, 1, 0])
    assert ("sensitivity[DF]", "no images of class DF") in result.undefined()


def test_scores_that_do_not_sum_to_one_are_refused_or_renormalised() -> None:
    scores = np.array([[0.5, 0.5], [0.6, 0.6]])
    with pytest.raises(FairnessInputError, match=r"sum to 1.2000.*\(row 1\)"):
        check_probabilities(scores, 2)
    np.testing.assert_allclose(check_probabilities(scores, 2, renormalize=True)[1], [0.5, 0.5])
    with pytest.raises(FairnessInputError, match=r"shape \(n, 3\)"):
        check_probabilities(scores, 3)
    with pytest.raises(FairnessInputError, match="in \\[0, 1\\]"):
        check_probabilities(np.array([[1.5, -0.5]]), 2)


def test_labels_by_name_or_index() -> None:
    np.testing.assert_array_equal(
        check_labels(["NV", "MEL", "1", 0.0], ("MEL", "NV")), [1, 0, 1, 0]
    )
    with pytest.raises(FairnessInputError, match=r"\['SCC'\] are none of the classes.*\(row 1\)"):
        check_labels(["NV", "SCC"], ("MEL", "NV"))


def test_top_label_confidence() -> None:
    correct, confidence = top_label(np.array([0, 1]), np.array([[0.7, 0.3], [0.9, 0.1]]))
    np.testing.assert_array_equal(correct, [1, 0])
    np.testing.assert_allclose(confidence, [0.7, 0.9])
