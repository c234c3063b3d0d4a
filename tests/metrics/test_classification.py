"""Hand-computed cases for Table 5's metrics: ``binary_summary`` and ``weighted_log_loss``."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from benchmark.metrics.classification import EPS, auc, binary_summary, weighted_log_loss

# Hand case at threshold 0.5: predictions 1 0 1 0 0, so TP 1 (row 0), FN 1 (row 1),
# FP 1 (row 2), TN 2 (rows 3, 4).
Y = [1, 1, 0, 0, 0]
S = [0.9, 0.3, 0.6, 0.2, 0.1]
# Probability of the true class per row: 0.9, 0.3, 1 - 0.6, 1 - 0.2, 1 - 0.1.
P_TRUE = [0.9, 0.3, 0.4, 0.8, 0.9]
KEYS = ["loss", "accuracy", "auc", "precision", "recall", "f1", "n", "positives", "undefined"]


def test_binary_summary_by_hand() -> None:
    got = binary_summary(Y, S)
    assert list(got) == KEYS
    # accuracy (1 + 2) / 5; precision 1 / (1 + 1); recall 1 / (1 + 1); F1 2 / (2 + 1 + 1).
    # AUC: positive 0.9 beats all 3 negatives, 0.3 beats 0.2 and 0.1: 5 of 6 pairs.
    # loss: -(ln 0.9 + ln 0.3 + ln 0.4 + ln 0.8 + ln 0.9) / 5 = 2.5541281 / 5 = 0.5108256.
    expected = {"accuracy": 3 / 5, "auc": 5 / 6, "precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert {m: got[m] for m in expected} == pytest.approx(expected, abs=1e-15)
    assert got["loss"] == pytest.approx(0.5108256, abs=1e-7)
    assert (got["n"], got["positives"], got["undefined"]) == (5, 2, {})


def test_binary_summary_threshold_is_inclusive() -> None:
    # Threshold 0.3: row 1 (score exactly 0.3) becomes a TP; predictions 1 1 1 0 0.
    # TP 2, FP 1, FN 0, TN 2: accuracy 4/5, precision 2/3, recall 1, F1 4 / (4 + 1) = 4/5.
    got = binary_summary(Y, S, threshold=0.3)
    assert [got[m] for m in ("accuracy", "precision", "recall", "f1")] == pytest.approx(
        [4 / 5, 2 / 3, 1.0, 4 / 5]
    )
    # AUC and loss do not depend on the threshold.
    assert got["auc"] == pytest.approx(5 / 6)
    assert got["loss"] == pytest.approx(binary_summary(Y, S)["loss"])


def test_binary_summary_without_positives() -> None:
    # All negative; prediction 1 0 0: TP 0, FP 1, TN 2. Precision 0 / 1 = 0 is defined;
    # recall and F1 have no positives, AUC one class.
    got = binary_summary([0, 0, 0], [0.7, 0.2, 0.1])
    assert got["precision"] == 0.0
    assert got["accuracy"] == pytest.approx(2 / 3)
    assert all(math.isnan(got[m]) for m in ("recall", "f1", "auc"))
    assert got["undefined"] == {
        "recall": "no positives",
        "f1": "no positives",
        "auc": "one class only",
    }
    assert list(got["undefined"]) == ["recall", "f1", "auc"]
    assert (got["n"], got["positives"]) == (3, 0)


def test_binary_summary_without_predicted_positives() -> None:
    # y 1 0, scores 0.2 0.1: nothing predicted 1. TP 0, FN 1, TN 1: precision undefined;
    # recall 0 / 1 = 0 and F1 0 / (0 + 0 + 1) = 0 are defined; AUC 1 (0.2 > 0.1).
    got = binary_summary([1, 0], [0.2, 0.1])
    assert math.isnan(got["precision"])
    assert got["undefined"] == {"precision": "no predicted positives"}
    assert (got["recall"], got["f1"], got["auc"], got["accuracy"]) == (0.0, 0.0, 1.0, 0.5)


def test_binary_summary_no_rows() -> None:
    got = binary_summary([], [])
    assert all(math.isnan(got[m]) for m in KEYS[:6])
    assert (got["n"], got["positives"]) == (0, 0)
    # Accuracy and loss are NaN without an entry here (the key set Table 5 has always had).
    assert list(got["undefined"]) == ["precision", "recall", "f1", "auc"]


@pytest.mark.parametrize(
    ("y_true", "y_score", "match"),
    [([0, 2], [0.1, 0.2], "0/1"), ([0, 1], [0.1, 1.5], r"\[0, 1\]"), ([0, 1], [0.1], "equal")],
)
def test_binary_summary_rejects_bad_input(
    y_true: list[int], y_score: list[float], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        binary_summary(y_true, y_score)


def test_weighted_log_loss_by_hand() -> None:
    # Unweighted: the mean of -ln P_TRUE (see test_binary_summary_by_hand).
    assert weighted_log_loss(Y, S) == pytest.approx(-np.mean(np.log(P_TRUE)), abs=1e-15)
    # Weights (1, 3): rows 0 and 1 weigh 3, the rest 1; total 9.
    # (3 * (0.1053605 + 1.2039728) + 0.9162907 + 0.2231436 + 0.1053605) / 9 = 0.5747550.
    assert weighted_log_loss(Y, S, (1.0, 3.0)) == pytest.approx(0.5747550, abs=1e-7)


def test_weighted_log_loss_matches_torch_cross_entropy() -> None:
    # CrossEntropyLoss on logits ln(1 - p), ln(p) sees the probabilities p, 1 - p.
    scores = torch.tensor(S, dtype=torch.float64)
    logits = torch.stack([torch.log(1 - scores), torch.log(scores)], dim=1)
    weight = torch.tensor([2.0, 0.5], dtype=torch.float64)
    ref = torch.nn.CrossEntropyLoss(weight=weight)(logits, torch.tensor(Y))
    assert weighted_log_loss(Y, S, (2.0, 0.5)) == pytest.approx(float(ref), abs=1e-12)


def test_weighted_log_loss_clips_certain_mistakes() -> None:
    # Score 1 for a negative: P(true) = 0 clipped to EPS, so the loss is -ln(1e-7) = 16.118.
    assert weighted_log_loss([0], [1.0]) == pytest.approx(-math.log(EPS))
    assert weighted_log_loss([0], [1.0]) == pytest.approx(16.1180957, abs=1e-7)
    # A certain hit is clipped to 1 - EPS: loss -ln(1 - 1e-7), about 1e-7, not 0.
    assert weighted_log_loss([1], [1.0]) == pytest.approx(1e-7, rel=1e-6)
    assert math.isnan(weighted_log_loss([], []))


def test_auc_by_hand_and_one_class() -> None:
    # Positives 0.9, 0.3 vs negatives 0.6, 0.2, 0.1: 5 of 6 pairs (as in the summary).
    assert auc(Y, S) == pytest.approx(5 / 6)
    assert math.isnan(auc([1, 1], [0.3, 0.4]))
