"""Shared fixtures. Tests that need ``../shared/realdata`` skip cleanly without it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
REALDATA = REPO.parent / "shared" / "realdata"


@pytest.fixture
def realdata() -> Path:
    """The shared real-data sample; skips the test where it is absent (a user's clone)."""
    if not (REALDATA / "metadata" / "HAM10000_metadata.csv").is_file():
        pytest.skip(f"real-data sample not found at {REALDATA} (only CI and developers have it)")
    return REALDATA


@pytest.fixture(autouse=True)
def _isolated_tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test's MLflow runs in its own SQLite store, never the user's."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")


def write_rgb(path: Path, size: tuple[int, int] = (40, 30), value: int = 180) -> Path:
    """Write a flat RGB image (width, height) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), value, np.uint8)).save(path)
    return path


def write_mask(
    path: Path, size: tuple[int, int] = (40, 30), values: tuple[int, int] = (0, 255)
) -> Path:
    """Write a mask (width, height) whose left half is ``values[0]``, right half ``values[1]``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.full((size[1], size[0]), values[0], np.uint8)
    arr[:, size[0] // 2 :] = values[1]
    Image.fromarray(arr).save(path)
    return path
