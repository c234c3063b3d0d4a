"""The segmentation comparison of paper Table 3: baseline FCN, augmented FCN, Max-Flow.

Baseline trains on real images with ground-truth masks; augmented adds the validated
synthetic training images with their Max-Flow pseudo-masks; both use the same seed and
protocol. All three are evaluated on the real test images only, overall and per FST.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from tqdm import tqdm

from benchmark.core.batches import CacheRows
from benchmark.core.config.downstream import SegmentConfig
from benchmark.core.devices import Runner, choose_device
from benchmark.core.groupings import CARRIED, carried
from benchmark.core.imaging import open_image, to_rgb8
from benchmark.core.maxflow import MaxflowParams, segment
from benchmark.core.status import NotRun
from benchmark.metrics.segmentation import by_group, score_pair, summarise
from benchmark.preprocess.cache import CachedSplit, load_split
from benchmark.preprocess.steps import resize
from benchmark.segmentation.fcn import PaperFCN, predict, save_fcn
from benchmark.segmentation.train import FitResult, train_fcn

U8 = NDArray[np.uint8]
MODELS = ("maxflow", "baseline", "augmented")
# Which training rows each learned variant sees, by (source, mask_source).
_TRAIN_ROWS = {
    "baseline": {("real", "ground_truth")},
    "augmented": {("real", "ground_truth"), ("synthetic", "maxflow")},
}


@dataclass(frozen=True)
class Outcome:
    """One model's result on the real test split.

    Attributes:
        name: ``maxflow``, ``baseline`` or ``augmented``.
        predictions: (N, S, S) uint8 {0, 255} test masks, in test-index order.
        per_image: Metric dicts with ``image_id``, one per test image.
        summary: :func:`~benchmark.metrics.segmentation.summarise` of ``per_image`` plus
            ``by_group`` (per FST) and ``ms_per_image``.
        history: Per-epoch losses (empty for Max-Flow).
        train_images: Training images used (synthetic ones counted in ``train_synthetic``).
        train_synthetic: Synthetic training images used.
        model_file: The saved weights (safetensors), None for Max-Flow.
    """

    name: str
    predictions: NDArray[np.uint8]
    per_image: list[dict[str, Any]]
    summary: dict[str, Any]
    history: list[dict[str, float]]
    train_images: int
    train_synthetic: int
    model_file: Path | None


def _rows(split: CachedSplit, allowed: set[tuple[str, str]]) -> NDArray[np.int64]:
    pairs = zip(split.index["source"], split.index["mask_source"], strict=True)
    keep = np.array([pair in allowed for pair in pairs], dtype=bool)
    return np.asarray(split.index["cache_row"].to_numpy()[keep], dtype=np.int64)


def _evaluate(
    name: str, test: CachedSplit, rows: NDArray[np.int64], pred: NDArray[np.uint8], ms: float
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    ids = test.index["image_id"].to_numpy()[rows]
    per_image = [
        {"image_id": str(i), **score_pair(np.asarray(test.masks[r]), p)}
        for i, r, p in tqdm(
            zip(ids, rows, pred, strict=True), desc=f"score {name}", total=len(rows)
        )
    ]
    fst = test.index["fst"] if "fst" in test.index else pd.Series(None, index=test.index.index)
    groups = fst.astype(object).to_numpy()[rows]
    summary = summarise(per_image)
    summary["by_group"] = by_group(per_image, list(groups))
    summary["ms_per_image"] = ms
    return per_image, summary


def raw_images(test: CachedSplit, rows: NDArray[np.int64], data_root: Path) -> U8:
    """The original test images of ``rows``, only resized to the cache size."""
    size = test.images.shape[1]
    paths = test.index["image_path"].to_numpy()[rows]
    return np.stack([resize(to_rgb8(open_image(data_root / str(p)))[0], size) for p in paths])


def _maxflow(images: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], float]:
    params = MaxflowParams()
    start = time.perf_counter()
    pred = np.stack([segment(np.asarray(im), params) for im in tqdm(images, desc="maxflow")])
    return pred, 1000 * (time.perf_counter() - start) / max(len(images), 1)


def _arrays(split: CachedSplit, rows: NDArray[np.int64]) -> tuple[CacheRows, CacheRows]:
    """Images and masks of ``rows``, read from the memory maps batch by batch."""
    return CacheRows(split.images, rows), CacheRows(split.masks, rows)


def _fcn(
    name: str,
    train: CachedSplit,
    val: tuple[CacheRows, CacheRows],
    cfg: SegmentConfig,
    runner: Runner,
) -> tuple[FitResult, int, int]:
    """Train one variant; returns the fit, its training-image count and synthetic count."""
    rows = _rows(train, _TRAIN_ROWS[name])
    synthetic = int((train.index["source"].to_numpy()[rows] == "synthetic").sum())
    fit = train_fcn(_arrays(train, rows), val, cfg, desc=name, runner=runner)
    return fit, len(rows), synthetic


def unavailable(cache_dir: Path) -> dict[str, str]:
    """Models that cannot run on this cache, with the reason (empty when all can).

    Scoring needs real test images with ground-truth masks; the FCNs need real training
    images with them; the augmented FCN needs synthetic training images with pseudo-masks.
    """
    train, test = load_split(cache_dir, "train"), load_split(cache_dir, "test")
    real = _TRAIN_ROWS["baseline"]
    if not len(_rows(test, real)):
        why = (
            f"no real test image with a ground-truth lesion mask ({len(test.index)} test "
            "images; the data have no masks)"
        )
        return dict.fromkeys(MODELS, why)
    out: dict[str, str] = {}
    if not len(_rows(train, real)):
        out |= dict.fromkeys(MODELS[1:], "no real training image with a ground-truth lesion mask")
    elif not len(_rows(train, _TRAIN_ROWS["augmented"] - real)):
        out["augmented"] = (
            "no synthetic training image with a Max-Flow pseudo-mask: the generative branch "
            "added none (see finetune_lora, generate and validate_synthetic)"
        )
    return out


def run_segmentation(
    cache_dir: Path,
    cfg: SegmentConfig,
    models_dir: Path,
    data_root: Path,
    skip: Mapping[str, str] | None = None,
) -> list[Outcome]:
    """Train the FCN variants, run Max-Flow, and evaluate them on real test images.

    Args:
        cache_dir: The ``preprocess`` stage's cache folder.
        cfg: Training protocol and the fixed probability threshold.
        models_dir: Where ``baseline.safetensors`` and ``augmented.safetensors`` go
            (written atomically as one folder; ``not_run.json`` when no FCN trains).
        data_root: Root of the index's image paths (for ``maxflow_input: raw``).
        skip: Models not to run, with the reason (see :func:`unavailable`).

    Returns:
        One :class:`Outcome` per model that ran, in :data:`MODELS` order, on the main
        process; under ``accelerate launch`` the other processes help train and return [].
    """
    skip = dict(skip or {})
    train, val, test = (load_split(cache_dir, s) for s in ("train", "val", "test"))
    real = _TRAIN_ROWS["baseline"]
    val_data, test_rows = _arrays(val, _rows(val, real)), _rows(test, real)
    if len(test_rows) == 0:
        raise ValueError(f"{cache_dir}: no real test image with a ground-truth mask")
    runner = Runner(choose_device(cfg.device, cfg.mixed_precision, param="segment"))
    outcomes = [_maxflow_outcome(test, test_rows, data_root, cfg)] if runner.is_main else []
    learned = [name for name in MODELS[1:] if name not in skip]
    with runner.output_folder(models_dir) as tmp:
        if tmp is not None and not learned:
            NotRun("; ".join(f"{m}: {skip[m]}" for m in MODELS[1:])).write(tmp)
        for name in learned:
            fit, n_train, n_synthetic = _fcn(name, train, val_data, cfg, runner)
            if tmp is None:  # other processes only help train
                continue
            save_fcn(fit.model, tmp / f"{name}.safetensors")
            pred, ms = _fcn_test(fit.model, np.asarray(test.images[test_rows]), cfg, runner)
            scored = _evaluate(name, test, test_rows, pred, ms)
            model_file = models_dir / f"{name}.safetensors"
            outcomes.append(
                Outcome(name, pred, *scored, fit.history, n_train, n_synthetic, model_file)
            )
    return outcomes


def _maxflow_outcome(
    test: CachedSplit, rows: NDArray[np.int64], data_root: Path, cfg: SegmentConfig
) -> Outcome:
    raw = cfg.maxflow_input == "raw"
    images = raw_images(test, rows, data_root) if raw else np.asarray(test.images[rows])
    pred, ms = _maxflow(images)
    return Outcome("maxflow", pred, *_evaluate("maxflow", test, rows, pred, ms), [], 0, 0, None)


def _fcn_test(
    model: PaperFCN, images: U8, cfg: SegmentConfig, runner: Runner
) -> tuple[NDArray[np.uint8], float]:
    """Test masks and ms/image, predicted on this process's device."""
    start = time.perf_counter()
    pred = predict(model, images, cfg.threshold, cfg.batch_size, runner.device)
    return pred, 1000 * (time.perf_counter() - start) / len(images)


def per_image_table(outcomes: list[Outcome], test_index: pd.DataFrame) -> pd.DataFrame:
    """Long table: one row per (model, test image) with the image's skin-type groupings."""
    frames = []
    by_id = test_index.set_index("image_id", drop=False)
    groups = pd.DataFrame(carried(by_id), index=by_id.index)
    for outcome in outcomes:
        frame = pd.DataFrame(outcome.per_image)
        frame.insert(0, "model", outcome.name)
        for column in CARRIED:
            frame[column] = frame["image_id"].map(groups[column])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
