"""The fairness stage: every classifier run audited, every variant over its seeds, compared.

Each run's threshold is chosen on that run's validation predictions and applied to its
test predictions; test never chooses anything. Written to the stage's folder:

- ``<run>.json/.md/.png/.reliability.png/.html``: each run's audit (one seed);
- ``<variant>.json/.md/.png/.reliability.png/.html``: each variant over its seeds (the
  hierarchical interval over seeds and patients);
- ``compare_<B>_vs_<A>.json/.md``: each configured pair over their common seeds;
- ``tone_gaps.json/.md/.png``: the study table (:mod:`benchmark.fairness.tone_gaps`), by
  the headline grouping ``group_col``; ``tone_gaps_<col>.*``: the same study by each of
  ``also_group_by`` (the paper's rule as printed: what the paper's grouping concludes);
- ``summary.csv/.md`` and the report's ``section.json``.

Runs the classify stage's guard failed (``runs.json`` beside the predictions, see
:class:`benchmark.core.run_checks.RunChecks`) are audited by nobody: they leave every mean,
and the study names them ("2 of 5 seeds failed: constant test scores (seed 43, seed 44)").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from benchmark.core.config.downstream import FairnessConfig
from benchmark.core.document import write_sections
from benchmark.core.groupings import describe
from benchmark.core.io import atomic_path
from benchmark.core.naming import CLASSIFIER_VARIANTS, VARIANT_LABELS, parse_run_name
from benchmark.core.run_checks import RunChecks, failure_summary
from benchmark.fairness.audit import (
    Columns,
    audit_files,
    compare_files,
    write_audit,
    write_comparison,
)
from benchmark.fairness.inputs import AuditOptions
from benchmark.fairness.paired import PairedResult
from benchmark.fairness.result import AuditResult
from benchmark.fairness.section import fairness_section, summary_markdown, summary_table
from benchmark.fairness.tone_gaps import (
    comparison_metrics,
    study_stem,
    tone_study,
    variant_metrics,
    write_study,
)


class NoRunError(ValueError):
    """Every classifier run failed the guard: there is nothing to audit."""


PAIRED_KEY = "paired"  # metrics key of the paired comparisons (the others are run names)
TONE_KEY = "tone_gaps"  # metrics key of the per-variant tone-group comparison
Flat = dict[str, float | str | None]
Files = Callable[[Sequence[str], str], list[Path]]


@dataclass(frozen=True)
class FairnessMetrics:
    """The stage's numbers: per run, per variant (the study) and per comparison.

    Attributes:
        runs: Run name -> its flat numbers (:func:`run_metrics`).
        variants: Variant -> its contrast over seeds (:func:`~benchmark.fairness.tone_gaps.
            variant_metrics`).
        paired: ``<B>_vs_<A>`` -> its paired differences.
        by_grouping: Further group column -> variant -> its contrast over seeds.
    """

    runs: dict[str, Flat]
    variants: dict[str, dict[str, float]]
    paired: dict[str, dict[str, float]]
    by_grouping: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """``metrics/fairness.json``: per run, ``tone_gaps``, ``tone_gaps_<col>``, ``paired``."""
        out: dict[str, object] = dict(self.runs)
        out[TONE_KEY] = self.variants
        for column, values in self.by_grouping.items():
            out[f"{TONE_KEY}_{column}"] = values
        if self.paired:
            out[PAIRED_KEY] = self.paired
        return out


def run_names(predictions_dir: Path) -> list[str]:
    """Runs with both ``<run>_val.csv`` and ``<run>_test.csv`` in the folder, sorted."""
    tests = {p.name.removesuffix("_test.csv") for p in predictions_dir.glob("*_test.csv")}
    vals = {p.name.removesuffix("_val.csv") for p in predictions_dir.glob("*_val.csv")}
    if not tests & vals:
        raise FileNotFoundError(f"{predictions_dir}: no <run>_val.csv / <run>_test.csv pairs")
    return sorted(tests & vals)


def options_of(cfg: FairnessConfig) -> AuditOptions:
    """The audit settings the stage's params give."""
    return AuditOptions(
        n_bootstrap=cfg.bootstrap, n_permutations=cfg.permutations, seed=cfg.seed,
        min_positives=cfg.min_positives, min_negatives=cfg.min_negatives,
        contrast=cfg.contrast, interval=cfg.interval, patient_rule=cfg.patient_groups,
    )  # fmt: skip


def by_variant(runs: Sequence[str]) -> dict[str, dict[int, str]]:
    """Variant -> seed -> run name, variants in :data:`CLASSIFIER_VARIANTS` order."""
    out: dict[str, dict[int, str]] = {}
    for run in runs:
        variant, seed = parse_run_name(run)
        out.setdefault(variant, {})[seed] = run
    order = {v: i for i, v in enumerate(CLASSIFIER_VARIANTS)}
    return {v: dict(sorted(out[v].items())) for v in sorted(out, key=lambda v: order.get(v, 99))}


def passing_runs(predictions_dir: Path) -> tuple[dict[str, dict[int, str]], tuple[str, ...]]:
    """The runs that passed the guard, and a sentence per variant with a failed run.

    Returns:
        Variant -> seed -> run name (a variant whose every run failed is left out), and
        the sentences.
    """
    failed = RunChecks.read(predictions_dir).failed
    variants = by_variant(run_names(predictions_dir))
    notes = []
    for variant, seeds in variants.items():
        own = {run: why for run, why in failed.items() if run in seeds.values()}
        if own:
            label = VARIANT_LABELS.get(variant, variant)
            gone = " (no run left: not audited)" if len(own) == len(seeds) else ""
            notes.append(f"{label}: {failure_summary(own, len(seeds))}{gone}.")
    kept = {v: {k: r for k, r in seeds.items() if r not in failed} for v, seeds in variants.items()}
    return {v: seeds for v, seeds in kept.items() if seeds}, tuple(notes)


def audit_runs(predictions_dir: Path, cfg: FairnessConfig, out_dir: Path) -> FairnessMetrics:
    """Write every audit, comparison and the study into ``out_dir``; return the metrics.

    Args:
        predictions_dir: The classify stage's prediction CSVs.
        cfg: Group column, patient column, bootstrap, permutations, contrast, pairs.
        out_dir: Folder to write (replaced atomically).
    """
    columns = Columns(group=(cfg.group_col,), patient=cfg.cluster_col)
    options = options_of(cfg)
    variants, failures = passing_runs(predictions_dir)
    if not variants:
        raise NoRunError(f"{predictions_dir}: every classifier run failed the guard: {failures}")

    def files(runs: Sequence[str], split: str) -> list[Path]:  # the runs' prediction files
        return [predictions_dir / f"{r}_{split}.csv" for r in runs]

    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        audits: dict[str, AuditResult] = {}
        for seeds in variants.values():
            for run in seeds.values():
                audits[run] = audit_files(
                    files([run], "test"),
                    columns=columns,
                    thresholds_from=files([run], "val"),
                    options=options,
                )
                _write(
                    audits[run], tmp, run, f"{run}, real test images, by {describe(cfg.group_col)}"
                )
        pooled: dict[str, tuple[Sequence[int], AuditResult]] = {}
        for variant, seeds in variants.items():
            runs = list(seeds.values())
            result = audit_files(
                files(runs, "test"),
                columns=columns,
                thresholds_from=files(runs, "val"),
                options=options,
            )
            _write(result, tmp, variant, f"{variant} over seeds {list(seeds)}, real test images")
            pooled[variant] = (list(seeds), result)
        comparisons = _compare(variants, cfg, options, columns, files)
        study = tone_study(pooled, comparisons, cfg.group_col, failures)
        write_study(study, tmp)
        others = {
            column: tone_study(_pooled(variants, cfg, column, options, files), [], column, failures)
            for column in cfg.also_group_by
        }
        for column, other in others.items():
            write_study(other, tmp, study_stem(column, cfg.group_col))
        for c in study.comparisons:
            write_comparison(c, title=f"Paired comparison: {c.b} against {c.a}",
                             json_path=tmp / f"compare_{c.b}_vs_{c.a}.json",
                             md_path=tmp / f"compare_{c.b}_vs_{c.a}.md")  # fmt: skip
        table = summary_table(audits)
        pd.DataFrame(table.rows, columns=list(table.columns)).to_csv(tmp / "summary.csv",
                                                                     index=False)  # fmt: skip
        (tmp / "summary.md").write_text(summary_markdown(study, table, audits), encoding="utf-8")
        write_sections(tmp, fairness_section(audits, study, tuple(others.values())))
    per_run = {run: run_metrics(a) for run, a in audits.items()}
    by_grouping = {column: variant_metrics(other) for column, other in others.items()}
    return FairnessMetrics(per_run, variant_metrics(study), comparison_metrics(study), by_grouping)


def _pooled(
    variants: dict[str, dict[int, str]], cfg: FairnessConfig, column: str,
    options: AuditOptions, files: Files,
) -> dict[str, tuple[Sequence[int], AuditResult]]:  # fmt: skip
    """Each variant over its seeds, grouped by ``column``."""
    columns = Columns(group=(column,), patient=cfg.cluster_col)
    return {
        variant: (list(seeds), audit_files(
            files(list(seeds.values()), "test"), columns=columns,
            thresholds_from=files(list(seeds.values()), "val"), options=options,
        ))
        for variant, seeds in variants.items()
    }  # fmt: skip


def _write(result: AuditResult, folder: Path, name: str, title: str) -> None:
    write_audit(
        result, title=f"Fairness audit: {title}", json_path=folder / f"{name}.json",
        md_path=folder / f"{name}.md", png_path=folder / f"{name}.png",
        html_path=folder / f"{name}.html",
    )  # fmt: skip


def _compare(
    variants: dict[str, dict[int, str]], cfg: FairnessConfig, options: AuditOptions,
    columns: Columns, files: Files,
) -> list[PairedResult]:  # fmt: skip
    out = []
    for a, b in cfg.compare:
        if a not in variants or b not in variants:
            continue
        seeds = sorted(set(variants[a]) & set(variants[b]))
        if not seeds:
            continue
        runs_a, runs_b = [variants[a][s] for s in seeds], [variants[b][s] for s in seeds]
        out.append(compare_files(
            files(runs_a, "test"), files(runs_b, "test"), columns=columns,
            thresholds_from=(files(runs_a, "val"), files(runs_b, "val")),
            names=(a, b), options=options,
        ))  # fmt: skip
    return out


def run_metrics(result: AuditResult) -> Flat:
    """Flat numbers of one run's audit (metrics JSON, MLflow, ``skinbench runs``)."""
    out: Flat = {"threshold": result.runs[0].threshold, "n": result.overall_counts.images}
    for metric in ("sensitivity", "specificity", "auc"):
        gap = result.gap(metric)
        out[f"{metric}_overall"] = result.overall[metric].value
        out[f"{metric}_worst_group"] = gap.worst_group
        out[f"{metric}_worst"] = gap.worst_value
        out[f"{metric}_gap"] = gap.value.value
    out["equalized_odds_difference"] = result.gap("equalized_odds").value.value
    out["demographic_parity_difference"] = result.gap("demographic_parity").value.value
    primary = result.primary
    iv = primary.difference.interval
    out["auc_contrast"] = primary.difference.value
    out["auc_contrast_low"] = iv.low if iv else None
    out["auc_contrast_high"] = iv.high if iv else None
    out["auc_contrast_p"] = primary.test.p_value if primary.test else None
    return out
