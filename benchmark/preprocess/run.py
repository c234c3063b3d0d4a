"""Build the preprocessing cache from a split manifest, in parallel, with a progress bar."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.format import open_memmap
from numpy.typing import NDArray
from tqdm import tqdm

from benchmark.core.config.downstream import MaxflowInput, PreprocessConfig
from benchmark.core.imaging import MASK_THRESHOLD, ImageProblemError, open_image, to_mask, to_rgb8
from benchmark.core.io import atomic_path, write_json_atomic
from benchmark.core.manifest import SPLITS, is_missing, write_manifest
from benchmark.core.maxflow import MaxflowParams, segment
from benchmark.core.splits import check_splits
from benchmark.preprocess.cache import array_paths
from benchmark.preprocess.steps import preprocess, resize, resize_mask

_IN_PROCESS_BELOW = 16  # a pool costs more than it saves on a handful of images

PSEUDO_MASK_INPUT: MaxflowInput = "raw"
"""What Max-Flow segments for a synthetic image's pseudo-mask (``preprocess.synthetic_masks:
maxflow``): ``raw``, the image resized to the cache size, or ``preprocessed``, the cached image.

Fixed here, not read from ``segment.maxflow_input``, which chooses Max-Flow's input on the
test images only: Max-Flow does its own hair and shading handling, and CLAHE's local contrast
changes hurt it (docs/explanation/study-design.md), so the pseudo-masks the FCNs train
on come from the raw image whichever input the test-time comparison uses.
"""


@dataclass(frozen=True)
class _Job:
    image: Path
    mask: Path | None
    pseudo_mask: bool
    cfg: PreprocessConfig


@dataclass(frozen=True)
class _Done:
    image: NDArray[np.uint8]
    mask: NDArray[np.uint8]
    mask_source: str
    artefact_fraction: float
    residual_fraction: float


def _work(job: _Job) -> _Done | tuple[str, str]:
    """Preprocess one image (and its mask); an exclusion is ``(reason, detail)``."""
    try:
        rgb, _ = to_rgb8(open_image(job.image))
        done = preprocess(rgb, job.cfg)
        if done.residual_fraction > job.cfg.max_artefact_fraction:
            return "persistent_artefact", (
                f"{done.residual_fraction:.1%} of pixels still hair/ruler-like after removal "
                f"(limit {job.cfg.max_artefact_fraction:.0%})"
            )
        size = job.cfg.size
        if job.mask is not None:
            truth, _ = to_mask(open_image(job.mask, "mask"), MASK_THRESHOLD)
            mask, source = resize_mask(truth, size), "ground_truth"
        elif job.pseudo_mask:
            seen = resize(rgb, size) if PSEUDO_MASK_INPUT == "raw" else done.image
            mask, source = segment(seen, MaxflowParams()), "maxflow"
        else:
            mask, source = np.zeros((size, size), np.uint8), "none"
    except ImageProblemError as exc:
        return exc.reason, str(exc)
    return _Done(done.image, mask, source, done.artefact_fraction, done.residual_fraction)


def _run_all(jobs: list[_Job], workers: int) -> Iterator[_Done | tuple[str, str]]:
    bar = {"total": len(jobs), "desc": "preprocess", "unit": "img", "mininterval": 1.0}
    if workers == 1 or len(jobs) < _IN_PROCESS_BELOW:
        yield from tqdm((_work(j) for j in jobs), **bar)  # type: ignore[call-overload]
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from tqdm(pool.map(_work, jobs, chunksize=8), **bar)  # type: ignore[call-overload]


def _jobs(frame: pd.DataFrame, data_root: Path, cfg: PreprocessConfig) -> list[_Job]:
    jobs = []
    for row in frame.itertuples(index=False):
        mask = None if is_missing(row.mask_path) else data_root / str(row.mask_path)
        pseudo = row.source == "synthetic" and cfg.synthetic_masks == "maxflow"
        jobs.append(_Job(data_root / str(row.image_path), mask, pseudo, cfg))
    return jobs


_ADDED = ("cache_row", "mask_source", "artefact_fraction", "residual_fraction")


def _write_split(
    part: pd.DataFrame, data_root: Path, cfg: PreprocessConfig, tmp: Path, split: str
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """Fill one split's arrays in manifest order; excluded images leave no row."""
    workers = cfg.workers or os.cpu_count() or 1
    image_file, mask_file = array_paths(tmp, split)
    shape = (len(part), cfg.size, cfg.size)
    images = open_memmap(image_file, "w+", np.uint8, (*shape, 3))
    masks = open_memmap(mask_file, "w+", np.uint8, shape)
    rows: list[dict[str, Any]] = []
    excluded: list[dict[str, str]] = []
    for i, result in enumerate(_run_all(_jobs(part, data_root, cfg), workers)):
        row = {str(k): v for k, v in part.iloc[i].to_dict().items()}
        if isinstance(result, tuple):
            reason, detail = result
            excluded.append({"image_id": row["image_id"], "split": split, "reason": reason,
                             "detail": detail, "fst": str(row.get("fst"))})  # fmt: skip
            continue
        images[len(rows)], masks[len(rows)] = result.image, result.mask
        row.update(cache_row=len(rows), mask_source=result.mask_source,
                   artefact_fraction=result.artefact_fraction,
                   residual_fraction=result.residual_fraction)  # fmt: skip
        rows.append(row)
    images.flush()
    masks.flush()
    del images, masks
    if len(rows) < len(part):
        for path in (image_file, mask_file):
            _truncate(path, len(rows))
    columns = [*part.columns, *(c for c in _ADDED if c not in part.columns)]
    return pd.DataFrame(rows, columns=columns), excluded


def _fill(
    frame: pd.DataFrame, data_root: Path, cfg: PreprocessConfig, tmp: Path
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """Write every split's arrays into ``tmp``; returns the kept rows and the exclusions."""
    kept, excluded = [], []
    for split in SPLITS:
        part = frame[frame["split"] == split].reset_index(drop=True)
        rows, gone = _write_split(part, data_root, cfg, tmp, split)
        kept.append(rows)
        excluded += gone
    return pd.concat(kept, ignore_index=True), excluded


def _truncate(path: Path, n: int) -> None:
    """Rewrite an .npy file keeping its first ``n`` rows (after exclusions)."""
    full = np.load(path, mmap_mode="r")
    short = path.with_suffix(".short.npy")
    out = open_memmap(short, "w+", full.dtype, (n, *full.shape[1:]))
    out[:] = full[:n]
    out.flush()
    del full, out
    shutil.move(short, path)


def build_cache(
    manifest: pd.DataFrame, data_root: Path, out_dir: Path, cfg: PreprocessConfig
) -> dict[str, Any]:
    """Preprocess every row of a split manifest into a cache folder (written atomically).

    Args:
        manifest: Rows with ``split``, ``source``, ``image_path`` and ``mask_path`` relative
            to ``data_root``. Test rows must be real.
        data_root: Root of the manifest's paths.
        out_dir: The cache folder (see :mod:`benchmark.preprocess.cache`).
        cfg: Steps and their parameters.

    Returns:
        A summary: images and masks by split and mask source, exclusions by reason.
    """
    check_splits(manifest)
    frame = manifest.sort_values(["split", "image_id"]).reset_index(drop=True)
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        index, excluded = _fill(frame, data_root, cfg, tmp)
        write_manifest(index, tmp / "index.parquet", name=out_dir / "index.parquet")
        pd.DataFrame(excluded, columns=["image_id", "split", "reason", "detail", "fst"]).to_csv(
            tmp / "exclusions.csv", index=False
        )
        summary = _summary(index, excluded, len(frame))
        write_json_atomic(tmp / "cache.json", {"size": cfg.size, "config": asdict(cfg), **summary})
    return summary


def _summary(index: pd.DataFrame, excluded: list[dict[str, str]], total: int) -> dict[str, Any]:
    by_split = {
        split: {
            "images": int((index["split"] == split).sum()),
            **{
                f"masks_{src}": int(
                    ((index["split"] == split) & (index["mask_source"] == src)).sum()
                )
                for src in ("ground_truth", "maxflow")
            },
        }
        for split in SPLITS
    }
    reasons = pd.Series([e["reason"] for e in excluded], dtype=object).value_counts()
    # By FST too: an artefact rule that drops more dark-skin images biases the audit itself.
    by_fst = pd.Series([e["fst"] for e in excluded], dtype=object).value_counts()
    return {
        "images_in": total,
        "images_cached": len(index),
        "excluded": {str(k): int(v) for k, v in reasons.items()},
        "excluded_by_fst": {str(k): int(v) for k, v in sorted(by_fst.items())},
        "splits": by_split,
    }
