from __future__ import annotations

import json
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
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from benchmark.metrics.fairness import (
    FEW_GROUPS,
    METRICS,
    audit,
    choose_threshold,
    rank_auc,
)

# Hand case, threshold 0.5. Group I: TP 1, FN 1, FP 2, TN 0. Group II: TP 1, FN 0, FP 1, TN 2.
Y = [1, 1, 0, 0, 1, 0, 0, 0]
S = [0.9, 0.4, 0.6, 0.55, 0.8, 0.7, 0.2, 0.3]
G = ["I"] * 4 + ["II"] * 4
KEYS = {"n", "threshold", "overall", "by_group", "worst_group", "gaps", "ci", "undefined"}
KEYS |= {"equalized_odds_difference", "demographic_parity_difference", "small_groups"}
KEYS |= {"exact", "compared_groups", "rule"}
COUNTS = ("support", "positives", "negatives")


def _audit(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """The audit with every group that has a positive and a negative compared (hand cases)."""
    return audit(*args, min_positives=1, min_negatives=1, **kwargs)


def _values(group: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in group.items() if k != "compared"}


def _expected(values: list[float], counts: tuple[int, int, int]) -> dict[str, float]:
    """Values in METRICS order: accuracy, sens., spec., precision, f1, auc, selection rate."""
    return dict(zip(METRICS, values, strict=True)) | dict(zip(COUNTS, counts, strict=True))


def test_hand_computed_per_group_and_overall() -> None:
    got = _audit(Y, S, groups=G)
    assert set(got) == KEYS
    # Group I: F1 = 2TP / (2TP + FP + FN) = 2/5; AUC: 0.9 beats 0.6 and 0.55, 0.4 neither.
    i = [1 / 4, 1 / 2, 0.0, 1 / 3, 2 / 5, 1 / 2, 3 / 4]
    assert _values(got["by_group"]["I"]) == pytest.approx(_expected(i, (4, 2, 2)))
    ii = [3 / 4, 1.0, 2 / 3, 1 / 2, 2 / 3, 1.0, 1 / 2]
    assert _values(got["by_group"]["II"]) == pytest.approx(_expected(ii, (4, 1, 3)))
    assert got["by_group"]["I"]["compared"]
    assert got["compared_groups"] == ["I", "II"]
    # Overall: TP 2, FN 1, FP 3, TN 2; AUC: 0.9 and 0.8 beat all 5 negatives, 0.4 beats 2.
    overall = [4 / 8, 2 / 3, 2 / 5, 2 / 5, 4 / 8, 12 / 15, 5 / 8]
    assert got["overall"] == pytest.approx(_expected(overall, (8, 3, 5)))
    assert got["undefined"] == []
    assert got["small_groups"] == ["I", "II"]
    assert got["ci"] is None


def test_hand_computed_worst_group_gaps_eo_dp() -> None:
    got = _audit(Y, S, groups=G)
    assert got["worst_group"] == {
        m: {"group": "I", "value": v}
        for m, v in zip(METRICS[:-1], [1 / 4, 1 / 2, 0.0, 1 / 3, 2 / 5, 1 / 2], strict=True)
    }
    gaps = [1 / 2, 1 / 2, 2 / 3, 1 / 6, 2 / 3 - 2 / 5, 1 / 2, 1 / 4]
    assert got["gaps"] == pytest.approx(dict(zip(METRICS, gaps, strict=True)))
    # EO = max(TPR gap 1/2, FPR gap |1 - 1/3| = 2/3); DP = |3/4 - 1/2|.
    assert got["equalized_odds_difference"] == pytest.approx(2 / 3)
    assert got["demographic_parity_difference"] == pytest.approx(1 / 4)
    pred = np.asarray(S) >= 0.5
    assert got["equalized_odds_difference"] == pytest.approx(
        equalized_odds_difference(Y, pred, sensitive_features=G), abs=1e-9
    )
    assert got["demographic_parity_difference"] == pytest.approx(
        demographic_parity_difference(Y, pred, sensitive_features=G), abs=1e-9
    )


def test_threshold_changes_predictions() -> None:
    got = _audit(Y, S, groups=G, threshold=0.65)
    # Predicted positive: 0.9, 0.8, 0.7 -> group I TP 1 FP 0, group II TP 1 FP 1.
    assert got["threshold"] == 0.65
    assert got["by_group"]["I"]["precision"] == 1.0
    assert got["by_group"]["II"]["precision"] == 0.5
    assert got["overall"]["selection_rate"] == 3 / 8


def _reasons(result: dict[str, Any]) -> dict[tuple[Any, str], str]:
    return {(u["group"], u["metric"]): u["reason"] for u in result["undefined"]}


def test_undefined_values_are_nan_with_reason_and_left_out_between_groups() -> None:
    # Group III: no positives, one predicted positive. Group IV: positives only, none predicted.
    y = [*Y, 0, 0, 0, 1, 1]
    s = [*S, 0.9, 0.1, 0.2, 0.3, 0.4]
    g = [*G, "III", "III", "III", "IV", "IV"]
    got = _audit(y, s, groups=g)
    iii, iv = got["by_group"]["III"], got["by_group"]["IV"]
    for metric in ("sensitivity", "f1", "auc"):
        assert math.isnan(iii[metric])
    assert iii["precision"] == 0.0  # TP 0, FP 1: defined, and 0
    assert iii["specificity"] == pytest.approx(2 / 3)
    assert math.isnan(iv["specificity"])
    assert math.isnan(iv["precision"])
    assert iv["sensitivity"] == 0.0
    assert iv["f1"] == 0.0  # missed every positive: 0 / (0 + 0 + 2)
    reasons = _reasons(got)
    assert reasons == {
        ("III", "sensitivity"): "no positives",
        ("III", "f1"): "no positives",
        ("III", "auc"): "one class only",
        ("IV", "specificity"): "no negatives",
        ("IV", "precision"): "no predicted positives",
        ("IV", "auc"): "one class only",
    }
    # III has no positive and IV no negative: shown, not compared. Every between-group value
    # is over I and II only (fairlearn would count III's TPR as 0).
    assert got["compared_groups"] == ["I", "II"]
    assert (iii["compared"], iv["compared"], got["by_group"]["I"]["compared"]) == (
        False,
        False,
        True,
    )
    assert got["gaps"]["sensitivity"] == pytest.approx(1 / 2)
    assert got["gaps"]["auc"] == pytest.approx(1 / 2)
    assert got["worst_group"]["auc"] == {"group": "I", "value": 0.5}
    assert got["worst_group"]["sensitivity"] == {"group": "I", "value": 0.5}
    assert got["equalized_odds_difference"] == pytest.approx(2 / 3)


def test_single_class_overall_makes_auc_nan_only() -> None:
    got = _audit([0, 0, 0, 0], [0.1, 0.7, 0.2, 0.9], groups=["I", "I", "II", "II"])
    assert math.isnan(got["overall"]["auc"])
    assert got["overall"]["specificity"] == 0.5
    assert got["overall"]["accuracy"] == 0.5
    assert math.isnan(got["overall"]["sensitivity"])
    assert _reasons(got)[(None, "auc")] == "one class only"
    assert _reasons(got)[(None, "gap:auc")] == FEW_GROUPS
    assert math.isnan(got["gaps"]["auc"])
    # No group has a positive, so none is compared: EO and DP are undefined, not 0.
    assert got["compared_groups"] == []
    assert math.isnan(got["equalized_odds_difference"])
    assert math.isnan(got["demographic_parity_difference"])


def test_group_of_one_image_is_flagged() -> None:
    got = _audit([*Y, 1], [*S, 0.95], groups=[*G, "VI"])
    vi = got["by_group"]["VI"]
    assert (vi["support"], vi["positives"], vi["negatives"]) == (1, 1, 0)
    assert vi["sensitivity"] == 1.0
    assert vi["accuracy"] == 1.0
    assert math.isnan(vi["auc"])
    assert _reasons(got)[("VI", "auc")] == "one class only"
    assert "VI" in got["small_groups"]
    assert list(got["by_group"]) == ["I", "II", "VI"]


def test_one_group_has_no_gaps() -> None:
    got = _audit(Y, S, groups=["IV"] * 8)
    assert all(math.isnan(v) for v in got["gaps"].values())
    assert math.isnan(got["equalized_odds_difference"])
    assert math.isnan(got["demographic_parity_difference"])
    assert _reasons(got)[(None, "demographic_parity_difference")].startswith("fewer than two")
    assert got["worst_group"]["accuracy"]["group"] == "IV"


def test_worst_group_tie_goes_to_first_group_in_order() -> None:
    got = _audit([1, 0, 1, 0], [0.9, 0.1, 0.9, 0.1], groups=["II", "II", "I", "I"])
    assert got["worst_group"]["accuracy"] == {"group": "I", "value": 1.0}
    assert got["gaps"]["accuracy"] == 0.0


def test_group_order_puts_fitzpatrick_first() -> None:
    got = _audit([0, 1, 0, 1], [0.1] * 4, groups=["uncertain", "VI", "II", "zeta"])
    assert list(got["by_group"]) == ["II", "VI", "uncertain", "zeta"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y_true": [0, 2]}, r"label must be 0 or 1, got 2 \(row 1\)"),
        ({"y_true": [0, None]}, r"label must be 0 or 1.*\(row 1\)"),
        ({"y_score": [0.2, 1.5]}, r"score must be finite and in \[0, 1\], got 1.5 \(row 1\)"),
        ({"y_score": [float("nan"), 0.1]}, r"score must be finite.*\(row 0\)"),
        ({"y_score": [0.2, "high"]}, r"not a number: 'high' \(row 1\)"),
        ({"groups": ["I", None]}, r"group is missing.*\(row 1\)"),
        ({"groups": [float("nan"), "I"]}, r"group is missing.*\(row 0\)"),
        ({"groups": ["I"]}, "y_true has 2 items but groups has shape"),
        ({"y_score": [0.1, 0.2, 0.3]}, "y_true has 2 items but y_score"),
        ({"y_true": [], "y_score": [], "groups": []}, "no rows"),
        ({"threshold": 1.2}, r"threshold must be in \[0, 1\]"),
        ({"n_bootstrap": -1}, "must be >= 0"),
    ],
)
def test_bad_input_raises_clear_error(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"y_true": [0, 1], "y_score": [0.2, 0.8], "groups": ["I", "II"]}
    args |= kwargs
    with pytest.raises(ValueError, match=message):
        audit(args.pop("y_true"), args.pop("y_score"), **args)


def test_result_is_json_able_with_nan_kept() -> None:
    got = audit([0, 0, 1], [0.1, 0.6, 0.9], groups=["I", "I", "II"], n_bootstrap=5)
    text = json.dumps(got)  # raises on numpy scalars or arrays
    back = json.loads(text)
    assert math.isnan(back["by_group"]["II"]["specificity"])
    assert isinstance(got["by_group"]["II"]["specificity"], float)
    assert isinstance(got["by_group"]["II"]["support"], int)


def test_rank_auc_matches_sklearn_with_ties() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.random(300), 1)  # many ties
    assert rank_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert math.isnan(rank_auc(np.ones(3, np.int64), s[:3]))


# Threshold choice ----------------------------------------------------------------------------


def test_choose_threshold_hand_case_with_tie() -> None:
    # P = {0.35, 0.8, 0.9}, N = {0.1, 0.3, 0.7}. J: 0.35 -> 1 - 1/3; 0.5 -> 2/3 - 1/3;
    # 0.8 -> 2/3 - 0. The two maxima (2/3) tie; 0.35 is closer to 0.5.
    y = [0, 0, 1, 1, 0, 1]
    s = [0.1, 0.3, 0.35, 0.8, 0.7, 0.9]
    assert choose_threshold(y, s) == 0.35


def test_choose_threshold_prefers_half_when_it_separates_as_well() -> None:
    assert choose_threshold([0, 1], [0.2, 0.8]) == 0.5
    assert choose_threshold([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 0.3
    # A positive and a negative share 0.3: ">= t" predicts both or neither, so no threshold
    # beats J = 0 and the tie goes to 0.5.
    assert choose_threshold([0, 1, 0], [0.3, 0.3, 0.45]) == 0.5


def test_choose_threshold_one_class_falls_back_to_half() -> None:
    assert choose_threshold([1, 1, 1], [0.2, 0.3, 0.9]) == 0.5
    with pytest.raises(ValueError, match="row 1"):
        choose_threshold([0, 1], [0.2, 1.5])


# Acceptance against fairlearn MetricFrame + scikit-learn --------------------------------------


def _generated() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    spec = {  # group: (size, share of positives, separation)
        "I": (400, 0.6, 2.0),
        "II": (300, 0.5, 1.5),
        "III": (250, 0.4, 1.0),
        "IV": (150, 0.3, 0.5),
        "V": (40, 0.5, 0.2),
        "VI": (15, 0.0, 0.0),
        "uncertain": (25, 0.5, 1.0),
    }
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
            "accuracy": accuracy_score,
            "sensitivity": recall_score,
            "specificity": partial(recall_score, pos_label=0),
            "precision": precision_score,
            "f1": f1_score,
            "selection_rate": selection_rate,
        },
        y_true=y,
        y_pred=pred,
        sensitive_features=g,
    )
    got = audit(y, s, groups=g, threshold=threshold)
    nan_cells = set()
    for group, values in got["by_group"].items():
        rows = g == group
        expected = dict(reference.by_group.loc[group])
        if len(set(y[rows])) == 2:
            expected["auc"] = roc_auc_score(y[rows], s[rows])
        for metric in METRICS:
            if math.isnan(values[metric]):
                nan_cells.add((group, metric))
            else:
                assert values[metric] == pytest.approx(expected[metric], abs=1e-9), (group, metric)
        assert values["support"] == rows.sum()
        assert values["positives"] == y[rows].sum()
    # Group VI has no positives: NaN with a reason here, TPR 0 in fairlearn.
    assert nan_cells == {("VI", "sensitivity"), ("VI", "f1"), ("VI", "auc")}
    assert reference.by_group.loc["VI", "sensitivity"] == 0.0
    assert _reasons(got)[("VI", "sensitivity")] == "no positives"
    for metric in ("accuracy", "sensitivity", "specificity", "precision", "f1"):
        assert got["overall"][metric] == pytest.approx(reference.overall[metric], abs=1e-9)
    assert got["overall"]["auc"] == pytest.approx(roc_auc_score(y, s), abs=1e-9)
    # With VI in, fairlearn's EO counts VI's TPR as 0 and so exceeds ours.
    fairlearn_eo = equalized_odds_difference(y, pred, sensitive_features=g)
    assert fairlearn_eo > got["equalized_odds_difference"] + 0.05


@pytest.mark.parametrize("threshold", [0.5, 0.37])
def test_eo_and_dp_equal_fairlearn_when_every_group_is_defined(threshold: float) -> None:
    y, s, g = _generated()
    keep = g != "VI"
    y, s, g = y[keep], s[keep], g[keep]
    got = audit(y, s, groups=g, threshold=threshold)
    # fairlearn over the skin types only: "uncertain" is reported but not compared.
    typed = ~np.isin(g, ["uncertain", "missing"])
    assert (~typed).any()
    y, pred, g = y[typed], s[typed] >= threshold, g[typed]
    assert got["equalized_odds_difference"] == pytest.approx(
        equalized_odds_difference(y, pred, sensitive_features=g), abs=1e-9
    )
    assert got["demographic_parity_difference"] == pytest.approx(
        demographic_parity_difference(y, pred, sensitive_features=g), abs=1e-9
    )


# Bootstrap -----------------------------------------------------------------------------------


def _large(n: int = 4000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    g = rng.choice(["I", "III", "V"], n, p=[0.5, 0.3, 0.2])
    y = rng.integers(0, 2, n)
    s = np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1)
    return y, s, g


def test_bootstrap_ci_brackets_point_estimate() -> None:
    y, s, g = _large()
    got = audit(y, s, groups=g, n_bootstrap=200, seed=11)
    ci = got["ci"]
    assert (ci["n_bootstrap"], ci["level"]) == (200, 0.95)
    blocks = [(got["overall"], ci["overall"])]
    blocks += [(got["by_group"][k], ci["by_group"][k]) for k in got["by_group"]]
    for point, intervals in blocks:
        for metric in METRICS:
            iv = intervals[metric]
            assert iv["n_valid"] == 200
            assert iv["low"] <= point[metric] <= iv["high"], metric
            assert iv["high"] - iv["low"] < 0.2
    for key in ("equalized_odds_difference", "demographic_parity_difference"):
        assert ci[key]["n_valid"] == 200
        assert ci[key]["low"] < ci[key]["high"]
    assert set(ci["gaps"]) == set(METRICS)


def test_bootstrap_is_reproducible() -> None:
    y, s, g = _large(600)
    first = audit(y, s, groups=g, n_bootstrap=30, seed=5)["ci"]
    assert audit(y, s, groups=g, n_bootstrap=30, seed=5)["ci"] == first
    assert audit(y, s, groups=g, n_bootstrap=30, seed=np.random.default_rng(5))["ci"] == first
    assert audit(y, s, groups=g, n_bootstrap=30, seed=6)["ci"] != first


def test_bootstrap_skips_and_counts_undefined_resamples() -> None:
    y, s, g = _large(600)
    # Group VI: 5 images, 1 positive. A resample keeps no positive with p = 0.8^5 = 0.33.
    y = np.concatenate([y, [1, 0, 0, 0, 0], [0, 0, 0]])
    s = np.concatenate([s, [0.9, 0.2, 0.6, 0.1, 0.3], [0.1, 0.2, 0.7]])
    g = np.concatenate([g, ["VI"] * 5, ["uncertain"] * 3])
    n_boot = 400
    ci = audit(y, s, groups=g, n_bootstrap=n_boot, seed=2)["ci"]
    vi = ci["by_group"]["VI"]
    assert vi["accuracy"]["n_valid"] == n_boot
    expected = n_boot * (1 - 0.8**5)  # 269, binomial sd 9.4
    assert abs(vi["sensitivity"]["n_valid"] - expected) < 40
    assert vi["auc"]["n_valid"] <= vi["sensitivity"]["n_valid"]
    # "uncertain" never has a positive: no valid resample, NaN interval.
    unc = ci["by_group"]["uncertain"]["sensitivity"]
    assert unc["n_valid"] == 0
    assert math.isnan(unc["low"])
    assert math.isnan(unc["high"])


def test_uncertain_and_missing_groups_do_not_drive_between_group_comparisons() -> None:

    # Skin types I and II are classified perfectly; the "uncertain" bucket is all wrong.
    y = np.array([1, 0, 1, 0, 1, 0, 1, 0])
    score = np.array([0.9, 0.1, 0.9, 0.1, 0.1, 0.9, 0.1, 0.9])
    groups = np.array(["I", "I", "II", "II", "uncertain", "uncertain", "missing", "missing"])
    result = _audit(y, score, groups=groups, threshold=0.5)
    assert result["by_group"]["uncertain"]["sensitivity"] == 0.0  # still reported per group
    assert result["gaps"]["sensitivity"] == 0.0
    assert result["worst_group"]["sensitivity"]["group"] in {"I", "II"}
    assert result["equalized_odds_difference"] == 0.0
