"""Shared fixtures. Tests that need ``../shared/realdata`` skip cleanly without it."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.support.config import default, paper, params_with

REPO = Path(__file__).resolve().parents[1]
REALDATA = REPO.parent / "shared" / "realdata"


@pytest.fixture
def realdata() -> Path:
    """The shared real-data sample; skips the test where it is absent (a user's clone)."""
    if not (REALDATA / "metadata" / "HAM10000_metadata.csv").is_file():
        pytest.skip(f"real-data sample not found at {REALDATA} (only CI and developers have it)")
    return REALDATA


# The checkout's own tracking store: the suite must never write there (run.sh exports it).
CHECKOUT_STORE = (REPO / "mlflow.db", REPO / "mlartifacts")


def store_state(paths: tuple[Path, ...] = CHECKOUT_STORE) -> dict[str, tuple[int, int] | None]:
    """Each path's (size, mtime in ns) -- of every file below it for a folder -- or None."""
    state: dict[str, tuple[int, int] | None] = {}
    for path in paths:
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            stat = file.stat() if file.is_file() else None
            state[str(file)] = None if stat is None else (stat.st_size, stat.st_mtime_ns)
    return state


_STORE_KEY = pytest.StashKey[dict[str, tuple[int, int] | None]]()
_SCRATCH_KEY = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """Before any fixture (module- and session-scoped ones too) points MLflow anywhere.

    ``./run.sh test`` exports the checkout's store as ``MLFLOW_TRACKING_URI``; a fixture
    wider than a function runs before the per-test one below, so without this it would
    inherit that store, as would every subprocess it starts.
    """
    scratch = Path(tempfile.mkdtemp(prefix="skinbench-tests-mlflow-"))
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{scratch / 'mlflow.db'}"
    os.environ.pop("MLFLOW_RUN_ID", None)
    os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
    os.environ["DVC_NO_ANALYTICS"] = "1"
    config.stash[_STORE_KEY] = store_state()
    config.stash[_SCRATCH_KEY] = scratch


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if anything wrote to the checkout's store (after every xdist worker)."""
    if hasattr(session.config, "workerinput") or _STORE_KEY not in session.config.stash:
        return  # a worker: the controller checks once all have finished
    if store_state() != session.config.stash[_STORE_KEY]:
        session.config.get_terminal_writer().line(
            f"the test suite wrote to {', '.join(map(str, CHECKOUT_STORE))}", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the session's scratch store."""
    if _SCRATCH_KEY in config.stash:
        shutil.rmtree(config.stash[_SCRATCH_KEY], ignore_errors=True)


@pytest.fixture
def store_before(request: pytest.FixtureRequest) -> dict[str, tuple[int, int] | None]:
    """The checkout store's state when the session started."""
    return request.config.stash[_STORE_KEY]


@pytest.fixture(autouse=True)
def _isolated_tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test's MLflow runs in its own SQLite store, never the user's."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    if "mlflow" in sys.modules:  # a stage run in an earlier test set the global URI
        sys.modules["mlflow"].set_tracking_uri(uri)
    # mlflow.set_experiment exports MLFLOW_EXPERIMENT_ID; setting then deleting records it,
    # so monkeypatch removes whatever a test leaves there at teardown.
    for name in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
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
    cfg = default(
        IngestConfig, phantoms=paper(PhantomConfig, n=n, size=size), workers=1, link="copy"
    )
    ingest_from_config(cfg, root, data / "ingested", progress=False)
    real = read_manifest(data / "ingested" / "manifest.parquet")
    real["fst"] = real["fst_label"]  # as if the skintone stage had estimated it exactly
    real["fst_robust"] = real["fst_label"]
    # The printed rule reads lesion and vignette as skin: one type darker, as on phantoms.
    darker = {"I": "II", "II": "III", "III": "IV", "IV": "V", "V": "VI", "VI": "VI"}
    real["fst_paper"] = real["fst_label"].map(darker)
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
    cfg = paper(SplitConfig, seed=3)
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
    (root / "params.yaml").write_text(yaml.safe_dump(params_with(params)))
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


@pytest.fixture(scope="session")
def reproduced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A scratch repo (tiny profile) after one ``dvc repro``, and what that run printed.

    Session-wide: the pipeline tests and the tracking-server tests share one run.
    """
    from tests.support.scratch import dvc, make_scratch

    root = make_scratch(tmp_path_factory.mktemp("pipeline") / "repo")
    return root, dvc(root, "repro")
