"""The fairness stage's part of the report: per run, the per-FST audit, worst group, gaps."""

from __future__ import annotations

from typing import Any

from benchmark.core.document import (
    DASH,
    Block,
    Figure,
    Para,
    Section,
    SectionFile,
    Table,
    fmt,
    html_id,
    number,
    phantom_warning,
    slot,
    warnings,
    with_interval,
)
from benchmark.core.fitzpatrick import DARK_TYPES, few_dark_warning, ordered_groups
from benchmark.fairness.paired_table import comparison_rows
from benchmark.fairness.tone_gaps import HEADER, table_rows, verdict
from benchmark.metrics.fairness import SMALL_GROUP

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


def fairness_section(
    audits: dict[str, dict[str, Any]],
    paired: dict[str, dict[str, Any]],
    phantom: bool,
    gaps: dict[str, dict[str, Any]] | None = None,
) -> SectionFile:
    """The variants by tone group, a summary over runs, the paired comparisons, every run.

    Args:
        audits: Run name -> its audit (what ``<run>.json`` holds).
        paired: Comparison name -> its paired comparison (``compare_<name>.json``).
        phantom: The test images are phantoms.
        gaps: Variant -> its tone comparison (what ``tone_gaps.json`` holds).
    """
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
        tuple(_summary_row(run, audit) for run, audit in audits.items()),
        warnings(phantom_warning(phantom)),
    )
    runs = [run_section(run, audit, phantom) for run, audit in audits.items()]
    pairs = [paired_section(name, result, phantom) for name, result in paired.items()]
    study = tone_section(gaps, phantom) if gaps else []
    place = slot("fairness")
    blocks = (*study, summary, *pairs, *runs)
    return SectionFile((Section(place.id, place.title, blocks),), phantom)


def paired_section(name: str, result: dict[str, Any], phantom: bool) -> Section:
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
            phantom_warning(phantom),
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


def run_section(run: str, audit: dict[str, Any], phantom: bool) -> Section:
    """One run's per-group table, worst group and gaps, and its per-FST figure."""
    rid = html_id(run)
    by_group: dict[str, dict[str, Any]] = audit["by_group"]
    groups = ordered_groups(by_group)
    ci = audit.get("ci") or {}
    rows = [_group_row(OVERALL, audit["overall"], ci.get("overall", {}), audit, None)]
    rows += [
        _group_row(g, by_group[g], ci.get("by_group", {}).get(g, {}), audit, g) for g in groups
    ]
    dark = sum(int(by_group[g]["support"]) for g in DARK_TYPES if g in by_group)
    small = audit["small_groups"]
    small_warning = (
        f"Group(s) {', '.join(small)} have fewer than {SMALL_GROUP} images: their numbers are "
        "not reliable."
        if small
        else None
    )
    per_group = Table(
        f"fairness-{rid}",
        f"{run}: per-group results with 95% patient-level bootstrap intervals where defined; "
        "exact: Clopper-Pearson interval of sensitivity (TP/positives).",
        ("group", "images", "positives", "compared", *GROUP_METRICS.values(), "sens. exact"),
        tuple(rows),
        warnings(few_dark_warning(dark, "test image in this audit"), small_warning)
        + warnings(phantom_warning(phantom)),
        tuple(n for n in (audit.get("rule"), _unit(audit)) if n),
    )
    blocks: list[Block] = [Para(_threshold_text(audit)), per_group, _gaps(run, rid, audit)]
    blocks.append(
        Figure(
            f"figure-fairness-{rid}",
            f"fairness/{run}.png",
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
    ci = audit.get("ci") or {}
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


PHANTOM_DESIGN = (
    "What the phantom world is built to show: lesion contrast, and with it every cue that "
    "tells melanocytic from other lesions (pigment network, brown or blue-grey versus red "
    "colour, border irregularity), shrinks with skin lightness, from about 30 L* units on "
    "the lightest skin to about 7 on the darkest, while FST V–VI are about 8% of the "
    "training images. A model trained on this mix should find dark-skin lesions harder; the "
    "test split holds the same number of images of each tone group, so the gap can be "
    "measured. Whether it appears, and whether a mitigation closes it, is what the table says, "
    "within its intervals."
)


def tone_section(gaps: dict[str, dict[str, Any]], phantom: bool) -> list[Block]:
    """The variants side by side per tone group, the gap in words, and the figure."""
    first = next(iter(gaps.values()))
    images = ", ".join(f"{t} {n}" for t, n in first["images"].items())
    table = Table(
        "tone-gaps",
        "Melanocytic sensitivity by tone group for every variant, mean over its seeds, each "
        "run at its own validation-chosen threshold; [95% interval] from "
        f"{fmt(first['n_bootstrap'])} patient resamples shared by all runs; the gap is V–VI "
        f"minus I–II (negative: dark skin served worse). Real test images per group: {images}.",
        HEADER,
        tuple(table_rows(gaps)),
        warnings(
            few_dark_warning(first["images"].get("V-VI", 0), "test image"),
            phantom_warning(phantom),
        ),
        tuple(verdict(v, r["gap"]) for v, r in gaps.items()),
    )
    blocks: list[Block] = [Para(PHANTOM_DESIGN)] if phantom else []
    blocks += [
        table,
        Figure(
            "figure-tone-gaps",
            "fairness/tone_gaps.png",
            "Sensitivity per tone group for every variant with bootstrap intervals",
            "Sensitivity by tone group (mean over seeds) for every variant.",
        ),
    ]
    return [Section("sec-tone-gaps", "Does any mitigation close the skin-tone gap?", tuple(blocks))]
