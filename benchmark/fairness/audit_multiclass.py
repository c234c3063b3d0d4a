"""File-level audit of a multi-class model: one probability column per class.

The classes come from ``--classes`` or, when the file has every ISIC 2019 diagnosis column,
from that header (:data:`ISIC2019_CLASSES`; ``UNK`` is left out: the challenge scored it as
out-of-distribution, not as a class to predict). The prediction is the arg-max
(:mod:`benchmark.metrics.multiclass`); per group: balanced accuracy, macro AUC, one-vs-rest
sensitivity, specificity and AUC per class, top-label calibration (ECE in both binnings,
multi-class Brier), and across groups the worst group, the gap and the equity-scaled macro
AUC. Groups as in the binary audit (public spellings, intersections).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.core.fitzpatrick import MISSING, UNCERTAIN
from benchmark.fairness.audit import located, read_predictions
from benchmark.fairness.groups import MIN_CELL, audit_groups
from benchmark.metrics.calibration import brier_score, calibration_by_group
from benchmark.metrics.equity import equity_scaled
from benchmark.metrics.fairness import group_order
from benchmark.metrics.multiclass import (
    check_labels,
    check_probabilities,
    multiclass_metrics,
    top_label,
)
from benchmark.metrics.permutation import holm, permutation_test

ISIC2019_CLASSES = ("MEL", "NV", "BCC", "AK", "BKL", "DF", "VASC", "SCC")
HEADLINE = ("balanced_accuracy", "macro_auc")


def detect_classes(columns: Sequence[str]) -> tuple[str, ...] | None:
    """ISIC 2019's eight classes when every one is a column, else None."""
    return ISIC2019_CLASSES if set(ISIC2019_CLASSES) <= set(columns) else None


def _rates(result: Any) -> dict[str, Any]:
    per_class = {c: {m: r.value for m, r in rates.items()} for c, rates in result.per_class.items()}
    return {
        "support": result.support,
        "class_support": result.class_support,
        "balanced_accuracy": result.balanced_accuracy.value,
        "macro_auc": result.macro_auc.value,
        "per_class": per_class,
    }


def multiclass_audit_file(
    pred_csv: Path,
    classes: Sequence[str],
    *,
    label_col: str = "y_true",
    group_col: str | Sequence[str] = "fst",
    renormalize: bool = False,
    min_cell: int = MIN_CELL,
    min_support: int = 10,
    n_permutations: int = 0,
    seed: int = 0,
) -> dict[str, Any]:
    """Audit a multi-class predictions CSV (module docstring).

    Args:
        pred_csv: One row per image: ``label_col`` (a class name or index), one probability
            column per class, the group column(s).
        classes: Class names = their score columns, in order.
        label_col: True class column.
        group_col: Group column, or several for intersections.
        renormalize: Divide scores by their row sum instead of refusing sums off 1.
        min_cell: Intersection cells below it are flagged and not compared.
        min_support: Groups with fewer images take no part in worst group and gaps.
        n_permutations: Permutations of each headline gap's test (0: none), Holm-corrected
            across the two (:mod:`benchmark.metrics.permutation`).
        seed: Their seed.

    Raises:
        PredictionsError: Missing columns, bad labels or scores (file, row, column named).
    """
    pred_csv = Path(pred_csv)
    columns = [group_col] if isinstance(group_col, str) else list(group_col)
    frame = read_predictions(pred_csv, [label_col, *classes, *columns])
    grouping = audit_groups(frame, columns, pred_csv, min_cell)
    names = {"y_true": label_col, "y_score": ",".join(classes)}
    y_true = located(pred_csv, names, lambda: check_labels(frame[label_col], classes))
    scores = frame[list(classes)].apply(pd.to_numeric, errors="coerce").to_numpy()
    y_score = located(
        pred_csv, names, lambda: check_probabilities(scores, len(classes), renormalize=renormalize)
    )
    groups = grouping.labels.astype(str).to_numpy().astype(str)
    by_group, undefined = {}, []
    for g in group_order(groups):
        rows = groups == g
        result = multiclass_metrics(y_true[rows], y_score[rows], classes)
        by_group[g] = _rates(result) | {"brier": brier_score(y_true[rows], y_score[rows])}
        undefined += [{"group": g, "metric": m, "reason": r} for m, r in result.undefined()]
    skip = {UNCERTAIN, MISSING, *grouping.not_compared}
    compared = [g for g, v in by_group.items() if g not in skip and v["support"] >= min_support]
    overall = _rates(multiclass_metrics(y_true, y_score, classes))
    correct, confidence = top_label(y_true, y_score)
    calibration = calibration_by_group(correct, confidence, groups=groups, compared=compared)
    es = equity_scaled(overall["macro_auc"], {g: by_group[g]["macro_auc"] for g in compared})
    return {
        "task": "multiclass",
        "classes": list(classes),
        "decision": "arg-max of the class scores",
        "renormalized": renormalize,
        "overall": overall | {"brier": brier_score(y_true, y_score)},
        "by_group": by_group,
        "compared_groups": compared,
        "rule": f"Worst group and gaps compare skin types with at least {min_support} images.",
        **_between(by_group, compared),
        "equity_scaled": {"macro_auc": es.value, "groups": compared, "reason": es.reason},
        "calibration": calibration,
        "significance": _significance(
            (y_true, y_score, groups), classes, compared, n_permutations, seed
        ),
        "groups": grouping.describe(),
        "undefined": undefined,
        "predictions": pred_csv.name,
    }


def _between(by_group: dict[str, Any], compared: list[str]) -> dict[str, Any]:
    worst, gaps = {}, {}
    for m in HEADLINE:
        values = {g: by_group[g][m] for g in compared if not math.isnan(by_group[g][m])}
        low = min(values, key=values.__getitem__) if values else None
        worst[m] = {"group": low, "value": values[low] if low is not None else math.nan}
        whole = len(values) == len(compared) > 1
        gaps[m] = max(values.values()) - min(values.values()) if whole else math.nan
    return {"worst_group": worst, "gaps": gaps}


def _significance(
    data: tuple[Any, Any, Any], classes: Sequence[str], compared: list[str], n: int, seed: int
) -> dict[str, Any] | None:
    """Permutation p-values of the balanced-accuracy and macro-AUC gaps, Holm-corrected."""
    if not n or len(compared) < 2:
        return None
    y_true, y_score, groups = data
    keep = np.isin(groups, compared)
    rng = np.random.default_rng(seed)
    by_metric = {}
    for m in HEADLINE:

        def gap(y: Any, s: Any, g: Any, m: str = m) -> float:
            values = [getattr(multiclass_metrics(y[g == c], s[g == c], classes), m).value
                      for c in compared]  # fmt: skip
            return float(max(values) - min(values))  # NaN propagates: an undefined gap

        test = permutation_test(
            gap, y_true[keep], y_score[keep], groups=groups[keep], n_permutations=n, seed=rng
        )
        by_metric[m] = {"observed": test.observed, "p_value": test.p_value,
                        "n_valid": test.n_valid}  # fmt: skip
    adjusted = holm({m: v["p_value"] for m, v in by_metric.items()})
    for m, v in by_metric.items():
        v["p_holm"] = adjusted[m]
    method = "group labels permuted within the true class (images as units); Holm across both"
    return {"method": method, "n_permutations": n, "seed": seed, "by_metric": by_metric}


def _f(value: Any) -> str:
    number = math.nan if value is None else float(value)
    return "undefined" if math.isnan(number) else f"{number:.3f}"


def multiclass_markdown(result: dict[str, Any], title: str) -> str:
    """Markdown report of :func:`multiclass_audit_file`."""
    classes = result["classes"]
    cal = result["calibration"]["by_group"]
    renormalized = " (scores renormalised to sum 1)" if result["renormalized"] else ""
    head = f"Predictions: `{result['predictions']}`; classes {', '.join(classes)}"
    lines = [f"# {title}", "", f"{head}; decision: {result['decision']}{renormalized}.", ""]
    lines += ["## By group", "", "| group | support | balanced accuracy | macro AUC | "
              "top-label ECE (equal-width) | Brier |", "|---|---|---|---|---|---|"]  # fmt: skip
    for g, v in result["by_group"].items():
        cells = [_f(v["balanced_accuracy"]), _f(v["macro_auc"]), _f(cal[g]["ece_uniform"])]
        lines.append(f"| {g} | {v['support']} | " + " | ".join([*cells, _f(v["brier"])]) + " |")
    lines += ["", "## Per class (one-vs-rest: sensitivity / specificity / AUC)", ""]
    lines += ["| group | " + " | ".join(classes) + " |", "|---" * (len(classes) + 1) + "|"]
    for g, v in result["by_group"].items():
        cells = [
            "/".join(_f(v["per_class"][c][m]) for m in ("sensitivity", "specificity", "auc"))
            for c in classes
        ]
        lines.append(f"| {g} | " + " | ".join(cells) + " |")
    lines += ["", "## Between groups", "", result["rule"], ""]
    for m in HEADLINE:
        worst = result["worst_group"][m]
        lines.append(f"- {m}: worst {worst['group'] or 'none'} ({_f(worst['value'])}), "
                     f"gap {_f(result['gaps'][m])}")  # fmt: skip
    es = result["equity_scaled"]
    lines.append(f"- equity-scaled macro AUC: {_f(es['macro_auc'])}")
    sig = result.get("significance")
    if sig:
        lines += ["", f"Permutation test ({sig['n_permutations']} permutations, seed "
                  f"{sig['seed']}; {sig['method']}):", ""]  # fmt: skip
        lines += [f"- {m} gap {_f(v['observed'])}: p {_f(v['p_value'])}, Holm "
                  f"{_f(v['p_holm'])}" for m, v in sig["by_metric"].items()]  # fmt: skip
    lines += ["", "## Undefined values", ""]
    lines += [f"- {u['group']}, {u['metric']}: {u['reason']}" for u in result["undefined"]] or [
        "- none"
    ]
    notes = [*result["groups"]["notes"]]
    notes += [f"Cell {c}: {why}." for c, why in result["groups"]["not_compared"].items()]
    if notes:
        lines += ["", "## Notes", "", *[f"- {n}" for n in notes]]
    return "\n".join(lines) + "\n"


def is_multiclass(columns: Sequence[str], score_col: str) -> bool:
    """Whether a file without the binary score column holds ISIC 2019 class scores."""
    return score_col not in columns and detect_classes(columns) is not None
