"""The binary audit on hand-computed answers, and against fairlearn and scikit-learn."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    selection_rate,
)
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from benchmark.fairness.binary import binary_audit
from benchmark.fairness.inputs import AuditOptions, RunInput
from benchmark.fairness.result import AuditResult
from benchmark.metrics.fairness import FEW_GROUPS
from benchmark.metrics.weighted import METRICS

# Hand case, threshold 0.5. Group I: TP 1, FN 1, FP 2, TN 0. Group II: TP 1, FN 0, FP 1, TN 2.
Y = [1, 1, 0, 0, 1, 0, 0, 0]
S = [0.9, 0.4, 0.6, 0.55, 0.8, 0.7, 0.2, 0.3]
G = ["I"] * 4 + ["II"] * 4


def _audit(y: Any, s: Any, groups: Any, threshold: float = 0.5, **kw: Any) -> AuditResult:
    """Every group with a positive and a negative compared (hand cases)."""
    options = AuditOptions(min_positives=1, min_negatives=1, calibration_draws=0, **kw)
    run = RunInput("run.csv", s, threshold=threshold)
    return binary_audit(y, [run], groups=groups, options=options)


def _values(result: AuditResult, group: str) -> dict[str, float]:
    return {m: e.value for m, e in result.group(group).metrics.items()}


def _overall(result: AuditResult) -> dict[str, float]:
    return {m: e.value for m, e in result.overall.items()}


def test_hand_computed_per_group_and_overall() -> None:
    got = _audit(Y, S, G)
    # Group I: F1 = 2TP / (2TP + FP + FN) = 2/5; AUC: 0.9 beats 0.6 and 0.55, 0.4 neither.
    i = [1 / 4, 1 / 2, 0.0, 1 / 3, 2 / 5, 1 / 2, 3 / 4]
    assert _values(got, "I") == pytest.approx(dict(zip(METRICS, i, strict=True)))
    ii = [3 / 4, 1.0, 2 / 3, 1 / 2, 2 / 3, 1.0, 1 / 2]
    assert _values(got, "II") == pytest.approx(dict(zip(METRICS, ii, strict=True)))
    counts = got.group("I").counts
    assert (counts.images, counts.positives, counts.negatives) == (4, 2, 2)
    assert got.compared == ("I", "II")
    # Overall: TP 2, FN 1, FP 3, TN 2; AUC: 0.9 and 0.8 beat all 5 negatives, 0.4 beats 2.
    overall = [4 / 8, 2 / 3, 2 / 5, 2 / 5, 4 / 8, 12 / 15, 5 / 8]
    assert _overall(got) == pytest.approx(dict(zip(METRICS, overall, strict=True)))
    assert got.undefined() == [("contrast", "auc primary", got.primary.difference.reason),
                               ("contrast", "sensitivity secondary",
                                got.primary.difference.reason)]  # fmt: skip
    assert got.primary.difference.reason == "no images in V–VI"
    assert got.overall["auc"].interval is None  # no bootstrap asked


def test_hand_computed_worst_group_gaps_eo_dp_equal_fairlearn() -> None:
    got = _audit(Y, S, G)
    worst = [1 / 4, 1 / 2, 0.0, 1 / 3, 2 / 5, 1 / 2]
    for metric, value in zip(METRICS[:-1], worst, strict=True):
        assert (got.gap(metric).worst_group, got.gap(metric).worst_value) == ("I", value)
    gaps = [1 / 2, 1 / 2, 2 / 3, 1 / 6, 2 / 3 - 2 / 5, 1 / 2, 1 / 4]
    for metric, value in zip(METRICS, gaps, strict=True):
        assert got.gap(metric).value.value == pytest.approx(value)
    pred = np.asarray(S) >= 0.5
    eo = equalized_odds_difference(Y, pred, sensitive_features=G)
    dp = demographic_parity_difference(Y, pred, sensitive_features=G)
    assert got.gap("equalized_odds").value.value == pytest.approx(2 / 3) == pytest.approx(eo)
    assert got.gap("demographic_parity").value.value == pytest.approx(1 / 4) == pytest.approx(dp)


def test_threshold_changes_predictions() -> None:
    got = _audit(Y, S, G, threshold=0.65)
    # Predicted positive: 0.9, 0.8, 0.7 -> group I TP 1 FP 0, group II TP 1 FP 1.
    assert got.runs[0].threshold == 0.65
    assert _values(got, "I")["precision"] == 1.0
    assert _values(got, "II")["precision"] == 0.5
    assert got.overall["selection_rate"].value == 3 / 8


def test_undefined_values_are_nan_with_reason_and_left_out_between_groups() -> None:
    # Group III: no positives, one predicted positive. Group IV: positives only, none predicted.
    y = [*Y, 0, 0, 0, 1, 1]
    s = [*S, 0.9, 0.1, 0.2, 0.3, 0.4]
    g = [*G, "III", "III", "III", "IV", "IV"]
    got = _audit(y, s, g)
    iii, iv = _values(got, "III"), _values(got, "IV")
    assert all(math.isnan(iii[m]) for m in ("sensitivity", "f1", "auc"))
    assert iii["precision"] == 0.0  # TP 0, FP 1: defined, and 0
    assert iii["specificity"] == pytest.approx(2 / 3)
    assert math.isnan(iv["specificity"])
    assert math.isnan(iv["precision"])
    assert (iv["sensitivity"], iv["f1"]) == (0.0, 0.0)  # missed every positive
    reasons = {(w, m): r for w, m, r in got.undefined() if w in ("III", "IV")}
    assert reasons == {
        ("III", "sensitivity"): "no positives",
        ("III", "f1"): "no positives",
        ("III", "auc"): "one class only",
        ("IV", "specificity"): "no negatives",
        ("IV", "precision"): "no predicted positives",
        ("IV", "auc"): "one class only",
    }
    # III has no positive and IV no negative: shown, not compared (fairlearn would count
    # III's TPR as 0).
    assert got.compared == ("I", "II")
    assert not got.group("III").compared
    assert not got.group("IV").compared
    assert got.gap("sensitivity").value.value == pytest.approx(1 / 2)
    assert got.gap("auc").worst_group == "I"
    assert got.gap("equalized_odds").value.value == pytest.approx(2 / 3)


def test_single_class_and_one_group_leave_gaps_undefined_with_the_reason() -> None:
    got = _audit([0, 0, 0, 0], [0.1, 0.7, 0.2, 0.9], ["I", "I", "II", "II"])
    assert math.isnan(got.overall["auc"].value)
    assert got.overall["auc"].reason == "one class only"
    assert got.overall["specificity"].value == 0.5
    assert got.compared == ()
    assert got.gap("auc").value.reason == FEW_GROUPS
    assert math.isnan(got.gap("equalized_odds").value.value)
    one = _audit(Y, S, ["IV"] * 8)
    assert all(math.isnan(g.value.value) for g in one.gaps)
    assert one.gap("accuracy").worst_group == "IV"


def test_worst_group_tie_goes_to_first_group_in_order_and_order_is_fitzpatrick() -> None:
    got = _audit([1, 0, 1, 0], [0.9, 0.1, 0.9, 0.1], ["II", "II", "I", "I"])
    assert (got.gap("accuracy").worst_group, got.gap("accuracy").value.value) == ("I", 0.0)
    order = _audit([0, 1, 0, 1], [0.1] * 4, ["uncertain", "VI", "II", "zeta"])
    assert [r.group for r in order.groups] == ["II", "VI", "uncertain", "zeta"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y_true": [0, 2]}, r"label must be 0 or 1, got 2 \(row 1\)"),
        ({"y_score": [0.2, 1.5]}, r"score must be finite and in \[0, 1\], got 1.5 \(row 1\)"),
        ({"y_score": [float("nan"), 0.1]}, r"score must be finite.*\(row 0\)"),
        ({"y_score": [0.2, "high"]}, r"not a number: 'high' \(row 1\)"),
        ({"groups": ["I", None]}, r"group is missing.*\(row 1\)"),
        ({"groups": ["I"]}, "y_true has 2 items but groups has shape"),
        ({"y_true": [], "y_score": [], "groups": []}, "no rows"),
        ({"threshold": 1.2}, r"threshold must be in \[0, 1\]"),
        ({"y_pred": [0, 2]}, r"decisions must be 0 or 1; found \['2'\] \(row 1\)"),
        ({"y_pred": ["yes", "no"]}, r"found \['no', 'yes'\]"),
    ],
)
def test_bad_input_raises_clear_error(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"y_true": [0, 1], "y_score": [0.2, 0.8], "groups": ["I", "II"]}
    args |= kwargs
    run = RunInput("r", args["y_score"], args.get("y_pred"), args.get("threshold", 0.5))
    with pytest.raises(ValueError, match=message):
        binary_audit(args["y_true"], [run], groups=args["groups"])


def test_given_decisions_count_as_sklearn_confusion_matrix_and_skip_the_threshold() -> None:
    rng = np.random.default_rng(4)
    y, s = rng.integers(0, 2, 120), rng.random(120)
    decisions = rng.integers(0, 2, 120)
    g = np.repeat(["I", "II", "V"], 40)
    run = RunInput("reader.csv", s, decisions, threshold_source="decisions in column 'read'")
    got = binary_audit(y, [run], groups=g, options=AuditOptions(calibration_draws=0))
    assert math.isnan(got.runs[0].threshold)
    for group in ("I", "II", "V"):
        rows = g == group
        tn, fp, fn, tp = confusion_matrix(y[rows], decisions[rows], labels=[0, 1]).ravel()
        exact = got.group(group).exact
        assert (exact["sensitivity"].successes, exact["sensitivity"].trials) == (tp, tp + fn)
        assert (exact["specificity"].successes, exact["specificity"].trials) == (tn, tn + fp)
    assert got.overall["auc"].value == pytest.approx(roc_auc_score(y, s))  # scores still used


def _generated() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    spec = {  # group: (size, share of positives, separation)
        "I": (400, 0.6, 2.0), "II": (300, 0.5, 1.5), "III": (250, 0.4, 1.0),
        "IV": (150, 0.3, 0.5), "V": (40, 0.5, 0.2), "VI": (15, 0.0, 0.0),
        "uncertain": (25, 0.5, 1.0),
    }  # fmt: skip
    ys, ss, gs = [], [], []
    for g, (size, share, sep) in spec.items():
        y = (rng.random(size) < share).astype(int)
        logits = rng.normal(size=size) + sep * (y - 0.5) * 2
        ys.append(y)
        ss.append(np.round(1 / (1 + np.exp(-logits)), 2))  # rounded: ties, as real scores have
        gs.append(np.full(size, g))
    return np.concatenate(ys), np.concatenate(ss), np.concatenate(gs)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
@pytest.mark.parametrize("threshold", [0.5, 0.37])
def test_matches_fairlearn_and_sklearn(threshold: float) -> None:
    y, s, g = _generated()
    pred = (s >= threshold).astype(int)
    reference = MetricFrame(
        metrics={
            "accuracy": accuracy_score, "sensitivity": recall_score,
            "specificity": partial(recall_score, pos_label=0), "precision": precision_score,
            "f1": f1_score, "selection_rate": selection_rate,
        },
        y_true=y, y_pred=pred, sensitive_features=g,
    )  # fmt: skip
    got = _audit(y, s, g, threshold=threshold)
    nan_cells = set()
    for row in got.groups:
        rows = g == row.group
        expected = dict(reference.by_group.loc[row.group])
        if len(set(y[rows])) == 2:
            expected["auc"] = roc_auc_score(y[rows], s[rows])
        for metric in METRICS:
            value = row.metrics[metric].value
            if math.isnan(value):
                nan_cells.add((row.group, metric))
            else:
                assert value == pytest.approx(expected[metric], abs=1e-9), (row.group, metric)
    # Group VI has no positives: NaN with a reason here, TPR 0 in fairlearn.
    assert nan_cells == {("VI", "sensitivity"), ("VI", "f1"), ("VI", "auc")}
    assert reference.by_group.loc["VI", "sensitivity"] == 0.0
    for metric in ("accuracy", "sensitivity", "specificity", "precision", "f1"):
        assert got.overall[metric].value == pytest.approx(reference.overall[metric], abs=1e-9)
    assert got.overall["auc"].value == pytest.approx(roc_auc_score(y, s), abs=1e-9)
    # EO over the compared skin types equals fairlearn's over them; with VI and uncertain in,
    # fairlearn counts VI's TPR as 0.
    keep = np.isin(g, got.compared)
    assert got.gap("equalized_odds").value.value == pytest.approx(
        equalized_odds_difference(y[keep], pred[keep], sensitive_features=g[keep]), abs=1e-9
    )
    assert equalized_odds_difference(y, pred, sensitive_features=g) > (
        got.gap("equalized_odds").value.value + 0.05
    )


def test_bootstrap_brackets_the_point_and_counts_undefined_resamples() -> None:
    rng = np.random.default_rng(3)
    g = rng.choice(["I", "III", "V"], 1500, p=[0.5, 0.3, 0.2])
    y = rng.integers(0, 2, 1500)
    s = np.clip(0.35 * y + 0.65 * rng.random(1500), 0, 1)
    # Group VI: 5 images, 1 positive: a resample keeps no positive with p = 0.8^5 = 0.33.
    y = np.r_[y, [1, 0, 0, 0, 0]]
    s = np.r_[s, [0.9, 0.2, 0.6, 0.1, 0.3]]
    g = np.r_[g, ["VI"] * 5]
    got = _audit(y, s, g, n_bootstrap=400, seed=2)
    for row in (*got.groups[:3],):
        for metric in METRICS:
            e = row.metrics[metric]
            assert e.interval is not None
            assert e.interval.valid == 400
            assert e.interval.low <= e.value <= e.interval.high
    vi = got.group("VI").metrics["sensitivity"].interval
    assert vi is not None
    assert abs(vi.valid - 400 * (1 - 0.8**5)) < 40
    again = _audit(y, s, g, n_bootstrap=400, seed=2)
    assert again.overall["auc"].interval == got.overall["auc"].interval  # seeded
    assert _audit(y, s, g, n_bootstrap=400, seed=3).overall["auc"].interval != (
        got.overall["auc"].interval
    )


def test_uncertain_and_missing_groups_do_not_drive_between_group_comparisons() -> None:
    # Skin types I and II are classified perfectly; the "uncertain" bucket is all wrong.
    y = np.array([1, 0, 1, 0, 1, 0, 1, 0])
    score = np.array([0.9, 0.1, 0.9, 0.1, 0.1, 0.9, 0.1, 0.9])
    groups = np.array(["I", "I", "II", "II", "uncertain", "uncertain", "missing", "missing"])
    result = _audit(y, score, groups)
    assert result.group("uncertain").metrics["sensitivity"].value == 0.0  # still reported
    assert result.gap("sensitivity").value.value == 0.0
    assert result.gap("equalized_odds").value.value == 0.0
