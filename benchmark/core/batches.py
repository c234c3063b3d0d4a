"""Batches straight from the memory-mapped preprocessing cache, through a torch DataLoader.

:class:`CacheRows` is a row subset of a cache array that reads only the rows asked for (no
copy of a split in RAM) and reopens its memory map in each DataLoader worker instead of
pickling the data. :func:`batch_loader` yields one uint8 batch per list of rows, read by
``workers`` processes with pinned memory for a GPU; every random choice (order, flips,
augmentation) stays in the training loop's main process, so the number of workers never
changes a result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch.utils.data import DataLoader, Dataset, Sampler

I64 = NDArray[np.int64]


class CacheRows:
    """Rows ``rows`` of an (M, ...) array, read lazily; behaves like an (N, ...) array.

    Args:
        array: A cache memory map (``np.load(mmap_mode="r")``) or any in-memory array.
        rows: (N,) int64 rows of ``array`` (default: all of them).
    """

    def __init__(self, array: NDArray[Any], rows: I64 | None = None) -> None:
        self._array: NDArray[Any] | None = array
        self._file: str | None = getattr(array, "filename", None)
        self.rows = np.arange(len(array), dtype=np.int64) if rows is None else rows
        self.shape: tuple[int, ...] = (len(self.rows), *array.shape[1:])
        self.dtype = array.dtype

    def _data(self) -> NDArray[Any]:
        if self._array is None:
            assert self._file is not None
            self._array = np.load(Path(self._file), mmap_mode="r")
        return self._array

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if self._file is not None:  # a worker reopens the file rather than unpickling it
            state["_array"] = None
        return state

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: slice | I64 | Sequence[int]) -> NDArray[Any]:
        """The selected rows as an in-memory array (read in ascending file order)."""
        wanted = self.rows[index]
        order = np.argsort(wanted, kind="stable")
        out = np.empty((len(wanted), *self.shape[1:]), self.dtype)
        out[order] = self._data()[wanted[order]]
        return out


Transform = Callable[[tuple[torch.Tensor, ...], I64], tuple[torch.Tensor, ...]]


class _Batches(Dataset[tuple[torch.Tensor, ...]]):
    """Item ``rows`` (a list of indices) -> one tensor per source, rows in the given order."""

    def __init__(
        self, sources: Sequence[CacheRows | NDArray[Any]], keys: I64, transform: Transform | None
    ) -> None:
        self.sources, self.keys, self.transform = sources, keys, transform

    def __getitem__(self, rows: Any) -> tuple[torch.Tensor, ...]:
        index = np.asarray(rows, dtype=np.int64)
        out = tuple(torch.from_numpy(np.asarray(source[index])) for source in self.sources)
        return out if self.transform is None else self.transform(out, self.keys[index])


class _Lists(Sampler[list[int]]):
    def __init__(self, lists: Sequence[I64]) -> None:
        self.lists = lists

    def __iter__(self) -> Iterator[list[int]]:
        return (lst.tolist() for lst in self.lists)

    def __len__(self) -> int:
        return len(self.lists)


def batch_loader(
    sources: Sequence[CacheRows | NDArray[Any]],
    batches: Sequence[I64],
    *,
    transform: Transform | None = None,
    workers: int = 0,
    pin_memory: bool = False,
) -> DataLoader[tuple[torch.Tensor, ...]]:
    """A DataLoader yielding, for each entry of ``batches``, one tensor per source.

    Args:
        sources: Arrays indexed alike (images, masks, ...), each (N, ...).
        batches: Index arrays into the sources, one per batch, in the order wanted.
        transform: Applied to each batch's tensors in the reader (a worker), with the items'
            stable keys: the cache rows of a :class:`CacheRows` first source, else indices.
        workers: Reader processes (0: read in the calling process).
        pin_memory: Page-locked batches for fast copies to a GPU.
    """
    first = sources[0]
    keys = first.rows if isinstance(first, CacheRows) else np.arange(len(first), dtype=np.int64)
    return DataLoader(
        _Batches(sources, keys, transform),
        sampler=_Lists(batches),
        batch_size=None,  # each sampled item is a whole batch
        num_workers=workers,
        pin_memory=pin_memory,
        # Its own generator: creating an iterator otherwise draws from torch's global RNG,
        # which the augmentations and dropout use.
        generator=torch.Generator().manual_seed(0),
        persistent_workers=False,
    )
