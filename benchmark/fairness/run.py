"""Audit every classifier run (variant, seed) on its test predictions.

The threshold of each run is chosen on that run's validation predictions and then applied
to its test predictions; test never chooses anything.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark.core.config.downstream import FairnessConfig
from benchmark.core.document import write_sections
from benchmark.core.io import atomic_path
from benchmark.core.naming import parse_run_name, run_name
from benchmark.fairness.audit import audit_file, report_warnings, write_audit
from benchmark.fairness.compare import compare_files, write_comparison
from benchmark.fairness.section import fairness_section
from benchmark.fairness.tone_gaps import (
    HEADER,
    TONES,
    table_rows,
    tone_gaps,
    verdict,
    write_tone_gaps,
)

KEY_METRICS = ("sensitivity", "specificity", "auc")
PAIRED_KEY = "paired"  # metrics key of the paired comparisons (the others are run names)
TONE_KEY = "tone_gaps"  # metrics key of the per-variant tone-group comparison


def run_names(predictions_dir: Path) -> list[str]:
    """Runs with both ``<run>_val.csv`` and ``<run>_test.csv`` in the folder, sorted."""
    tests = {p.name.removesuffix("_test.csv") for p in predictions_dir.glob("*_test.csv")}
    vals = {p.name.removesuffix("_val.csv") for p in predictions_dir.glob("*_val.csv")}
    if not tests & vals:
        raise FileNotFoundError(f"{predictions_dir}: no <run>_val.csv / <run>_test.csv pairs")
    return sorted(tests & vals)


def _summary_row(run: str, result: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"run": run, "threshold": result["threshold"], "n": result["n"]}
    for metric in KEY_METRICS:
        worst = result["worst_group"].get(metric) or {}
        row[f"{metric}_overall"] = result["overall"][metric]
        row[f"{metric}_worst_group"] = worst.get("group")
        row[f"{metric}_worst"] = worst.get("value", math.nan)
        row[f"{metric}_gap"] = result["gaps"][metric]
    row["equalized_odds_difference"] = result["equalized_odds_difference"]
    row["demographic_parity_difference"] = result["demographic_parity_difference"]
    return row


def audit_runs(predictions_dir: Path, cfg: FairnessConfig, out_dir: Path) -> dict[str, Any]:
    """Write ``<run>.json/.md/.png`` per run and ``summary.csv/.md``; return the metrics.

    Args:
        predictions_dir: The classify stage's prediction CSVs.
        cfg: Group column and bootstrap settings.
        out_dir: Folder to write (replaced atomically).
    """
    results = {}
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        for run in run_names(predictions_dir):
            result = audit_file(
                predictions_dir / f"{run}_test.csv",
                group_col=cfg.group_col,
                cluster_col=cfg.cluster_col,
                threshold_from=predictions_dir / f"{run}_val.csv",
                n_bootstrap=cfg.bootstrap,
                seed=cfg.seed,
                min_positives=cfg.min_positives,
                min_negatives=cfg.min_negatives,
            )
            title = f"Fairness audit: {run}, real test images, by {cfg.group_col}"
            paths = [tmp / f"{run}.{ext}" for ext in ("json", "md", "png")]
            write_audit(result, *paths, title=title, html_path=tmp / f"{run}.html")
            results[run] = result
        summary = pd.DataFrame([_summary_row(run, r) for run, r in results.items()])
        summary.to_csv(tmp / "summary.csv", index=False)
        gaps = tone_gaps(predictions_dir, results, cfg.bootstrap, cfg.seed)
        write_tone_gaps(gaps, tmp)
        first = next(iter(results.values()))
        _write_summary(tmp / "summary.md", summary, gaps, [*report_warnings(first), first["rule"]])
        paired, comparisons = _compare(predictions_dir, cfg, sorted(results), tmp)
        phantom = bool(first.get("phantom"))
        write_sections(tmp, fairness_section(results, comparisons, phantom, gaps))
    metrics: dict[str, Any] = {
        row["run"]: {k: v for k, v in row.items() if k != "run"}
        for row in summary.to_dict("records")
    }
    metrics[TONE_KEY] = {variant: _tone_metrics(r) for variant, r in gaps.items()}
    return metrics | ({PAIRED_KEY: paired} if paired else {})


def _write_summary(
    path: Path, summary: pd.DataFrame, gaps: dict[str, Any], caveats: list[str]
) -> None:
    """summary.md: caveats, the variants by tone group (seed means), then every run."""
    rows = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    rows += ["| " + " | ".join(r) + " |" for r in table_rows(gaps)]
    path.write_text(
        "# Fairness audit summary (real test split; thresholds from validation)\n\n"
        + "".join(f"> {line}\n>\n" for line in caveats)
        + "\n## Every variant by tone group: mean over seeds [95% interval]\n\n"
        + "\n".join(rows)
        + "\n\n"
        + "".join(f"- {verdict(v, r['gap'])}\n" for v, r in gaps.items())
        + "\n## Every run\n\n"
        + summary.to_markdown(index=False, floatfmt=".3f")
        + "\n"
    )


def _tone_metrics(result: dict[str, Any]) -> dict[str, float]:
    """Flat numbers of one variant's tone comparison (for metrics JSON and MLflow)."""
    gap = result["gap"]
    out = {
        "gap_sensitivity_dark_minus_light": gap["value"],
        "gap_boot_low": gap["boot"][0],
        "gap_boot_high": gap["boot"][1],
        "gap_seeds_low": gap["seeds"][0],
        "gap_seeds_high": gap["seeds"][1],
        "auc_mean": result["auc"]["value"],
    }
    for tone in TONES:
        if tone in result["groups"]:
            out[f"sensitivity_{tone}"] = result["groups"][tone]["value"]
    return out


def pairs(runs: list[str], compare: tuple[tuple[str, str], ...]) -> list[tuple[str, str, str]]:
    """``(name, run A, run B)`` for every configured pair of variants, seed by seed."""
    out = []
    for a, b in compare:
        for run in runs:
            variant, seed = parse_run_name(run)
            if variant == a and run_name(b, seed) in runs:
                out.append((f"{b}_vs_{run_name(a, seed)}", run, run_name(b, seed)))
    return out


def _compare(
    predictions_dir: Path, cfg: FairnessConfig, runs: list[str], out: Path
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, Any]]]:
    """Write ``compare_<B>_vs_<A>_seed<s>.json/.md``.

    Returns:
        Δ and p of the headline values per comparison, and the comparisons themselves.
    """
    metrics, results = {}, {}
    for name, a, b in pairs(runs, cfg.compare):
        result = compare_files(
            predictions_dir / f"{a}_test.csv",
            predictions_dir / f"{b}_test.csv",
            thresholds_from=(predictions_dir / f"{a}_val.csv", predictions_dir / f"{b}_val.csv"),
            group_col=cfg.group_col,
            cluster_col=cfg.cluster_col,
            n_bootstrap=max(cfg.bootstrap, 1),
            seed=cfg.seed,
            min_positives=cfg.min_positives,
            min_negatives=cfg.min_negatives,
        )
        title = f"Paired comparison: {b} against {a} on the same real test images"
        write_comparison(result, out / f"compare_{name}.json", out / f"compare_{name}.md", title)
        metrics[name] = _paired_metrics(result)
        results[name] = result
    return metrics, results


def _paired_metrics(result: dict[str, Any]) -> dict[str, float]:
    stats = {f"{m}_overall": result["overall"][m] for m in KEY_METRICS}
    stats |= {f"{m}_gap": result["gaps"][m] for m in KEY_METRICS}
    stats["equalized_odds_difference"] = result["equalized_odds_difference"]
    out = {}
    for key, stat in stats.items():
        out[f"{key}_delta"] = stat["delta"]
        out[f"{key}_p"] = stat["p_value"]
    return out
