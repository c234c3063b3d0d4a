"""A scratch git + DVC repo with the suite's code and a tiny profile, and DVC run in it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO

COPIED = (
    "benchmark",
    "stages",
    "dvc.yaml",
    "params.yaml",
    ".dvcignore",
    "pyproject.toml",
    "MLproject",
)


def tiny_params(params: dict[str, Any]) -> dict[str, Any]:
    """The embedded profile shrunk to seconds per stage (the data are left as they are)."""
    params["finetune_lora"].update(
        steps=4, pretrain_steps=3, pretrain_vae_steps=3, sample_every=0, batch_size=4
    )
    params["generate"].update(melanocytic=2, non_melanocytic=2, steps=3)
    params["preprocess"].update(size=32)
    params["segment"].update(epochs=2, batch_size=8)
    params["split"].update(test_per_tone=0)  # 30 phantoms cannot fill a balanced test split
    # Six epochs: fewer leave the guard failing the runs (constant scores), and with them the
    # audits and the registry (measured: 6 pass for every variant of the tiny world).
    params["classify"].update(
        max_epochs=6, early_stopping=6, freeze_epochs=1, batch_size=8, seeds=[42]
    )
    params["fairness"].update(bootstrap=10)
    return params


def tiny_world(params: dict[str, Any]) -> None:
    """The default scratch world: 30 small phantoms, fences that keep every generated image."""
    params["ingest"]["phantoms"].update(n=30, size=48, fst_mix=[0.3, 0.2, 0.2, 0.1, 0.1, 0.1])
    params["finetune_lora"]["min_images"] = 2  # about 4 FST V-VI phantoms land in train
    # Three-step generation makes noise that the fences reject; both variants must run.
    params["validate_synthetic"]["iqr_factor"] = 1000.0


def make_scratch(root: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """A git + DVC repo with the suite's code and the tiny params, ``edit`` applied to them."""
    root.mkdir()
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, root / name)
    params = tiny_params(yaml.safe_load((root / "params.yaml").read_text()))
    (tiny_world if edit is None else edit)(params)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for cmd in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
        [sys.executable, "-m", "dvc", "init", "-q"],
    ):
        subprocess.run(cmd, cwd=root, check=True)
    return root


_ACTIVE_RUN_VARS = ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID")


def env() -> dict[str, str]:
    # A run or experiment an in-process test left active would capture the subprocess's runs.
    env = {k: v for k, v in os.environ.items() if k not in _ACTIVE_RUN_VARS}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return env


def dvc(root: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=root,
        env=env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
