"""The child runs of classify: one per variant and seed, each with a model that serves batches.

Each seed run logs its curves, files and the rows it used (as MLflow datasets); a run the
guard failed (:mod:`benchmark.classification.guard`) ends with status FAILED and its reason
in the tag ``run.failed``. Each variant's best passing seed by validation AUC (never test)
logs a model that scores raw uint8 images in batches, and it is registered
(:func:`stages.support.models.register_best`); the other seeds' weights are in their
files (logging a model per seed cost more than training one in the embedded profile).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from benchmark.classification.model import architecture_of
from benchmark.classification.run import RunResult
from benchmark.classification.serving import CLASSES, ImageScorer
from benchmark.core.imaging import example_batch
from stages.support.models import (
    log_image_model,
    log_split_inputs,
    register_best,
    registered_name,
)
from stages.support.nested import child_run, log_history, mark_failed
from stages.support.tracking import log_outputs


def kept_val_auc(result: RunResult) -> float:
    """Validation AUC of the epoch whose weights were kept (what selects the best seed)."""
    rows = [r for r in result.fit.history if int(r["epoch"]) == result.fit.best_epoch]
    return float(rows[0]["val_auc"]) if rows else float("nan")


def log_classifiers(
    results: Sequence[RunResult],
    files: Sequence[Path],
    size: int,
    profile: str,
    source: str,
) -> dict[str, int | None]:
    """A child run per variant and per seed; registers each variant's best seed.

    Args:
        results: The trained runs.
        files: Prediction files (``<variant>_seed<k>_<split>.csv``) to attach to their run.
        size: Evaluation image side in pixels (the models' input is (B, size, size, 3)).
        profile: Params profile, part of the registered names.
        source: Where the rows came from (the cache folder), for the datasets.

    Returns:
        Variant -> registered version number.
    """
    versions: dict[str, int | None] = {}
    for variant in dict.fromkeys(r.variant for r in results):
        runs = [r for r in results if r.variant == variant]
        passed = [r for r in runs if r.check is None or not r.check.failed]
        best = max(passed, key=kept_val_auc, default=None)
        candidates: list[tuple[float, str, str]] = []
        tags = {"model": architecture_of(runs[0].fit.model), "variant": variant}
        with child_run("classify", variant, tags):
            for r in runs:
                with child_run("classify", r.name, {"seed": str(r.seed)}) as run:
                    _log_seed(r, files, profile, source)
                    uri = None
                    if r is best:
                        scorer = ImageScorer(r.fit.model)
                        uri = log_image_model(scorer, example_batch(size), (len(CLASSES),))
                    if uri is not None:
                        candidates.append((kept_val_auc(r), uri, run.info.run_id))
                if r.check is not None and r.check.failed:
                    mark_failed(run, r.check.reason)
        name = registered_name(profile, "classifier", variant)
        versions[variant] = register_best(name, candidates, {"classes": ",".join(CLASSES)})
    return versions


def _log_seed(r: RunResult, files: Sequence[Path], profile: str, source: str) -> None:
    """One seed's curves, numbers, weights, prediction files and datasets."""
    log_history(r.fit.history)
    own = [f for f in files if f.name.startswith(f"{r.name}_")]
    metrics = {"best_epoch": r.fit.best_epoch, "ms_per_image": r.ms_per_image}
    if r.check is not None:
        metrics |= {"kept_val_auc": r.check.val_auc, "failed": int(r.check.failed)}
    log_outputs(metrics, r.model_file, *own)
    log_split_inputs(r.predictions, f"{profile}-{r.variant}", source)
