"""What each classifier variant trains on: rows, per-image loss weights, and when it cannot run.

The four variants answer "does generation beat simply oversampling or reweighting the
dark-skin images?" under one protocol (same seeds, validation, threshold rule and test):

* ``baseline``: the real labelled training images.
* ``reweight``: the same images, each image's loss weighted inversely to its tone group's
  frequency in train (:func:`tone_weights`), so every tone group carries the same total weight.
* ``resample``: the real images plus extra draws of real training images from the tone groups
  and classes the generator adds to, as many per (class, tone group) as it added validated
  synthetic images (:func:`resample_rows`): oversampling at generation's own dose.
* ``augmented``: the real images plus the validated synthetic ones.

Validation is real for every variant but ``augmented`` under ``split.paper_mode``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from benchmark.classification.data import labelled_rows, labels
from benchmark.core.seeding import derive_rng
from benchmark.core.splits import tone_group
from benchmark.preprocess.cache import CachedSplit

RESAMPLE_STREAM = 7  # derive_rng(seed, RESAMPLE_STREAM): the oversampling draw of a run


@dataclass(frozen=True)
class VariantData:
    """A variant's training and validation rows.

    Attributes:
        train_rows: (N,) cache rows of the train split; a row may repeat (``resample``).
        val_rows: (M,) cache rows of the validation split.
        sample_weights: (N,) loss weight per training row (mean 1), or None for equal weights.
    """

    train_rows: NDArray[np.int64]
    val_rows: NDArray[np.int64]
    sample_weights: NDArray[np.float64] | None = None


def _tone_groups(index: pd.DataFrame, rows: NDArray[np.int64]) -> NDArray[np.str_]:
    """Tone group (I-II, III-IV, V-VI, uncertain, unknown) of each row.

    Synthetic rows count in the tone they were asked for (``fst_label``), real rows in
    their estimated one (``fst``), as the generator's training subset is chosen.
    """
    part = index.iloc[rows]
    fst = part["fst"].astype(object)
    if "fst_label" in part:
        fst = fst.where(part["source"] == "real", part["fst_label"].astype(object))
    return np.asarray(tone_group(fst).to_numpy(), dtype=np.str_)


def tone_weights(groups: NDArray[np.str_]) -> NDArray[np.float64]:
    """Per-image weights inverse to group frequency, scaled to mean 1.

    With G groups and n_g images in group g, an image of g weighs N / (G * n_g): each group's
    weights sum to N / G.

    Args:
        groups: (N,) group label per training image.

    Returns:
        (N,) float64 weights.
    """
    if not len(groups):
        return np.zeros(0)
    names, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    return np.asarray(len(groups) / (len(names) * counts[inverse]), dtype=np.float64)


def resample_rows(train: CachedSplit, real_rows: NDArray[np.int64], seed: int) -> NDArray[np.int64]:
    """Extra real rows: per (class, tone group) as many as synthetic rows there, seeded.

    Each cell's pool of real rows is repeated whole as often as it fits and the remainder is
    a seeded draw without replacement, so the copies spread evenly over the pool.

    Args:
        train: The cached train split.
        real_rows: Its labelled real rows.
        seed: The run's seed.

    Returns:
        (K,) extra cache rows, K the number of synthetic labelled training rows.

    Raises:
        ValueError: A cell with synthetic rows has no real row to draw.
    """
    synthetic = np.setdiff1d(labelled_rows(train, synthetic=True), real_rows)
    index = train.index
    want = pd.Series(
        list(zip(labels(index, synthetic), _tone_groups(index, synthetic), strict=True))
    ).value_counts()
    have = pd.Series(
        list(zip(labels(index, real_rows), _tone_groups(index, real_rows), strict=True))
    )
    rng = derive_rng(seed, RESAMPLE_STREAM)
    extra = []
    for cell in sorted(want.index):
        pool = real_rows[(have == cell).to_numpy()]
        if not len(pool):
            what = "melanocytic" if cell[0] else "non-melanocytic"
            raise ValueError(f"no real {cell[1]} {what} training image to oversample")
        copies, rest = divmod(int(want[cell]), len(pool))
        extra += [*np.tile(pool, copies), *rng.choice(pool, size=rest, replace=False)]
    return np.asarray(sorted(extra), dtype=np.int64)


def variant_data(splits: dict[str, CachedSplit], variant: str, seed: int) -> VariantData:
    """The rows (and weights) ``variant`` trains and validates on for run ``seed``."""
    synthetic = variant == "augmented"
    train, val = splits["train"], splits["val"]
    rows = labelled_rows(train, synthetic=synthetic)
    val_rows = labelled_rows(val, synthetic=synthetic)
    if variant == "reweight":
        return VariantData(rows, val_rows, tone_weights(_tone_groups(train.index, rows)))
    if variant == "resample":
        rows = np.sort(np.concatenate([rows, resample_rows(train, rows, seed)]))
    return VariantData(rows, val_rows)


def _classes(split: CachedSplit, rows: NDArray[np.int64]) -> str:
    positive = int(labels(split.index, rows).sum())
    return f"melanocytic {positive}, non_melanocytic {len(rows) - positive}"


def _no_synthetic(train: CachedSplit) -> bool:
    rows = labelled_rows(train, synthetic=True)
    return bool((train.index["source"].to_numpy()[rows] == "real").all())


def why_not(splits: dict[str, CachedSplit], variant: str) -> str | None:
    """Why ``variant`` cannot be trained or evaluated on these splits, or None."""
    train, val = splits["train"], splits["val"]
    if variant in ("augmented", "resample") and _no_synthetic(train):
        dose = " (resample matches its count)" if variant == "resample" else ""
        return (
            f"no synthetic training image{dose}: the generative branch added none (see "
            "finetune_lora, generate and validate_synthetic)"
        )
    try:
        data = variant_data(splits, variant, seed=0)
    except ValueError as exc:
        return str(exc)
    if len(set(labels(train.index, data.train_rows))) < 2:
        return f"the training images hold one class only ({_classes(train, data.train_rows)})"
    if len(set(labels(val.index, data.val_rows))) < 2:
        return (
            f"validation holds one class only ({_classes(val, data.val_rows)}): its AUC, which "
            "chooses the checkpoint and the audit threshold, is undefined"
        )
    if not len(labelled_rows(splits["test"], synthetic=False)):
        return "no labelled real test image"
    return None
