"""Batches from a memory map: lazily read rows, picklable, any worker count alike."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from benchmark.core.batches import CacheRows, batch_loader


def _memmap(tmp_path: Path) -> np.ndarray:
    array = np.arange(10 * 2 * 3, dtype=np.uint8).reshape(10, 2, 3)
    np.save(tmp_path / "a.npy", array)
    return np.load(tmp_path / "a.npy", mmap_mode="r")


def test_rows_read_in_the_order_asked(tmp_path: Path) -> None:
    rows = CacheRows(_memmap(tmp_path), np.array([7, 2, 5], dtype=np.int64))
    assert rows.shape == (3, 2, 3)
    assert len(rows) == 3
    assert rows.dtype == np.uint8
    got = rows[np.array([2, 0])]
    assert got[0, 0, 0] == 5 * 6
    assert got[1, 0, 0] == 7 * 6
    assert rows[0:2][1, 0, 0] == 2 * 6


def test_a_memory_map_pickles_as_its_file_not_its_data(tmp_path: Path) -> None:
    rows = CacheRows(_memmap(tmp_path))
    blob = pickle.dumps(rows)
    assert len(blob) < 600  # the path and the row list, not 60 bytes per image copied
    again = pickle.loads(blob)
    assert np.array_equal(again[np.arange(10)], rows[np.arange(10)])


def test_workers_change_nothing_and_transform_sees_stable_keys(tmp_path: Path) -> None:
    rows = CacheRows(_memmap(tmp_path), np.arange(3, 10, dtype=np.int64))
    plan = [np.array([4, 0]), np.array([1, 2, 3])]

    def keyed(tensors: tuple[torch.Tensor, ...], keys: np.ndarray) -> tuple[torch.Tensor, ...]:
        return (tensors[0], torch.from_numpy(keys))

    runs = []
    for workers in (0, 2):
        loader = batch_loader([rows], plan, transform=keyed, workers=workers)
        runs.append([(x.clone(), k.clone()) for x, k in loader])
    for (x0, k0), (x2, k2) in zip(*runs, strict=True):
        assert torch.equal(x0, x2)
        assert torch.equal(k0, k2)
    assert runs[0][0][1].tolist() == [7, 3]  # cache rows, not positions
    assert runs[0][0][0][0, 0, 0] == 7 * 6


def test_the_loader_leaves_torchs_global_stream_alone(tmp_path: Path) -> None:
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    list(batch_loader([CacheRows(_memmap(tmp_path))], [np.arange(4)]))
    assert torch.equal(torch.rand(3), expected)
