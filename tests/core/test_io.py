"""Tests of benchmark.core.io helpers."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from benchmark.core.io import stable_safetensors


def test_safetensors_header_is_normalised(tmp_path: Path) -> None:
    path = tmp_path / "w.safetensors"
    tensors = {"b": torch.arange(3.0), "a": torch.ones(2, 2)}
    save_file(tensors, str(path), metadata={"z": "1", "format": "pt", "m": "2"})
    stable_safetensors(path)
    first = path.read_bytes()
    stable_safetensors(path)
    assert path.read_bytes() == first
    header = first[8 : 8 + int.from_bytes(first[:8], "little")].decode()
    assert header.index('"__metadata__"') < header.index('"a"') < header.index('"b"')
    assert header.index('"format"') < header.index('"m"') < header.index('"z"')
    loaded = load_file(str(path))
    for name, value in tensors.items():
        torch.testing.assert_close(loaded[name], value)
