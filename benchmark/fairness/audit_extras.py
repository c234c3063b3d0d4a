"""What the audit adds to fairlearn's per-group rates: calibration, equity, significance.

Calibration by group, the equity-scaled AUC and permutation p-values of the gaps
(Holm-corrected).

:func:`audit_extras` computes them from the same validated arrays as the per-group audit
and :func:`extras_markdown` states them with their binning, resamples and method.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from benchmark.metrics.calibration import CALIBRATION_METRICS, DEFAULT_BINS, calibration_by_group
from benchmark.metrics.equity import equity_scaled
from benchmark.metrics.gap_tests import GAP_METRICS, gap_permutation_tests


def audit_extras(
    data: tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.str_]],
    result: dict[str, Any],
    *,
    n_permutations: int,
    seed: int,
    n_bins: int = DEFAULT_BINS,
) -> dict[str, Any]:
    """``calibration``, ``equity_scaled`` and ``significance`` of an audit ``result``.

    Args:
        data: Validated ``(y_true, y_score, groups)``, shape (n,) each.
        result: The per-group audit of the same rows (its threshold, compared groups and
            AUCs are used).
        n_permutations: Permutations of the gap tests; 0 skips them (``significance`` None).
        seed: Their seed.
        n_bins: Calibration bins of both binnings.
    """
    y_true, y_score, groups = data
    compared = list(result["compared_groups"])
    calibration = calibration_by_group(
        y_true, y_score, groups=groups, compared=compared, n_bins=n_bins
    )
    aucs = {g: float(result["by_group"][g]["auc"]) for g in compared}
    es = equity_scaled(float(result["overall"]["auc"]), aucs)
    equity = {"auc": es.value, "groups": compared, "reason": es.reason}
    significance = None
    if n_permutations:
        significance = gap_permutation_tests(
            y_true, y_score, groups=groups, threshold=float(result["threshold"]),
            compared=compared, n_permutations=n_permutations, seed=seed,
        )  # fmt: skip
    return {"calibration": calibration, "equity_scaled": equity, "significance": significance}


def _f(value: Any) -> str:
    number = math.nan if value is None else float(value)
    return "undefined" if math.isnan(number) else f"{number:.3f}"


def _p(value: Any) -> str:
    number = math.nan if value is None else float(value)
    return "undefined" if math.isnan(number) else f"{number:.4f}"


def extras_markdown(result: dict[str, Any]) -> list[str]:
    """Markdown sections of the calibration, equity-scaled AUC and gap tests of ``result``."""
    lines: list[str] = []
    cal = result.get("calibration")
    if cal:
        lines += [
            "## Calibration by group",
            "",
            f"ECE over {cal['bins']} equal-width bins and over {cal['bins']} equal-mass "
            "(quantile) bins of the score; Brier = mean (score - label)^2. Lower is better.",
            "",
            "| group | support | ECE equal-width | ECE equal-mass | Brier |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {g} | {v['support']} | " + " | ".join(_f(v[m]) for m in CALIBRATION_METRICS) + " |"
            for g, v in cal["by_group"].items()
        ]
        worst = cal["worst_group"]
        lines += [""] + [
            f"- {m}: worst group {worst[m]['group'] or 'none'} ({_f(worst[m]['value'])}), "
            f"gap {_f(cal['gaps'][m])}"
            for m in CALIBRATION_METRICS
        ]
        lines.append("")
    equity = result.get("equity_scaled")
    if equity:
        why = f" ({equity['reason']})" if equity.get("reason") else ""
        lines += [
            "## Equity-scaled AUC",
            "",
            f"AUC / (1 + sum over the compared groups of |AUC - AUC_g|) = "
            f"{_f(equity['auc'])}{why}; groups: {', '.join(equity['groups']) or 'none'}.",
            "",
        ]
    sig = result.get("significance")
    if sig:
        lines += [
            "## Is the gap real? (permutation test)",
            "",
            f"{sig['n_permutations']} permutations (seed {sig['seed']}): {sig['method']}.",
            "",
            "| metric | gap | p | p (Holm) |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {m} | {_f(v['observed'])} | {_p(v['p_value'])} | {_p(v['p_holm'])} |"
            for m, v in sig["by_metric"].items()
            if m in GAP_METRICS
        ]
        lines.append("")
    return lines
