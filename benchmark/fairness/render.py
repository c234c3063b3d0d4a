"""The one renderer of audit results: blocks for the report, Markdown and HTML pages.

Every audit (:class:`~benchmark.fairness.result.AuditResult`, its multi-class counterpart),
paired comparison and the study's tone table is turned into the document model's blocks
(:mod:`benchmark.core.document`) here and nowhere else; :mod:`benchmark.core.markup` makes
Markdown and HTML of them, and the report stage shows the same blocks. Sentences about
results are generated from the numbers: a contrast is called lower or higher only when its
interval excludes 0.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from benchmark.core.caveats import PHANTOM_WARNING
from benchmark.core.document import DASH, Block, Figure, Para, Table, fmt, html_id
from benchmark.core.fitzpatrick import few_dark_warning, side_label
from benchmark.core.io import write_text_atomic
from benchmark.core.markup import html, markdown, page
from benchmark.fairness.paired import PairedResult
from benchmark.fairness.result import (
    AuditResult,
    CalibrationResult,
    ContrastResult,
    GapResult,
    GroupRow,
    MulticlassAuditResult,
    Provenance,
    Settings,
)
from benchmark.metrics.estimates import Estimate, Significance
from benchmark.metrics.fairness import SMALL_GROUP
from benchmark.metrics.intervals import METHOD_NAMES

GROUP_COLUMNS: tuple[str, ...] = ("sensitivity", "specificity", "auc", "accuracy", "precision")
GROUP_COLUMNS += ("f1", "selection_rate")
LABELS = {
    "auc": "AUC",
    "f1": "F1",
    "selection_rate": "selection rate",
    "equalized_odds": "equalized-odds difference (max of TPR and FPR gaps)",
    "demographic_parity": "demographic-parity difference (selection-rate gap)",
    "balanced_accuracy": "balanced accuracy",
    "macro_auc": "macro AUC",
}
EXACT_COLUMNS = ("sensitivity", "specificity")


def label(metric: str) -> str:
    """How tables name a metric."""
    return LABELS.get(metric, metric)


def value_text(estimate: Estimate, digits: int = 3) -> str:
    """``0.850 [0.800, 0.900]``, ``0.850``, or ``undefined (reason)``."""
    if not estimate.defined:
        return f"undefined ({estimate.reason or 'no reason recorded'})"
    text = fmt(estimate.value, digits)
    iv = estimate.interval
    if iv is None or not iv.defined:
        return text
    text += f" [{fmt(iv.low, digits)}, {fmt(iv.high, digits)}"
    if iv.valid < iv.resamples:  # some replicates left the value undefined
        text += f"; valid in {iv.valid}/{iv.resamples}"
    return text + "]"


def p_text(p: float) -> str:
    """A p-value with four decimals, or a dash when there is none."""
    return DASH if p != p else f"{p:.4f}"


def test_cells(test: Significance | None) -> tuple[str, str]:
    """(p, Holm p) cells of a permutation test."""
    if test is None:
        return DASH, DASH
    return p_text(test.p_value), p_text(test.p_holm)


def interval_scope(settings: Settings, runs: int, unit: str) -> str:
    """What the brackets are: the level, resamples and what was resampled."""
    if not settings.n_bootstrap:
        return "no bootstrap was run: values have no interval"
    what = f"runs (seeds), then {unit} within groups" if runs > 1 else f"{unit} within groups"
    return (
        f"{settings.level:.0%} percentile interval over {settings.n_bootstrap} resamples of {what}"
    )


def contrast_sentence(
    contrast: ContrastResult, runs: int, unit: str = "patients", prefix: str = ""
) -> str:
    """The contrast in words, claiming no more than its interval allows."""
    sides = f"{side_label(contrast.high)} minus {side_label(contrast.low)}"
    head = f"{prefix}{label(contrast.metric)} {sides}"
    diff = contrast.difference
    if not diff.defined:
        return f"{head}: undefined ({diff.reason})."
    over = f"seeds and {unit}" if runs > 1 else unit
    text = f"{head}: {value_text(diff)}"
    if contrast.test is not None:
        text += f", permutation p = {p_text(contrast.test.p_value)}"
    iv = diff.interval
    if iv is None or not iv.defined:
        return text + " (no interval: no bootstrap was run)."
    if iv.excludes(0.0):
        side = "lower" if iv.high < 0 else "higher"
        where = side_label(contrast.high)
        what = label(contrast.metric)
        return f"{text}; the interval over {over} excludes 0: {what} is {side} on {where}."
    return (
        f"{text}; the interval over {over} includes 0: no difference can be claimed at this size."
    )


def warnings_of(
    provenance: Provenance, groups: Sequence[tuple[str, int]], dark: int | None
) -> list[str]:
    """Plain statements about numbers that rest on too few images or weak grouping.

    ``dark``: images on the dark side of the primary contrast (None: not stated here).
    """
    out = [PHANTOM_WARNING] if provenance.phantom else []
    few = None if dark is None else few_dark_warning(dark, "test image in this audit")
    if few is not None:
        out.append(few)
    out += [
        f"Group {g} has {n} images (fewer than {SMALL_GROUP}): its numbers are not reliable."
        for g, n in groups
        if n < SMALL_GROUP
    ]
    out += [f"Groups: {note}." for note in provenance.notes]
    out += [f"Cell {c}: {why}; shown with its own numbers, not compared." for c, why in
            provenance.not_compared.items()]  # fmt: skip
    if provenance.unit == "images":
        out.append(
            f"No patient ids ({provenance.unit_source}): images are treated as independent, "
            "so intervals are too narrow and p-values too small where a patient has several."
        )
    if provenance.reassigned:
        out.append(
            f"{provenance.reassigned} patient(s) had images in two groups; each took the group "
            "most of its images have (the majority rule)."
        )
    return out


def _group_row(row: GroupRow, interval: str) -> tuple[str, ...]:
    c = row.counts
    exact = [
        f"{e.successes}/{e.trials} [{fmt(e.low)}, {fmt(e.high)}]" if e.trials else DASH
        for e in (row.exact.get(m) for m in EXACT_COLUMNS)
        if e is not None
    ] or [DASH, DASH]
    return (
        row.group, str(c.images), str(c.positives),
        f"{c.patients} ({c.patients_positive}/{c.patients_negative})",
        "yes" if row.compared else "no (flagged)",
        *(value_text(row.metrics[m]) for m in GROUP_COLUMNS), *exact,
    )  # fmt: skip


def group_table(result: AuditResult, rid: str) -> Table:
    """Per group (and overall): counts, every metric with its interval, exact intervals."""
    s, runs = result.settings, len(result.runs)
    unit = result.provenance.unit
    overall = ("all", str(result.overall_counts.images), str(result.overall_counts.positives),
               str(result.overall_counts.patients), DASH,
               *(value_text(result.overall[m]) for m in GROUP_COLUMNS), DASH, DASH)  # fmt: skip
    notes = [f"Brackets: {interval_scope(s, runs, unit)}.", result.rule]
    if runs == 1:
        notes.append(
            f"Exact columns: successes/trials [{s.level:.0%} {METHOD_NAMES[s.interval]} "
            "interval; images as independent trials]."
        )
    return Table(
        f"fairness-{rid}",
        f"Per group: images, positives, {unit} (with a positive / a negative image), "
        "whether compared, and every metric.",
        ("group", "images", "positives", unit, "compared",
         *(label(m) for m in GROUP_COLUMNS), *(f"{m} exact" for m in EXACT_COLUMNS)),
        (overall, *(_group_row(r, s.interval) for r in result.groups)),
        notes=tuple(notes),
    )  # fmt: skip


def contrast_table(
    contrasts: Sequence[ContrastResult], rid: str, runs: int, unit: str,
    warnings: Sequence[str] = (),
) -> Table:  # fmt: skip
    """The pre-specified contrast and its secondary: each side, the difference, the test.

    ``warnings`` (few dark images, phantoms, small groups...) are shown just before it: it
    is the first table of an audit.
    """
    rows = []
    for c in contrasts:
        p, _ = test_cells(c.test)
        sides = tuple(
            str(n.images) if unit == "images" else f"{n.images} / {n.patients}"
            for n in (c.high_counts, c.low_counts)
        )
        rows.append((f"{label(c.metric)} ({c.role})", value_text(c.high_value),
                     value_text(c.low_value), value_text(c.difference), p, *sides))  # fmt: skip
    first = contrasts[0]
    high, low = side_label(first.high), side_label(first.low)
    counts = "images" if unit == "images" else f"images / {unit}"
    test = first.test
    how = (
        f"p: two-sided permutation test, {test.permutations} permutations of {test.unit} "
        f"between the groups of {high} and {low} (each keeps its images and labels)."
        if test is not None else "No permutation test was run."
    )  # fmt: skip
    return Table(
        f"fairness-{rid}-contrast",
        f"Pre-specified contrast {high} minus {low} (negative: {high} served worse). AUC "
        "does not move with the threshold; sensitivity is at each run's threshold.",
        ("metric", high, low, f"{high} − {low}", "p", f"{high}: {counts}", f"{low}: {counts}"),
        tuple(rows),
        tuple(warnings),
        (how, *(contrast_sentence(c, runs, unit) for c in contrasts)),
    )  # fmt: skip


def gap_table(gaps: Sequence[GapResult], rid: str, compared: Sequence[str], rule: str) -> Table:
    """Worst group and max − min gap per metric, with permutation p-values."""
    rows = []
    for g in gaps:
        worst = DASH if g.worst_group is None else f"{g.worst_group} ({fmt(g.worst_value)})"
        rows.append((label(g.metric), worst, value_text(g.value), *test_cells(g.test)))
    test = next((g.test for g in gaps if g.test is not None), None)
    how = (
        f"p: one-sided permutation test ({test.permutations} permutations of {test.unit} "
        "among the compared groups, each within its label pattern); Holm across these gaps."
        if test is not None else "No permutation test was run."
    )  # fmt: skip
    return Table(
        f"fairness-{rid}-gaps",
        f"Worst group and gap (max − min over the compared groups: "
        f"{', '.join(compared) or 'none'}); a secondary summary.",
        ("measure", "worst group (value)", "gap [raw percentile interval]", "p", "p (Holm)"),
        tuple(rows),
        notes=(
            rule,
            "A max − min of noisy groups is above 0 even when the groups do not differ, so "
            "its interval cannot show that a gap exists; the p-value tests it.",
            how,
        ),
    )


def calibration_blocks(cal: CalibrationResult, rid: str) -> list[Block]:
    """The calibration table and the sentence naming the worst group only if it stands out."""
    rows = tuple(
        (r.group, str(r.images), fmt(r.ece_uniform), fmt(r.ece_quantile), fmt(r.brier),
         value_text(r.ece_debiased), p_text(r.p_miscalibrated), p_text(r.p_holm))
        for r in cal.rows
    )  # fmt: skip
    if cal.worst_group is not None:
        worst = next(r for r in cal.rows if r.group == cal.worst_group)
        verdict = (
            f"Worst calibrated: {worst.group} (debiased ECE {value_text(worst.ece_debiased)}, "
            f"Holm p {p_text(worst.p_holm)} < {cal.alpha:g})."
        )
    else:
        verdict = (
            "No compared group stands out from what perfectly calibrated scores give at its "
            f"size (every Holm-adjusted p >= {cal.alpha:g}): no group is named worst calibrated."
        )
    table = Table(
        f"fairness-{rid}-calibration",
        f"Calibration by group: plain ECE over {cal.bins} equal-width and equal-mass bins "
        "(both grow as a group shrinks), Brier, and the ECE debiased for group size.",
        ("group", "images", "ECE equal-width (plain)", "ECE equal-mass (plain)", "Brier",
         "debiased ECE", "p (miscalibrated)", "p (Holm)"),
        rows,
        notes=(
            f"Debiased ECE: equal-width ECE minus its mean under perfect calibration at the "
            f"group's size and scores ({cal.null_draws} label draws from the scores); p: share "
            "of those draws with an ECE at least the observed.",
            verdict,
        ),
    )  # fmt: skip
    return [table]


def undefined_table(rows: Sequence[tuple[str, str, str]], rid: str) -> Block:
    """Every undefined value with its reason (or one line saying there is none)."""
    if not rows:
        return Para("No value is undefined.")
    return Table(f"fairness-{rid}-undefined", "Undefined values and why.",
                 ("where", "value", "reason"), tuple(rows))  # fmt: skip


def threshold_text(result: AuditResult) -> str:
    """How each run's decisions were made."""
    parts = []
    for run in result.runs:
        how = (
            f"threshold {fmt(run.threshold, 4)} ({run.threshold_source})"
            if run.threshold == run.threshold else f"{run.threshold_source}: no threshold applies"
        )  # fmt: skip
        parts.append(f"{run.name}: {how}")
    head = f"{len(result.runs)} runs of one model, averaged: " if len(result.runs) > 1 else ""
    return head + "; ".join(parts) + ". Predicted melanocytic where score >= threshold."


def audit_blocks(result: AuditResult, rid: str, figures: Sequence[Figure] = ()) -> list[Block]:
    """Every block of a binary audit, the primary contrast first, warnings before its table."""
    runs, unit = len(result.runs), result.provenance.unit
    groups = [(r.group, r.counts.images) for r in result.groups]
    warnings = warnings_of(result.provenance, groups, result.dark_images)
    blocks: list[Block] = [
        Para("Headline (pre-specified): " + contrast_sentence(result.primary, runs, unit)),
        Para(threshold_text(result)),
        contrast_table(result.contrasts, rid, runs, unit, warnings),
        group_table(result, rid),
        gap_table(result.gaps, rid, result.compared, result.rule),
        Para(
            f"Equity-scaled AUC (AUC / (1 + sum over the compared groups of |AUC − AUC_g|)): "
            f"{value_text(result.equity_scaled_auc)}."
        ),
    ]
    if result.calibration is not None:
        blocks += calibration_blocks(result.calibration, rid)
    blocks.append(undefined_table(result.undefined(), rid))
    return blocks + list(figures)


def audit_figures(name: str, prefix: str = "") -> list[Figure]:
    """The per-group figure and the reliability diagram of an audit written as ``name``."""
    return [
        Figure(f"figure-fairness-{html_id(name)}", f"{prefix}{name}.png",
               "Sensitivity, specificity and AUC per group with intervals",
               f"{name}: sensitivity, specificity and AUC per group."),
        Figure(f"figure-reliability-{html_id(name)}", f"{prefix}{name}.reliability.png",
               "Reliability diagram per group", f"{name}: reliability per group."),
    ]  # fmt: skip


def write_pages(
    blocks: Sequence[Block], title: str, md_path: Path | None, html_path: Path | None,
    figure_file: Callable[[Figure], Path | None],
) -> None:  # fmt: skip
    """Markdown (figures linked by name) and a self-contained HTML page (figures inlined)."""
    if md_path is not None:
        lines = [f"# {title}", "", *markdown(blocks, lambda f: _linked(f, figure_file), 2)]
        write_text_atomic(md_path, "\n".join(lines).rstrip() + "\n")
    if html_path is not None:
        write_text_atomic(html_path, page(title, html(blocks, lambda f: _inline(f, figure_file))))


def _linked(fig: Figure, figure_file: Callable[[Figure], Path | None]) -> str | None:
    path = figure_file(fig)
    return path.name if path is not None and path.is_file() else None


def _inline(fig: Figure, figure_file: Callable[[Figure], Path | None]) -> str | None:
    path = figure_file(fig)
    if path is None or not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def markdown_text(blocks: Sequence[Block], title: str) -> str:
    """Markdown of ``blocks`` under ``title`` (figures by their recorded path)."""
    lines = [f"# {title}", "", *markdown(blocks, lambda f: f.path, 2)]
    return "\n".join(lines).rstrip() + "\n"


def paired_table(result: PairedResult, rid: str) -> Table:
    """Δ = B − A of each statistic with its shared-replicate interval and swap-test p."""
    rows = tuple(
        (r.label, fmt(r.a), fmt(r.b), value_text(r.delta), *test_cells(r.test)) for r in result.rows
    )
    s = result.settings
    runs = len(result.runs_a)
    test = next((r.test for r in result.rows if r.test is not None), None)
    how = (
        f"p: paired permutation test, {test.permutations} random swaps of each of the "
        f"{test.unit}' outputs between A and B (the trained models held fixed; the interval "
        "is what covers seeds); Holm across the comparisons reported together."
        if test is not None else "No paired test was run."
    )  # fmt: skip
    return Table(
        f"paired-{rid}",
        f"{result.b} against {result.a} on the same {result.images} test images "
        f"({runs} run(s) each, paired by position): Δ = B − A.",
        ("statistic", "A", "B", "Δ = B − A", "p", "p (Holm)"),
        rows,
        notes=(
            f"Brackets: {interval_scope(s, runs, result.provenance.unit)}, the same "
            "resamples for A and B.",
            how,
            result.rule,
        ),
    )


def paired_blocks(result: PairedResult, rid: str) -> list[Block]:
    """A paired comparison's table, its warnings before it."""
    warnings = warnings_of(result.provenance, [], None)
    if len(result.compared) < 2:
        warnings.append("Fewer than two groups meet the rule: no gap can be compared.")
    table = paired_table(result, rid)
    return [replace(table, warnings=tuple(warnings))]


def multiclass_blocks(result: MulticlassAuditResult, rid: str) -> list[Block]:
    """Every block of a multi-class audit."""
    groups = [(r.group, r.counts.images) for r in result.groups]
    contrast, unit = result.contrasts[0], result.provenance.unit
    warnings = warnings_of(result.provenance, groups, contrast.high_counts.images)
    renormalized = " (scores renormalised to sum 1)" if result.renormalized else ""
    blocks: list[Block] = [
        Para("Headline (pre-specified): " + contrast_sentence(contrast, 1, unit)),
        Para(f"{result.run.name}: classes {', '.join(result.classes)}; decision: "
             f"{result.run.threshold_source}{renormalized}."),
        contrast_table(result.contrasts, rid, 1, unit, warnings),
        _multiclass_groups(result, rid),
        _per_class(result, rid),
        gap_table(result.gaps, rid, result.compared, result.rule),
        Para("Equity-scaled macro AUC: " + value_text(result.equity_scaled_macro_auc) + "."),
        *calibration_blocks(result.calibration, rid),
    ]  # fmt: skip
    undefined = [(r.group, m, getattr(r, m).reason) for r in (result.overall, *result.groups)
                 for m in ("balanced_accuracy", "macro_auc") if getattr(r, m).reason]  # fmt: skip
    return [*blocks, undefined_table(undefined, rid)]


def _multiclass_groups(result: MulticlassAuditResult, rid: str) -> Table:
    ece = {r.group: r.ece_uniform for r in result.calibration.rows}
    rows = tuple(
        (r.group, str(r.counts.images), str(r.counts.patients),
         DASH if r.group == "all" else ("yes" if r.compared else "no (flagged)"),
         value_text(r.balanced_accuracy), value_text(r.macro_auc), fmt(ece.get(r.group)),
         fmt(r.brier))
        for r in (result.overall, *result.groups)
    )  # fmt: skip
    return Table(
        f"fairness-{rid}",
        "Per group: balanced accuracy, macro AUC (one-vs-rest), top-label ECE, Brier.",
        ("group", "images", result.provenance.unit, "compared", "balanced accuracy",
         "macro AUC", "top-label ECE (equal-width, plain)", "Brier"),
        rows, notes=(result.rule,),
    )  # fmt: skip


def _per_class(result: MulticlassAuditResult, rid: str) -> Table:
    rows = tuple(
        (r.group, *("/".join(fmt(getattr(r.per_class[c], m)) for m in
                             ("sensitivity", "specificity", "auc")) for c in result.classes))
        for r in (result.overall, *result.groups)
    )  # fmt: skip
    return Table(
        f"fairness-{rid}-classes",
        "Per class, one-vs-rest: sensitivity / specificity / AUC.",
        ("group", *result.classes),
        rows,
    )


def write_multiclass(result: MulticlassAuditResult, title: str, *, json_path: Path | None,
                     md_path: Path | None, html_path: Path | None) -> None:  # fmt: skip
    """Write a multi-class audit as JSON, Markdown and a self-contained HTML page."""
    if json_path is not None:
        result.write(json_path)
    import tempfile

    from benchmark.fairness.figure import draw_reliability, save

    with tempfile.TemporaryDirectory() as scratch:
        figure = Path(scratch) / "audit.reliability.png"
        save(draw_reliability(result.calibration), figure)
        fig = Figure("figure-reliability", figure.name, "Reliability diagram per group",
                     "Top-label reliability per group.")  # fmt: skip
        blocks = [*multiclass_blocks(result, "multiclass"), fig]
        write_pages(blocks, title, md_path, html_path, lambda f: figure)
