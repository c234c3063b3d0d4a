"""The preprocessing cache: uint8 arrays per split, memory-mapped, plus an index table.

Layout of a cache folder::

    images_<split>.npy   (N, S, S, 3) uint8 RGB, after every preprocessing step
    masks_<split>.npy    (N, S, S) uint8 {0, 255}; all zero where ``mask_source`` is none
    index.parquet        the manifest rows kept, with ``cache_row`` (row in the split's
                         arrays), ``mask_source`` (ground_truth | maxflow | none) and the
                         artefact shares
    exclusions.csv       image_id, split, reason, detail
    cache.json           size, steps and counts; readers check the size they need

Training reads rows through ``np.load(mmap_mode="r")``: no epoch decodes a JPEG again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from benchmark.core.manifest import SPLITS, read_manifest

MASK_SOURCES = ("ground_truth", "maxflow", "none")


class CacheError(ValueError):
    """A cache folder is missing, incomplete or of another image size."""


@dataclass(frozen=True)
class CachedSplit:
    """One split of the cache, memory-mapped.

    Attributes:
        images: (N, S, S, 3) uint8, read-only memory map.
        masks: (N, S, S) uint8 {0, 255}, read-only memory map.
        index: N rows in array order (``cache_row`` = 0..N-1).
    """

    images: NDArray[np.uint8]
    masks: NDArray[np.uint8]
    index: pd.DataFrame

    def with_masks(self, sources: tuple[str, ...]) -> NDArray[np.int64]:
        """Array rows whose ``mask_source`` is one of ``sources``, in order."""
        keep = self.index["mask_source"].isin(list(sources)).to_numpy()
        return np.asarray(self.index["cache_row"].to_numpy()[keep], dtype=np.int64)


def array_paths(folder: Path, split: str) -> tuple[Path, Path]:
    """The image and mask array files of ``split`` in a cache folder."""
    return folder / f"images_{split}.npy", folder / f"masks_{split}.npy"


def read_info(folder: Path) -> dict[str, Any]:
    """``cache.json`` of a cache folder.

    Raises:
        CacheError: If it is missing (the folder is not a finished cache).
    """
    info = Path(folder) / "cache.json"
    if not info.is_file():
        raise CacheError(f"{info}: not found; run the preprocess stage first")
    data: dict[str, Any] = json.loads(info.read_text())
    return data


def load_split(folder: Path, split: str, size: int | None = None) -> CachedSplit:
    """Memory-map one split of a cache folder.

    Args:
        folder: The cache folder (the ``preprocess`` stage's output).
        split: ``train``, ``val`` or ``test``.
        size: Image side the caller needs; checked against the cache.

    Raises:
        CacheError: On a missing file, an unknown split, a size or row-count mismatch.
    """
    if split not in SPLITS:
        raise CacheError(f"unknown split {split!r}; expected one of {SPLITS}")
    folder = Path(folder)
    info = read_info(folder)
    if size is not None and info["size"] != size:
        raise CacheError(f"{folder}: cached at {info['size']} px, {size} px needed")
    index = read_manifest(folder / "index.parquet", data_root=folder)
    index = index[index["split"] == split].sort_values("cache_row").reset_index(drop=True)
    image_file, mask_file = array_paths(folder, split)
    for path in (image_file, mask_file):
        if not path.is_file():
            raise CacheError(f"{path}: not found; the cache is incomplete")
    images = np.load(image_file, mmap_mode="r")
    masks = np.load(mask_file, mmap_mode="r")
    rows = index["cache_row"].to_numpy()
    if (
        len(images) != len(index)
        or len(masks) != len(index)
        or (rows != np.arange(len(rows))).any()
    ):
        raise CacheError(
            f"{image_file}: {len(images)} images, {len(masks)} masks but {len(index)} index rows"
        )
    return CachedSplit(images, masks, index)
