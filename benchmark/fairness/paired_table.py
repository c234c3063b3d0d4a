"""Rows of a paired-comparison table, shared by the stage's Markdown and the report.

Light on purpose (no metrics imports): the report renders these rows from the JSON the
fairness stage wrote.
"""

from __future__ import annotations

import math
from typing import Any

# Rows of the comparison table: (path, label).
OVERALL_ROWS = {"sensitivity": "sensitivity", "specificity": "specificity", "auc": "AUC"}
GAP_ROWS = {"sensitivity": "sensitivity gap", "specificity": "specificity gap", "auc": "AUC gap"}
CROSS_ROWS = {
    "equalized_odds_difference": "equalized-odds difference",
    "demographic_parity_difference": "demographic-parity difference",
}


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


def _cell(stat: dict[str, Any], key: str) -> str:
    value = _num(stat.get(key))
    return "undefined" if math.isnan(value) else f"{value:.3f}"


def comparison_row(label: str, stat: dict[str, Any]) -> list[str]:
    """Cells: statistic, A, B, Δ [interval], p, valid resamples."""
    delta = _cell(stat, "delta")
    if delta != "undefined" and not math.isnan(_num(stat.get("low"))):
        delta += f" [{_num(stat['low']):+.3f}, {_num(stat['high']):+.3f}]"
    p = _num(stat.get("p_value"))
    valid = f"{stat.get('n_valid', 0)}/{stat.get('n_valid', 0) + stat.get('n_invalid', 0)}"
    return [label, _cell(stat, "a"), _cell(stat, "b"), delta, _p(p), valid]


def _p(p: float) -> str:
    return "undefined" if math.isnan(p) else f"{p:.4f}"


def comparison_rows(result: dict[str, Any]) -> list[list[str]]:
    """The table's rows: overall, each compared group, the gaps, EO and DP."""
    overall = result["overall"]
    rows = [comparison_row(f"overall {lab}", overall[m]) for m, lab in OVERALL_ROWS.items()]
    for g in result["compared_groups"]:
        stats = result["by_group"][g]
        rows += [comparison_row(f"FST {g} {lab}", stats[m]) for m, lab in OVERALL_ROWS.items()]
    rows += [comparison_row(lab, result["gaps"][m]) for m, lab in GAP_ROWS.items()]
    rows += [comparison_row(lab, result[k]) for k, lab in CROSS_ROWS.items()]
    return rows
