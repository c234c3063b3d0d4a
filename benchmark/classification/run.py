"""Classifiers for every variant and seed, and their predictions per split.

The variants (baseline, reweight, resample, augmented; see
:mod:`benchmark.classification.variants`) run the same protocol with the same seeds.
Validation (which chooses the checkpoint and, later, the audit threshold) is real only, but
for the augmented variant under ``split.paper_mode``, as in the paper. Test is strictly
real: this is the column the paper lacked. A variant that cannot run on these data (no
synthetic image, one class) is skipped with its reason (:func:`unavailable`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from benchmark.classification.data import labelled_rows, labels
from benchmark.classification.guard import check_run
from benchmark.classification.model import save_checkpoint
from benchmark.classification.train import ClassifierFit, predict_sharded, train_classifier
from benchmark.classification.variants import variant_data, why_not
from benchmark.core.batches import CacheRows
from benchmark.core.config.downstream import ClassifyConfig
from benchmark.core.devices import Runner, choose_device
from benchmark.core.groupings import CARRIED, carried
from benchmark.core.io import atomic_path
from benchmark.core.naming import run_name
from benchmark.core.run_checks import RunCheck, RunChecks
from benchmark.preprocess.cache import CachedSplit, load_split

SPLIT_NAMES = ("train", "val", "test")
PREDICTION_COLUMNS = ("image_id", "patient_id", "y_true", "y_score", *CARRIED, "source", "dataset")


@dataclass(frozen=True)
class RunResult:
    """One trained classifier (variant, seed) and its predictions.

    Attributes:
        variant: One of :data:`benchmark.core.naming.CLASSIFIER_VARIANTS`.
        seed: The run's seed.
        fit: Training record; ``fit.model`` holds the best-validation-AUC weights.
        predictions: ``{split: frame}`` with :data:`PREDICTION_COLUMNS` (``y_score`` is the
            melanocytic probability).
        train_synthetic: Synthetic images in its training set.
        train_images: Training rows per epoch, repeats included (``resample``).
        model_file: The saved weights (safetensors).
        ms_per_image: Wall time of predicting the test split (transform included), ms.
        check: The degenerate-run guard's verdict (:mod:`benchmark.classification.guard`).
    """

    variant: str
    seed: int
    fit: ClassifierFit
    predictions: dict[str, pd.DataFrame]
    train_synthetic: int
    model_file: Path
    ms_per_image: float
    train_images: int = 0
    check: RunCheck | None = None

    @property
    def name(self) -> str:
        """``<variant>_seed<seed>``, the stem of its files."""
        return run_name(self.variant, self.seed)


def _data(split: CachedSplit, rows: NDArray[np.int64]) -> tuple[CacheRows, NDArray[np.int64]]:
    """Rows of the memory map (read batch by batch, never copied whole) and their labels."""
    return CacheRows(split.images, rows), labels(split.index, rows)


def _predictions(
    model: object,
    split: CachedSplit,
    rows: NDArray[np.int64],
    cfg: ClassifyConfig,
    runner: Runner,
) -> pd.DataFrame:
    index = split.index.iloc[rows]
    images = CacheRows(split.images, rows)
    scores = predict_sharded(runner, model, images, cfg.batch_size)  # type: ignore[arg-type]
    absent = pd.Series(pd.NA, index=index.index, dtype=object)
    # The audit's bootstrap resamples patients; a row without one is its own cluster.
    patient = index.get("patient_id", absent)
    return pd.DataFrame(
        {
            "image_id": index["image_id"].to_numpy(),
            "patient_id": patient.astype(object).to_numpy(),
            "y_true": labels(split.index, rows),
            "y_score": scores.astype(np.float64),
            **{k: v.to_numpy() for k, v in carried(index).items()},
            "source": index["source"].to_numpy(),
            "dataset": index.get("dataset", absent).astype(object).to_numpy(),
        }
    )


def _check(
    name: str, fit: ClassifierFit, predictions: dict[str, pd.DataFrame], min_val_auc: float
) -> RunCheck:
    """The guard's verdict on a run from its kept epoch and its predictions."""
    val = predictions["val"]
    kept = fit.history[fit.best_epoch - 1]["val_auc"]
    return check_run(
        name, (val["y_true"], val["y_score"]), predictions["test"]["y_score"], min_val_auc, kept
    )


def unavailable(cache_dir: Path, variants: tuple[str, ...]) -> dict[str, str]:
    """Variants that cannot be trained or evaluated on this cache, with the reason."""
    splits = {name: load_split(cache_dir, name) for name in SPLIT_NAMES}
    found = {variant: why_not(splits, variant) for variant in variants}
    return {variant: why for variant, why in found.items() if why is not None}


def run_classification(
    cache_dir: Path,
    cfg: ClassifyConfig,
    models_dir: Path,
    skip: Mapping[str, str] | None = None,
) -> list[RunResult]:
    """Train every (variant, seed) not in ``skip`` and predict train, val and test.

    Under ``accelerate launch`` every process trains and predicts its share; only the
    main process writes the checkpoints, and every process returns the same results.

    Args:
        cache_dir: The ``preprocess`` stage's cache folder.
        cfg: The protocol, variants, seeds, device and precision.
        models_dir: Where ``<variant>_seed<k>.safetensors`` go (one folder, atomically).
        skip: Variants not to run, with the reason (see :func:`unavailable`).

    Returns:
        One :class:`RunResult` per variant and seed, variants outermost.
    """
    splits = {name: load_split(cache_dir, name) for name in SPLIT_NAMES}
    test_rows = labelled_rows(splits["test"], synthetic=False)
    runner = Runner(choose_device(cfg.device, cfg.mixed_precision, param="classify"))
    results = []
    with runner.output_folder(models_dir) as tmp:
        for variant in (v for v in cfg.variants if v not in (skip or {})):
            for seed in cfg.seeds:
                data = variant_data(splits, variant, seed)
                rows, val_rows = data.train_rows, data.val_rows
                source = splits["train"].index["source"].to_numpy()[rows]
                synthetic = int((source != "real").sum())
                name = run_name(variant, seed)
                fit = train_classifier(
                    _data(splits["train"], rows),
                    _data(splits["val"], val_rows),
                    cfg,
                    seed,
                    f"{variant} seed {seed}",
                    runner,
                    sample_weights=data.sample_weights,
                )
                if tmp is not None:
                    save_checkpoint(fit.model, tmp / f"{name}.safetensors")
                # Train predictions once per image, whatever a variant repeats.
                predictions = {
                    split: _predictions(fit.model, splits[split], r, cfg, runner)
                    for split, r in (("train", np.unique(rows)), ("val", val_rows))
                }
                start = time.perf_counter()
                predictions["test"] = _predictions(
                    fit.model, splits["test"], test_rows, cfg, runner
                )
                ms = 1000 * (time.perf_counter() - start) / max(len(test_rows), 1)
                file = models_dir / f"{name}.safetensors"
                check = _check(name, fit, predictions, cfg.min_val_auc)
                results.append(
                    RunResult(
                        variant, seed, fit, predictions, synthetic, file, ms, len(rows), check
                    )
                )
    return results


def write_predictions(results: list[RunResult], out_dir: Path) -> list[Path]:
    """``<variant>_seed<k>_<split>.csv`` per run and split, in one atomically written folder.

    Beside them ``runs.json``, the guard's verdicts (:class:`RunChecks`), which tell the
    fairness stage which runs to leave out.
    """
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        for result in results:
            for split, frame in result.predictions.items():
                frame.to_csv(tmp / f"{result.name}_{split}.csv", index=False, float_format="%.8f")
        RunChecks(tuple(r.check for r in results if r.check is not None)).write(tmp)
    return sorted(p for p in out_dir.iterdir() if p.suffix == ".csv")
