"""Audit every classifier run (variant, seed) on its test predictions.

The threshold of each run is chosen on that run's validation predictions and then applied
to its test predictions; test never chooses anything.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark.config.downstream import FairnessConfig
from benchmark.fairness.audit import audit_file, write_audit
from benchmark.io import atomic_path

KEY_METRICS = ("sensitivity", "specificity", "auc")


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
                threshold_from=predictions_dir / f"{run}_val.csv",
                n_bootstrap=cfg.bootstrap,
                seed=cfg.seed,
            )
            title = f"Fairness audit: {run}, real test images, by {cfg.group_col}"
            write_audit(
                result, tmp / f"{run}.json", tmp / f"{run}.md", tmp / f"{run}.png", title=title
            )
            results[run] = result
        summary = pd.DataFrame([_summary_row(run, r) for run, r in results.items()])
        summary.to_csv(tmp / "summary.csv", index=False)
        (tmp / "summary.md").write_text(
            "# Fairness audit summary (real test split; thresholds from validation)\n\n"
            + summary.to_markdown(index=False, floatfmt=".3f")
            + "\n"
        )
    return {
        row["run"]: {k: v for k, v in row.items() if k != "run"}
        for row in summary.to_dict("records")
    }
