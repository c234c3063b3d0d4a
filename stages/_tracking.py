"""MLflow tracking for stages (the library never imports mlflow).

Default store: a SQLite file ``mlflow.db`` in the working directory (the repo root when DVC
runs a stage), git-ignored; ``MLFLOW_TRACKING_URI`` overrides it (e.g. a tracking server with
a database backend). Artifacts go to ``mlartifacts/`` beside it. One experiment per profile;
every run is tagged with git commit, stage, profile, params digest and input-data digest.
Inside ``mlflow run`` (which sets ``MLFLOW_RUN_ID``) stage runs become children of the
project run, so one reproduction groups together in the UI.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmark.digest import data_digest, mapping_digest
from stages._params import read_params

EXPERIMENT_PREFIX = "skintone-bench"


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else ``sqlite:///<cwd>/mlflow.db``."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def git_commit() -> str:
    """``HEAD`` of the working directory's repo, suffixed ``-dirty`` with local changes."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}-dirty" if dirty else sha


def flatten(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a nested dict as ``a.b.c`` keys (what MLflow metrics accept)."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, bool | int | float):
            flat[name] = float(value)
    return flat


def _experiment_id(mlflow: Any, name: str) -> str:
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    # A server decides where artifacts live; a local SQLite store keeps them beside it.
    local = tracking_uri().startswith("sqlite:")
    artifacts = (Path.cwd() / "mlartifacts").as_uri() if local else None
    return str(mlflow.create_experiment(name, artifact_location=artifacts))


@contextmanager
def stage_run(
    stage: str,
    params_file: Path,
    sections: tuple[str, ...],
    inputs: tuple[Path, ...] = (),
    tags: Mapping[str, str] | None = None,
    run_name: str | None = None,
) -> Iterator[Any]:
    """Open an MLflow run for one stage, tagged for grouping and comparison.

    Args:
        stage: Stage name (``ingest``, ...).
        params_file: The params file the stage read.
        sections: Params sections the stage reads; logged flattened as run params.
        inputs: Input files/folders, digested into the ``data_digest`` tag.
        tags: Extra tags (model, variant, seed...).
        run_name: Run name (default: the stage name).

    Yields:
        The active ``mlflow.ActiveRun``.
    """
    import mlflow

    params = read_params(params_file)
    used = {s: params.get(s) for s in sections}
    profile_name = str(params.get("profile", "embedded"))
    mlflow.set_tracking_uri(tracking_uri())
    parent = os.environ.pop("MLFLOW_RUN_ID", None)
    experiment = os.environ.pop("MLFLOW_EXPERIMENT_ID", None) if parent else None
    all_tags = {
        "stage": stage,
        "profile": profile_name,
        "git_commit": git_commit(),
        "params_digest": mapping_digest(used),
        "data_digest": data_digest(inputs),
        **(tags or {}),
    }
    if parent:
        all_tags["mlflow.parentRunId"] = parent
    exp_id = experiment or _experiment_id(mlflow, f"{EXPERIMENT_PREFIX}/{profile_name}")
    with mlflow.start_run(experiment_id=exp_id, run_name=run_name or stage, tags=all_tags) as run:
        flat = {k: str(v)[:6000] for k, v in _flat_params(used).items()}
        if flat:
            mlflow.log_params(flat)
        yield run


def _flat_params(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            out.update(_flat_params(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def log_metrics(metrics: Mapping[str, Any]) -> None:
    """Log the numeric leaves of a (nested) metrics dict to the active run."""
    import mlflow

    flat = flatten(metrics)
    if flat:
        mlflow.log_metrics(flat)


def log_files(*paths: Path) -> None:
    """Attach files to the active run as artifacts."""
    import mlflow

    for path in paths:
        mlflow.log_artifact(str(path))
