"""Validation of synthetic images against the real dark-skin images (paper 3.2 and beyond).

Outlier rule (documented, as the paper gives none): a synthetic image is rejected when its
RGB-histogram distance to the mean real histogram, or any of its GLCM texture features, lies
outside the Tukey fences (``iqr_factor`` x IQR beyond the quartiles) of the same quantity over
the real dark-skin images (for the histogram distance only the upper fence: being closer to
the real colours than usual is no fault); when its SSIM to the nearest LoRA training image reaches
``memorisation_ssim`` (a near-copy); and, with ``reject_off_tone``, when its estimated skin type is
more than one type from the requested one (images smaller than photographs need a tenth
of their pixels as skin, not ``skintone.min_skin_pixels``). Every rejection lists all its
reasons.

Two rates describe what was kept without rejecting anything: the share that contains a
lesion by the objective check of :mod:`benchmark.generative.lesions`, and the share whose
estimated tone group (I-II, III-IV, V-VI) is the requested one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from PIL import Image

from benchmark.core.config.data import SkintoneConfig
from benchmark.core.config.generative import ValidateSyntheticConfig
from benchmark.core.fitzpatrick import FST_LABELS
from benchmark.core.groupings import SKIN_TYPE
from benchmark.core.imaging import open_image, to_rgb8
from benchmark.core.splits import tone_group
from benchmark.generative.lesions import check_lesions, reference_contrast
from benchmark.metrics import image_similarity as sim
from benchmark.skintone.run import estimate_path

PAPER_TABLE2 = {"melanocytic": (3165, 144, 3309), "non_melanocytic": (14563, 664, 15227)}


@dataclass(frozen=True)
class ValidationResult:
    """Per-image metrics (every synthetic image), kept and rejected rows, FID/KID."""

    metrics: pd.DataFrame
    validated: pd.DataFrame
    rejected: pd.DataFrame
    distribution: dict[str, Any]


def load_resized(paths: list[Path], size: int) -> list[NDArray[np.uint8]]:
    """Images (any mode) as uint8 RGB arrays of shape (size, size, 3), bilinear resize."""
    return [
        np.asarray(
            Image.fromarray(to_rgb8(open_image(p))[0]).resize(
                (size, size), Image.Resampling.BILINEAR
            )
        )
        for p in paths
    ]


def _features(
    images: list[NDArray[np.uint8]], mean_hist: NDArray[np.float64], bins: int
) -> pd.DataFrame:
    rows = []
    for image in images:
        row: dict[str, float] = {
            "histogram_distance": sim.histogram_distance(sim.rgb_histogram(image, bins), mean_hist)
        }
        row.update({f"glcm_{k}": v for k, v in sim.glcm_features(image).items()})
        rows.append(row)
    return pd.DataFrame(rows)


def _same(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    return image


def _rot180(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    return np.ascontiguousarray(image[::-1, ::-1])


SMALL_IMAGE_SKIN_SHARE = 0.1  # of a small image's pixels: its minimum skin-pixel count


def _tone(paths: list[Path], requested: pd.Series, tone: SkintoneConfig) -> pd.DataFrame:
    # The primary estimate of the skintone stage: one FST definition for real and synthetic.
    # A 32-px tiny-base image has 1,024 pixels; the 500-pixel minimum, meant for photographs,
    # would leave nearly every one uncertain, so small images need a tenth of theirs.
    fst = []
    for path in paths:
        with Image.open(path) as image:
            area = image.width * image.height
        floor = max(1, min(tone.min_skin_pixels, int(SMALL_IMAGE_SKIN_SHARE * area)))
        cfg = replace(tone, workers=1, min_skin_pixels=floor)
        fst.append(estimate_path(path, None, cfg)[cfg.primary].fst)
    order = {label: i for i, label in enumerate(FST_LABELS)}
    off = [
        abs(order[f] - order[r]) if f in order and r in order else np.nan
        for f, r in zip(fst, requested, strict=True)
    ]
    return pd.DataFrame(
        {
            "fst_estimated": fst,
            "tone_distance": off,
            "tone_group_hit": tone_group(pd.Series(fst, dtype=object)).to_numpy()
            == tone_group(requested.astype(object)).to_numpy(),
        }
    )


def _lesions(synth_paths: list[Path], real: pd.DataFrame, real_root: Path) -> pd.DataFrame:
    """The lesion check of every synthetic image against the references' median contrast."""
    masks = [
        real_root / str(m) if isinstance(m, str) and m else None
        for m in real.get("mask_path", pd.Series([None] * len(real)))
    ]
    reference = reference_contrast([real_root / str(p) for p in real["image_path"]], masks)
    return check_lesions(synth_paths, reference).assign(reference_delta_e=reference)


def _reasons(
    metrics: pd.DataFrame,
    reference: pd.DataFrame,
    train_ids: list[str],
    cfg: ValidateSyntheticConfig,
) -> list[list[str]]:
    reasons: list[list[str]] = [[] for _ in range(len(metrics))]
    for column in reference.columns:
        low, high = sim.iqr_fences(reference[column].to_numpy(), cfg.iqr_factor)
        if column == "histogram_distance":
            low = -np.inf  # closer to the real colours than usual is no fault
        for i, value in enumerate(metrics[column]):
            if not low <= value <= high:
                reasons[i].append(f"{column} {value:.4g} outside [{low:.4g}, {high:.4g}]")
    for i, (score, nearest) in enumerate(
        zip(metrics["nearest_ssim"], metrics["nearest_index"], strict=True)
    ):
        if score >= cfg.memorisation_ssim:
            reasons[i].append(
                f"near-copy of training image {train_ids[int(nearest)]} (SSIM {score:.3f})"
            )
    if cfg.reject_off_tone:
        for i, distance in enumerate(metrics["tone_distance"]):
            if not distance <= 1:
                reasons[i].append(
                    f"{SKIN_TYPE} {metrics['fst_estimated'].iloc[i]} is more "
                    "than one type from the requested one, or undetermined"
                )
    return reasons


def reference_rows(split: pd.DataFrame, ids: Sequence[str]) -> pd.DataFrame:
    """The LoRA's training images, which are also the references: rows of ``split`` by id.

    Raises:
        ValueError: An id is not in ``split`` (check the record against the split first).
    """
    rows = split[split["image_id"].isin(list(ids))].sort_values("image_id")
    if len(rows) != len(set(ids)):
        missing = sorted(set(ids) - set(rows["image_id"]))
        raise ValueError(f"LoRA training image(s) {missing[:10]} not in the split manifest")
    return rows.reset_index(drop=True)


def validate(
    synthetic: pd.DataFrame,
    synthetic_root: Path,
    real: pd.DataFrame,
    real_root: Path,
    cfg: ValidateSyntheticConfig,
    tone: SkintoneConfig,
) -> ValidationResult:
    """Score every synthetic image against the real dark-skin (LoRA training) images.

    Args:
        synthetic: Synthetic manifest rows (``fst_label`` is the requested type).
        synthetic_root: Root of their paths.
        real: The real dark-skin rows the LoRA was trained on (train split only): the
            reference distribution and the memorisation check's training images.
        real_root: Root of their paths.
        cfg: Sizes, bins and the outlier rule.
        tone: The skintone stage's settings; its ``primary`` estimate types each synthetic
            image, as it typed the real ones.

    Returns:
        Metrics per synthetic image, the validated rows and the rejected rows with reasons.
    """
    if synthetic.empty:
        raise ValueError("no synthetic image to validate: the generate stage produced none")
    real_images = load_resized([real_root / str(p) for p in real["image_path"]], cfg.size)
    synth_paths = [synthetic_root / str(p) for p in synthetic["image_path"]]
    synth_images = load_resized(synth_paths, cfg.size)
    mean_hist = np.mean([sim.rgb_histogram(i, cfg.bins) for i in real_images], axis=0)
    reference = _features(real_images, mean_hist, cfg.bins)
    metrics = _features(synth_images, mean_hist, cfg.bins)
    # Flipped copies too: a mirrored training image is still a memorised one.
    flipped = [
        np.ascontiguousarray(f(i))
        for f in (_same, np.fliplr, np.flipud, _rot180)
        for i in real_images
    ]
    nearest = [sim.nearest_ssim(image, flipped) for image in synth_images]
    metrics["nearest_ssim"] = [n[0] for n in nearest]
    metrics["nearest_index"] = [n[1] % len(real_images) for n in nearest]
    metrics = pd.concat(
        [
            metrics,
            _tone(synth_paths, synthetic["fst_label"].reset_index(drop=True), tone),
            _lesions(synth_paths, real, real_root),
        ],
        axis=1,
    )
    reasons = _reasons(metrics, reference, list(real["image_id"]), cfg)
    metrics.insert(0, "image_id", list(synthetic["image_id"]))
    metrics["nearest_real"] = [str(real["image_id"].iloc[i]) for i in metrics["nearest_index"]]
    metrics["reasons"] = ["; ".join(r) for r in reasons]
    keep = np.array([not r for r in reasons])
    rejected = metrics.loc[~keep, ["image_id", "reasons"]].reset_index(drop=True)
    # The estimated type of a synthetic image is its ``fst`` (used by the split's strata).
    validated = synthetic.assign(fst=list(metrics["fst_estimated"]))[keep]
    real_paths = [real_root / str(p) for p in real["image_path"]]
    kept_paths = [p for p, k in zip(synth_paths, keep, strict=True) if k]
    return ValidationResult(
        metrics,
        validated.reset_index(drop=True),
        rejected,
        _distribution(real_paths, kept_paths, cfg.inception_weights),
    )


def _distribution(real: list[Path], synthetic: list[Path], weights: str) -> dict[str, Any]:
    """FID and KID of the kept synthetic against the train-split real (LoRA) images.

    Both sides are read from their files at Inception's 299 px, where weights are given.
    """
    if not weights:
        return {
            "fid": None,
            "kid": None,
            "reason": "no Inception-v3 weights file given (validate_synthetic.inception_weights)",
        }
    if len(real) < 2 or len(synthetic) < 2:
        return {"fid": None, "kid": None, "reason": "FID/KID need at least two images a side"}
    size = sim.INCEPTION_SIZE
    a = sim.inception_features(load_resized(real, size), weights)
    b = sim.inception_features(load_resized(synthetic, size), weights)
    return {
        "fid": sim.frechet_distance(a, b),
        "kid": sim.kernel_inception_distance(a, b),
        "reason": f"{len(real)} train-split real and {len(synthetic)} kept synthetic images "
        f"at {size} px: with fewer "
        "than a few thousand, FID is biased upwards; compare KID",
    }


def table2(
    real: pd.DataFrame, validated: pd.DataFrame, dark_types: tuple[str, ...]
) -> pd.DataFrame:
    """Paper Table 2: original (with dark), synthetic and augmented counts per class."""
    labelled = real[(real["source"] == "real") & real["superclass"].notna()]
    rows: dict[str, dict[str, Any]] = {}
    for superclass in ("melanocytic", "non_melanocytic"):
        part = labelled[labelled["superclass"] == superclass]
        synthetic = int((validated["superclass"] == superclass).sum())
        paper = PAPER_TABLE2[superclass]
        rows[superclass] = {
            "original": len(part),
            "original_dark": int(part["fst"].isin(dark_types).sum()),
            "synthetic": synthetic,
            "augmented": len(part) + synthetic,
            "paper_original": paper[0],
            "paper_synthetic": paper[1],
            "paper_augmented": paper[2],
        }
    table = pd.DataFrame(rows).T
    table.loc["Total"] = table.sum(axis=0)
    return table.astype(int)
