"""Classification data from the preprocessing cache: labels, rows per variant, train batches.

Train augmentations are the paper's: RandomResizedCrop, horizontal and vertical flips,
ColorJitter(0.2, 0.2, 0.2, 0.1). They draw from torch's generator, which the training loop
seeds once with :func:`benchmark.core.seeding.seed_everything`, so a run repeats exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray
from torchvision.transforms import v2

from benchmark.core.training import imagenet_normalise
from benchmark.preprocess.cache import CachedSplit

POSITIVE = "melanocytic"


def labelled_rows(split: CachedSplit, synthetic: bool) -> NDArray[np.int64]:
    """Cache rows with a superclass label; synthetic rows only when ``synthetic``."""
    index = split.index
    keep = index["superclass"].notna().to_numpy()
    if not synthetic:
        keep = keep & (index["source"] == "real").to_numpy()
    return np.asarray(index["cache_row"].to_numpy()[keep], dtype=np.int64)


def labels(index: pd.DataFrame, rows: NDArray[np.int64]) -> NDArray[np.int64]:
    """1 for melanocytic, 0 for non-melanocytic, for the given cache rows."""
    return np.asarray((index["superclass"].to_numpy()[rows] == POSITIVE).astype(np.int64))


def train_transform(size: int, augment: bool) -> v2.Compose:
    """The paper's train augmentations for (3, S, S) uint8 tensors (identity if not augment)."""
    if not augment:
        return v2.Compose([v2.Identity()])
    return v2.Compose(
        [
            v2.RandomResizedCrop(size, antialias=True),
            v2.RandomHorizontalFlip(),
            v2.RandomVerticalFlip(),
            v2.ColorJitter(0.2, 0.2, 0.2, 0.1),
        ]
    )


def normalise(batch: torch.Tensor) -> torch.Tensor:
    """(B, 3, S, S) uint8 -> float32 ImageNet-normalised."""
    return imagenet_normalise(batch.float().div(255.0))


def train_batch(images: NDArray[np.uint8], transform: v2.Compose) -> torch.Tensor:
    """Augment each (S, S, 3) uint8 image of a batch; returns (B, 3, S, S) normalised float."""
    tensors = torch.from_numpy(np.array(images)).permute(0, 3, 1, 2)
    return normalise(torch.stack([transform(t) for t in tensors]))
