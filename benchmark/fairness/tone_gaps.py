"""The study's question: is dark skin served worse, and does a mitigation change that?

Each variant's seeds are audited together (:func:`~benchmark.fairness.audit.audit_files`
over its runs): the headline is the pre-specified contrast, AUC on the dark side minus AUC
on the light side (by default V–VI minus I–II, the configured group column), as the mean
over seeds with one interval over seeds and patients (hierarchical bootstrap) and a
permutation p-value; its secondary is sensitivity at each run's validation threshold.
Mitigations are paired differences from the baseline on the same resamples, Holm-corrected
across the variants compared. :class:`ToneStudy` holds it all and reads its own JSON; the
verdict sentences come from the intervals (:func:`~benchmark.fairness.render.
contrast_sentence`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from benchmark.core.document import Block, Figure, Table
from benchmark.core.fitzpatrick import side_label
from benchmark.core.groupings import describe
from benchmark.core.naming import VARIANT_LABELS
from benchmark.core.records import Record
from benchmark.fairness.figure import draw_contrasts, save
from benchmark.fairness.paired import PairedResult
from benchmark.fairness.render import (
    contrast_sentence,
    interval_scope,
    test_cells,
    value_text,
    write_pages,
)
from benchmark.fairness.result import AuditResult, ContrastResult, Settings
from benchmark.metrics.estimates import Estimate
from benchmark.metrics.permutation import holm

STUDY_STEM = "tone_gaps"


def study_stem(group_col: str, headline: str) -> str:
    """``tone_gaps`` for the headline grouping, ``tone_gaps_<col>`` for another."""
    return STUDY_STEM if group_col == headline else f"{STUDY_STEM}_{group_col}"


@dataclass(frozen=True)
class VariantRow:
    """One variant over its seeds.

    Attributes:
        variant: Its name (``baseline``...).
        seeds: The seeds audited.
        overall_auc: AUC over all test images, mean over seeds with its interval.
        contrasts: The primary contrast (AUC) and its secondary (sensitivity).
    """

    variant: str
    seeds: tuple[int, ...]
    overall_auc: Estimate
    contrasts: tuple[ContrastResult, ...]

    @property
    def label(self) -> str:
        """The variant as tables name it."""
        return VARIANT_LABELS.get(self.variant, self.variant)


@dataclass(frozen=True)
class ToneStudy(Record):
    """Every variant's skin-tone contrast and the mitigations against the baseline.

    Attributes:
        group_col: The group column the contrast reads.
        settings: Intervals, permutations, seed.
        unit: ``patients`` or ``images``.
        phantom: The test images are phantoms.
        variants: One row per variant, in the configured order.
        comparisons: Paired comparisons (B against A), Holm across them per statistic.
        failures: One sentence per variant with runs the guard failed (left out of every
            row; :mod:`benchmark.classification.guard`).
    """

    group_col: str
    settings: Settings
    unit: str
    phantom: bool
    variants: tuple[VariantRow, ...]
    comparisons: tuple[PairedResult, ...]
    failures: tuple[str, ...] = ()


def tone_study(
    audits: dict[str, tuple[Sequence[int], AuditResult]],
    comparisons: Sequence[PairedResult],
    group_col: str,
    failures: Sequence[str] = (),
) -> ToneStudy:
    """Assemble the study from each variant's audit over its seeds and the comparisons.

    Args:
        audits: Variant -> (its seeds, its audit over them), in display order.
        comparisons: Paired comparisons of variants; their p-values get Holm's adjustment
            across the comparisons, statistic by statistic.
        group_col: The group column.
        failures: Sentences naming the runs the guard failed.
    """
    first = next(iter(audits.values()))[1]
    rows = tuple(
        VariantRow(v, tuple(seeds), a.overall["auc"], a.contrasts)
        for v, (seeds, a) in audits.items()
    )
    return ToneStudy(
        group_col, first.settings, first.provenance.unit, first.provenance.phantom, rows,
        holm_across(comparisons), tuple(failures),
    )  # fmt: skip


def holm_across(comparisons: Sequence[PairedResult]) -> tuple[PairedResult, ...]:
    """The comparisons with each row's ``p_holm`` adjusted across all of them."""
    if not comparisons:
        return ()
    out = list(comparisons)
    for key in (r.key for r in comparisons[0].rows):
        tests = {i: c.row(key).test for i, c in enumerate(out)}
        adjusted = holm({str(i): t.p_value for i, t in tests.items() if t is not None})
        for i, test in tests.items():
            if test is not None:
                new = replace(out[i].row(key), test=replace(test, p_holm=adjusted[str(i)]))
                rows = tuple(new if r.key == key else r for r in out[i].rows)
                out[i] = replace(out[i], rows=rows)
    return tuple(out)


def study_blocks(
    study: ToneStudy, figure_path: str, warnings: Sequence[str] = (), suffix: str = ""
) -> list[Block]:
    """The study table (``warnings`` before it), its verdicts, the mitigations, the figure.

    ``suffix`` tells the block ids of a second grouping's study from the headline's.
    """
    first = study.variants[0].contrasts[0]
    high, low = side_label(first.high), side_label(first.low)
    rows = []
    for v in study.variants:
        primary, secondary = v.contrasts
        rows.append((
            v.label, str(len(v.seeds)), value_text(primary.low_value),
            value_text(primary.high_value), value_text(primary.difference),
            test_cells(primary.test)[0], value_text(secondary.difference),
            test_cells(secondary.test)[0], value_text(v.overall_auc),
        ))  # fmt: skip
    scope = interval_scope(study.settings, 2, study.unit)
    table = Table(
        f"tone-gaps{suffix}",
        f"Every variant, mean over its seeds: AUC on each side, the pre-specified contrast "
        f"{high} minus {low} (negative: {high} served worse; groups: "
        f"{describe(study.group_col)}) and its secondary, sensitivity at each run's "
        "validation threshold.",
        ("model", "seeds", f"AUC {low}", f"AUC {high}", f"AUC {high} − {low}", "p",
         f"sensitivity {high} − {low}", "p", "AUC (all)"),
        tuple(rows),
        (*study.failures, *warnings),
        (
            f"Brackets: {scope} (one interval over seeds and patients); p: two-sided "
            f"permutation test, {study.settings.n_permutations} permutations of "
            f"{study.unit} between the groups of both sides, the models held fixed.",
            *(contrast_sentence(v.contrasts[0], len(v.seeds), study.unit, f"{v.label}: ")
              for v in study.variants),
        ),
    )  # fmt: skip
    blocks: list[Block] = [table]
    if study.comparisons:
        blocks.append(_paired_table(study, suffix))
    blocks.append(Figure(f"figure-tone-gaps{suffix}", figure_path,
                         f"AUC on each side of {high} − {low} for every variant",
                         f"AUC {low} and {high} for every variant (mean over seeds)."))  # fmt: skip
    return blocks


def _paired_table(study: ToneStudy, suffix: str) -> Table:
    rows = []
    for c in study.comparisons:
        cells = []
        for key in ("contrast_auc", "overall_auc", "contrast_sensitivity"):
            row = c.row(key)
            cells += [value_text(row.delta), *test_cells(row.test)]
        name = f"{VARIANT_LABELS.get(c.b, c.b)} − {VARIANT_LABELS.get(c.a, c.a)}"
        rows.append((name, str(len(c.runs_a)), *cells))
    contrast = study.comparisons[0].contrast
    return Table(
        f"tone-paired{suffix}",
        f"Mitigations against the baseline, paired on the same test images and resamples: "
        f"Δ of the contrast {contrast}, of AUC over all images and of the secondary contrast.",
        ("comparison", "seeds", "Δ contrast AUC", "p", "p (Holm)", "Δ AUC (all)", "p",
         "p (Holm)", "Δ contrast sensitivity", "p", "p (Holm)"),
        tuple(rows),
        notes=(
            "Δ and its interval come from the same hierarchical resamples for both models "
            "(run k of one beside run k of the other); p: each patient's outputs swapped "
            "between the two models at random (the trained models held fixed); Holm across "
            "the comparisons, statistic by statistic. A mitigation helps dark skin when Δ "
            "contrast is positive with an interval above 0.",
        ),
    )  # fmt: skip


def variant_metrics(study: ToneStudy) -> dict[str, dict[str, float]]:
    """Flat numbers per variant (for the metrics JSON and MLflow)."""
    out = {}
    for v in study.variants:
        values = {"auc_mean": v.overall_auc.value}
        for c in v.contrasts:
            values |= _flat(f"{c.metric}_contrast", c.difference)
            values[f"{c.metric}_contrast_p"] = c.test.p_value if c.test else math.nan
        out[v.variant] = values
    return out


def comparison_metrics(study: ToneStudy) -> dict[str, dict[str, float]]:
    """Flat numbers per comparison ``<B>_vs_<A>``: Δ, its interval, p and Holm's p."""
    out = {}
    for c in study.comparisons:
        values: dict[str, float] = {}
        for row in c.rows:
            values |= _flat(f"{row.key}_delta", row.delta)
            if row.test is not None:
                values[f"{row.key}_p"] = row.test.p_value
                values[f"{row.key}_p_holm"] = row.test.p_holm
        out[f"{c.b}_vs_{c.a}"] = values
    return out


def _flat(key: str, estimate: Estimate) -> dict[str, float]:
    iv = estimate.interval
    return {key: estimate.value, f"{key}_low": iv.low if iv else math.nan,
            f"{key}_high": iv.high if iv else math.nan}  # fmt: skip


def write_study(study: ToneStudy, out_dir: Path, stem: str = STUDY_STEM) -> list[Path]:
    """``<stem>.json``, ``<stem>.md`` and ``<stem>.png`` in ``out_dir``."""
    json_path, md_path, png_path = (out_dir / f"{stem}.{ext}" for ext in ("json", "md", "png"))
    study.write(json_path)
    names = [v.label for v in study.variants]
    save(draw_contrasts(names, [v.contrasts[0] for v in study.variants]), png_path)
    blocks = study_blocks(study, png_path.name)
    title = f"Skin-tone contrast by {describe(study.group_col)}, every variant (mean over seeds)"
    write_pages(blocks, title, md_path, None,
                lambda f: png_path)  # fmt: skip
    return [json_path, md_path, png_path]
