"""The fairness stage's part of the report: the study, a summary over runs, every audit.

Assembled from the blocks of :mod:`benchmark.fairness.render` and
:mod:`benchmark.fairness.tone_gaps`; nothing here formats a number itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from benchmark.core.document import Block, Para, Section, SectionFile, Table, fmt, slot
from benchmark.core.fitzpatrick import side_label
from benchmark.core.groupings import SKIN_TYPE_SHORT, describe
from benchmark.fairness.render import (
    audit_blocks,
    audit_figures,
    markdown_text,
    paired_blocks,
    test_cells,
    value_text,
    warnings_of,
)
from benchmark.fairness.result import AuditResult
from benchmark.fairness.tone_gaps import ToneStudy, study_blocks, study_stem

PHANTOM_DESIGN = (
    "What the phantom world is built to show: lesion contrast, and with it every cue that "
    "tells melanocytic from other lesions (pigment network, brown or blue-grey versus red "
    "colour, border irregularity), shrinks with skin lightness, from about 30 L* units on "
    f"the lightest skin to about 7 on the darkest, while {SKIN_TYPE_SHORT} V–VI are about 8% of "
    "the training images. A model trained on this mix should find dark-skin lesions harder; the "
    "test split holds the same number of images of each tone group, so the contrast can be "
    "measured. Whether it appears, and whether a mitigation closes it, is what the table says, "
    "within its intervals."
)


def summary_table(audits: dict[str, AuditResult]) -> Table:
    """One row per audited run: AUC, the primary contrast and its p, worst group, gaps."""
    rows = []
    for run, a in audits.items():
        primary, auc_gap = a.primary, a.gap("auc")
        worst = f"{fmt(auc_gap.worst_value)} ({auc_gap.worst_group or '—'})"
        rows.append((
            run, fmt(a.runs[0].threshold, 4), str(a.overall_counts.images),
            value_text(a.overall["auc"]), value_text(primary.difference),
            test_cells(primary.test)[0], worst, value_text(auc_gap.value),
            value_text(a.gap("equalized_odds").value),
            value_text(a.gap("demographic_parity").value),
        ))  # fmt: skip
    first = next(iter(audits.values())).primary
    contrast = f"{side_label(first.high)} − {side_label(first.low)}"
    return Table(
        "fairness-summary",
        "Every audited classifier run (one seed each; thresholds chosen on validation): AUC, "
        f"the pre-specified contrast AUC {contrast} with its permutation p, worst group and "
        "gaps.",
        ("run", "threshold", "images", "AUC (all)", f"AUC {contrast}", "p",
         "worst AUC (group)", "AUC gap", "EO difference", "DP difference"),
        tuple(rows),
        notes=("Brackets: 95% percentile intervals over patient resamples; gap intervals are "
               "raw percentile intervals (they lean high).",),
    )  # fmt: skip


def _caveats(audits: dict[str, AuditResult]) -> list[str]:
    first = next(iter(audits.values()))
    groups = [(r.group, r.counts.images) for r in first.groups]
    return warnings_of(first.provenance, groups, first.dark_images)


def summary_markdown(study: ToneStudy, table: Table, audits: dict[str, AuditResult]) -> str:
    """``summary.md``: caveats, the study, the mitigations, then every run."""
    blocks = [*study_blocks(study, "tone_gaps.png", _caveats(audits)), table]
    return markdown_text(blocks, "Fairness audit summary (real test split)")


def fairness_section(
    audits: dict[str, AuditResult], study: ToneStudy, others: Sequence[ToneStudy] = ()
) -> SectionFile:
    """The study and mitigations, the study by each other grouping, the summary, every run."""
    phantom = study.phantom
    place = slot("fairness")
    head: list[Block] = [Para(PHANTOM_DESIGN)] if phantom else []
    study_section = Section(
        "sec-tone-gaps", "Does any mitigation close the skin-tone gap?",
        (*head, *study_blocks(study, "fairness/tone_gaps.png", _caveats(audits))),
    )  # fmt: skip
    pairs = [
        Section(f"sec-paired-{c.b}-vs-{c.a}", f"Paired: {c.b} against {c.a}",
                tuple(paired_blocks(c, f"{c.b}-vs-{c.a}")))
        for c in study.comparisons
    ]  # fmt: skip
    runs = [
        Section(f"sec-fairness-{name}", f"Audit: {name}", tuple(audit_blocks(
            audit, name, audit_figures(name, "fairness/"))))
        for name, audit in audits.items()
    ]  # fmt: skip
    again = [_other_section(other, study.group_col) for other in others]
    blocks: tuple[Block, ...] = (study_section, *again, summary_table(audits), *pairs, *runs)
    return SectionFile((Section(place.id, place.title, blocks),), phantom)


def _other_section(study: ToneStudy, headline: str) -> Section:
    """The study again by another grouping (no paired comparisons), beside the headline's."""
    stem = study_stem(study.group_col, headline)
    return Section(
        f"sec-{stem.replace('_', '-')}",
        f"The same study by {describe(study.group_col)}",
        (
            Para(
                f"Each variant over its seeds again, its images grouped by "
                f"{describe(study.group_col)} instead of {describe(headline)}: the "
                "difference is what the choice of skin-type estimate does to the conclusion."
            ),
            *study_blocks(study, f"fairness/{stem}.png", suffix=f"-{study.group_col}"),
        ),
    )
