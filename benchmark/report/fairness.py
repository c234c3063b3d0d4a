"""The fairness section: per classifier run, the per-FST audit, worst group, gaps, EO/DP."""

from __future__ import annotations

from typing import Any

from benchmark.fairness.paired_table import comparison_rows
from benchmark.report.collect import ReportData
from benchmark.report.model import (
    DARK,
    DASH,
    Block,
    Context,
    Para,
    Section,
    Table,
    dark_warning,
    figure,
    fmt,
    html_id,
    not_run,
    number,
    warnings,
    with_interval,
)

GROUP_ORDER = ("I", "II", "III", "IV", "V", "VI", "uncertain")
GROUP_METRICS = {"sensitivity": "sensitivity", "specificity": "specificity", "auc": "AUC"}
GAP_METRICS = {
    "sensitivity": "sensitivity",
    "specificity": "specificity",
    "auc": "AUC",
    "accuracy": "accuracy",
}
CROSS = {
    "equalized_odds_difference": "equalized-odds difference (max of TPR and FPR gaps)",
    "demographic_parity_difference": "demographic-parity difference (selection-rate gap)",
}
OVERALL = "all"


def fairness_section(data: ReportData, ctx: Context) -> Section:
    """A summary over runs, then one subsection per classifier run."""
    title = "Fairness audit by Fitzpatrick type (real test images)"
    if not data.fairness:
        return not_run("sec-fairness", title, data.not_run.get("fairness", "no audit JSON"))
    summary = Table(
        "fairness-summary",
        "Every audited classifier run: overall and worst-group AUC, gaps, EO and DP "
        "differences (thresholds chosen on validation).",
        (
            "run",
            "threshold",
            "images",
            "AUC (all)",
            "worst AUC (group)",
            "AUC gap",
            "EO difference",
            "DP difference",
        ),
        tuple(_summary_row(run, audit) for run, audit in data.fairness.items()),
        warnings(ctx.phantom_warning()),
    )
    runs = [run_section(data, run, audit, ctx) for run, audit in data.fairness.items()]
    paired = [paired_section(name, result, ctx) for name, result in data.paired.items()]
    return Section("sec-fairness", title, (summary, *paired, *runs))


def paired_section(name: str, result: dict[str, Any], ctx: Context) -> Section:
    """One paired comparison: Δ = B − A of each metric and gap, interval and p-value."""
    rid = html_id(name)
    rows = tuple(tuple(row) for row in comparison_rows(result))
    few = len(result["compared_groups"]) < 2
    table = Table(
        f"paired-{rid}",
        f"Paired comparison {result['b']} against {result['a']} on the same "
        f"{fmt(result['n'])} real test images: Δ = B − A with its 95% interval and "
        "two-sided p-value from shared patient-level resamples.",
        ("statistic", "A", "B", "Δ = B − A [95% interval]", "p", "valid resamples"),
        rows,
        warnings(
            ctx.phantom_warning(),
            "Fewer than two groups meet the rule: no gap can be compared." if few else None,
        ),
        (f"{result['method']}; {fmt(result['n_bootstrap'])} resamples.", result["rule"]),
    )
    return Section(f"sec-paired-{rid}", f"Paired: {name}", (table,))


def _summary_row(run: str, audit: dict[str, Any]) -> tuple[str, ...]:
    worst = audit["worst_group"].get("auc", {})
    return (
        run,
        fmt(audit["threshold"], 4),
        fmt(audit["overall"].get("support")),
        _value(audit, None, "auc", audit["overall"].get("auc")),
        f"{fmt(worst.get('value'))} ({worst.get('group') or DASH})",
        _value(audit, None, "gap:auc", audit["gaps"].get("auc")),
        _value(audit, None, "equalized_odds_difference", audit["equalized_odds_difference"]),
        _value(
            audit, None, "demographic_parity_difference", audit["demographic_parity_difference"]
        ),
    )


def run_section(data: ReportData, run: str, audit: dict[str, Any], ctx: Context) -> Section:
    """One run's per-group table, worst group and gaps, and its per-FST figure."""
    rid = html_id(run)
    by_group: dict[str, dict[str, Any]] = audit["by_group"]
    groups = [g for g in GROUP_ORDER if g in by_group] + sorted(set(by_group) - set(GROUP_ORDER))
    ci = audit.get("ci", {})
    rows = [_group_row(OVERALL, audit["overall"], ci.get("overall", {}), audit, None)]
    rows += [
        _group_row(g, by_group[g], ci.get("by_group", {}).get(g, {}), audit, g) for g in groups
    ]
    dark = sum(int(by_group[g]["support"]) for g in DARK if g in by_group)
    small = audit["small_groups"]
    small_warning = (
        f"Group(s) {', '.join(small)} have fewer than 30 images: their numbers are not reliable."
        if small
        else None
    )
    per_group = Table(
        f"fairness-{rid}",
        f"{run}: per-group results with 95% patient-level bootstrap intervals where defined; "
        "exact: Clopper-Pearson interval of sensitivity (TP/positives).",
        ("group", "images", "positives", "compared", *GROUP_METRICS.values(), "sens. exact"),
        tuple(rows),
        warnings(dark_warning(dark, "test image in this audit"), small_warning)
        + warnings(ctx.phantom_warning()),
        tuple(n for n in (audit.get("rule"), _unit(audit)) if n),
    )
    blocks: list[Block] = [Para(_threshold_text(audit)), per_group, _gaps(run, rid, audit)]
    blocks.append(
        figure(
            data.reports_dir,
            f"fairness/{run}.png",
            f"figure-fairness-{rid}",
            f"Sensitivity, specificity and AUC per Fitzpatrick type for {run}",
            f"{run}: metrics per FST group.",
        )
    )
    return Section(f"sec-fairness-{rid}", f"Audit: {run}", tuple(blocks))


def _threshold_text(audit: dict[str, Any]) -> str:
    overall = audit["overall"]
    source = audit["threshold_source"] or "not recorded"
    return (
        f"Threshold {fmt(audit['threshold'], 4)} (chosen on: {source}); "
        f"{fmt(overall.get('support'))} test images, {fmt(overall.get('positives'))} "
        "melanocytic."
    )


def _group_row(
    label: str, values: dict[str, Any], ci: dict[str, Any], audit: dict[str, Any], group: str | None
) -> tuple[str, ...]:
    cells = []
    for metric in GROUP_METRICS:
        interval = ci.get(metric, {})
        cells.append(
            _value(
                audit, group, metric, values.get(metric), interval.get("low"), interval.get("high")
            )
        )
    compared = DASH if group is None else ("yes" if values.get("compared") else "no (flagged)")
    return (
        label,
        fmt(values.get("support")),
        fmt(values.get("positives")),
        compared,
        *cells,
        _exact(audit, group),
    )


def _exact(audit: dict[str, Any], group: str | None) -> str:
    exact = (audit.get("exact") or {}).get("by_group", {}).get(group or "", {}).get("sensitivity")
    if not exact or number(exact.get("low")) is None:
        return DASH
    return f"{exact['successes']}/{exact['trials']} " + with_interval(
        exact["successes"] / exact["trials"], exact["low"], exact["high"]
    )


def _unit(audit: dict[str, Any]) -> str | None:
    ci = audit.get("ci") or {}
    if not ci:
        return None
    unit = audit.get("cluster_source") or ci.get("unit", "images")
    return f"Bootstrap: {fmt(ci.get('n_bootstrap'))} resamples of {unit}."


def _gaps(run: str, rid: str, audit: dict[str, Any]) -> Table:
    ci = audit.get("ci", {})
    rows = []
    for metric, label in GAP_METRICS.items():
        worst = audit["worst_group"].get(metric, {})
        interval = ci.get("gaps", {}).get(metric, {})
        rows.append(
            (
                label,
                worst.get("group") or DASH,
                _value(audit, worst["group"], metric, worst["value"])
                if worst.get("group")
                else "undefined (no group has a defined value)",
                _value(
                    audit,
                    None,
                    f"gap:{metric}",
                    audit["gaps"].get(metric),
                    interval.get("low"),
                    interval.get("high"),
                ),
            )
        )
    for key, label in CROSS.items():
        interval = ci.get(key, {})
        value = _value(audit, None, key, audit[key], interval.get("low"), interval.get("high"))
        rows.append((label, DASH, DASH, value))
    compared = ", ".join(audit.get("compared_groups", [])) or "none"
    return Table(
        f"fairness-{rid}-gaps",
        f"{run}: worst group and gap (max − min over the compared groups: {compared}).",
        ("measure", "worst group", "worst value", "gap / difference"),
        tuple(rows),
        notes=tuple(n for n in (audit.get("rule"),) if n),
    )


def _value(
    audit: dict[str, Any],
    group: str | None,
    metric: str,
    value: Any,
    low: Any = None,
    high: Any = None,
) -> str:
    """The value with its interval, or ``undefined (reason)`` where it is NaN."""
    if number(value) is not None:
        return with_interval(value, low, high)
    reasons = [
        u["reason"] for u in audit["undefined"] if u["metric"] == metric and u["group"] == group
    ]
    return f"undefined ({reasons[0] if reasons else 'no reason recorded'})"
