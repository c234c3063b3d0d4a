"""Shared fixtures. Tests that need ``../shared/realdata`` skip cleanly without it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
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


def make_split_data(
    root: Path,
    n: int = 40,
    size: int = 64,
    synthetic: int = 4,
    edit: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> Path:
    """Phantoms ingested under ``root/data`` and split, then some copied in as synthetic rows.

    The synthetic copies have no mask (as generated images) and go to train. ``edit`` changes
    the real rows before the split (drop masks, relabel). Returns the split manifest's path
    (``root/data/split/manifest.parquet``, paths relative to ``root/data``).
    """
    from benchmark.core.config.data import IngestConfig, PhantomConfig, SplitConfig
    from benchmark.core.manifest import read_manifest, rebase, write_manifest
    from benchmark.core.splits import make_splits, merge_synthetic
    from benchmark.ingest.run import ingest_from_config

    data = root / "data"
    cfg = IngestConfig(phantoms=PhantomConfig(n=n, size=size), workers=1, link="copy")
    ingest_from_config(cfg, root, data / "ingested", progress=False)
    real = read_manifest(data / "ingested" / "manifest.parquet")
    real["fst"] = real["fst_label"]  # as if the skintone stage had estimated it exactly
    if edit is not None:
        real = edit(real)
    fake = real.head(synthetic).copy()
    fake["image_id"] = [f"SYN_{i}" for i in range(synthetic)]
    fake["patient_id"], fake["lesion_id"] = fake["image_id"], None
    fake["source"], fake["mask_path"] = "synthetic", None
    (data / "synthetic" / "images").mkdir(parents=True)
    for old, new in zip(real.head(synthetic).image_path, fake.image_id, strict=True):
        (data / "synthetic" / "images" / f"{new}.png").write_bytes(
            (data / "ingested" / old).read_bytes()
        )
    fake["image_path"] = [f"images/{i}.png" for i in fake.image_id]
    cfg = SplitConfig(seed=3)
    real_split = make_splits(rebase(real, data / "ingested", data), cfg)
    split = merge_synthetic(real_split, rebase(fake, data / "synthetic", data), cfg)
    out = data / "split" / "manifest.parquet"
    write_manifest(split, out, data_root=data)
    return out


def invoke_ok(command: object, args: list[str]) -> None:
    """Run a click command in-process and fail with its output if it does not exit 0."""
    from click.testing import CliRunner

    result = CliRunner().invoke(command, args)  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output + repr(result.exception)


def preprocessed_split(
    root: Path,
    params: dict[str, object],
    n: int,
    size: int,
    synthetic: int = 4,
    edit: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> None:
    """In ``root`` (the working folder): phantom split data, params.yaml, the preprocess stage.

    Leaves ``data/preprocessed`` and ``metrics/preprocess.json`` for a downstream stage test.
    """
    import yaml

    from stages import preprocess as preprocess_stage

    make_split_data(root, n=n, size=size, synthetic=synthetic, edit=edit)
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    invoke_ok(
        preprocess_stage.main,
        [
            "--manifest",
            "data/split/manifest.parquet",
            "--data-root",
            "data",
            "--out-dir",
            "data/preprocessed",
            "--metrics",
            "metrics/preprocess.json",
        ],
    )
