"""Classification data from the preprocessing cache: labels, rows per variant, train batches.

Train augmentations (``ClassifyConfig.augmentation``) are the paper's (RandomResizedCrop,
horizontal and vertical flips, ColorJitter(0.2, 0.2, 0.2, 0.1)) or the geometric set (both
flips and a rotation by a multiple of 90 degrees, exact on the pixel grid), the same
transforms whichever way they are seeded (``ClassifyConfig.augment_rng``):

* ``stream``: in the training process, one image after another from torch's generator,
  which the loop seeds once with :func:`benchmark.core.seeding.seed_everything` (the
  embedded profile; bit-identical to earlier releases).
* ``per_image``: :class:`SeededAugment`, inside the DataLoader workers, each image from its
  own generator keyed on (seed, epoch, cache row). The draws of an image do not depend on
  the number of workers or processes, so ``accelerate launch`` repeats a one-process run,
  and the CPU work spreads over the workers while the GPU trains.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray
from torchvision.transforms import v2

from benchmark.core.seeding import torch_seeded
from benchmark.core.training import imagenet_normalise
from benchmark.preprocess.cache import CachedSplit

POSITIVE = "melanocytic"
AUGMENT_RNGS = ("stream", "per_image")


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


class RandomRot90(torch.nn.Module):
    """Rotate a (..., S, S) tensor by 0, 90, 180 or 270 degrees, drawn from torch's stream."""

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """The rotated image (a lossless permutation of its pixels)."""
        return torch.rot90(image, int(torch.randint(4, (1,))), (-2, -1))


def train_transform(size: int, augment: bool, augmentation: str = "paper") -> v2.Compose:
    """Train augmentations for (3, S, S) uint8 tensors (identity if not ``augment``).

    Args:
        size: Image side (RandomResizedCrop's output).
        augment: Whether to augment at all.
        augmentation: ``paper`` or ``geometric`` (see the module docstring).
    """
    if not augment:
        return v2.Compose([v2.Identity()])
    if augmentation == "geometric":
        return v2.Compose([v2.RandomHorizontalFlip(), v2.RandomVerticalFlip(), RandomRot90()])
    if augmentation != "paper":
        raise ValueError(f"augmentation {augmentation!r} is not 'paper' or 'geometric'")
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


class SeededAugment:
    """The train transform for one epoch, each image seeded by (seed, epoch, cache row).

    Called by :func:`benchmark.core.batches.batch_loader` in its workers with the batch's
    tensors (images (B, S, S, 3) uint8 first) and their cache rows; returns the augmented
    images as (B, 3, S, S) uint8 (normalised on the device) and the other tensors as they are.
    """

    def __init__(self, size: int, seed: int, epoch: int, augmentation: str = "paper") -> None:
        """The ``augmentation`` set at side ``size`` for epoch ``epoch`` of the run ``seed``."""
        self.transform = train_transform(size, True, augmentation)
        self.seed, self.epoch = seed, epoch

    def __call__(
        self, tensors: tuple[torch.Tensor, ...], rows: NDArray[np.int64]
    ) -> tuple[torch.Tensor, ...]:
        """Augment ``tensors[0]`` image by image; ``rows`` are their cache rows."""
        out = []
        for image, row in zip(tensors[0].permute(0, 3, 1, 2), rows, strict=True):
            with torch_seeded(self.seed, self.epoch, int(row)):
                out.append(self.transform(image))
        return (torch.stack(out), *tensors[1:])
