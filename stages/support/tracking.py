"""MLflow tracking for stages (the library never imports mlflow).

Default store (:func:`benchmark.core.provenance.tracking_uri`): ``mlflow.db`` in the working
directory (the repo root when DVC runs a stage), git-ignored, with artifacts in
``mlartifacts/``; ``MLFLOW_TRACKING_URI`` overrides it. One experiment per profile; every
run is tagged with git commit, stage, profile, params digest and input-data digest. Under
``mlflow run`` (which sets ``MLFLOW_RUN_ID``) stage runs become children of the project run,
so one reproduction groups together in the UI.

Under a multi-process launcher (``accelerate launch``, ``torchrun``) only the main process
opens a run; on the others :func:`stage_run` yields the params without one and every
logging helper here and in :mod:`stages.support.nested` does nothing, so one stage run
makes one MLflow run whatever the number of processes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from benchmark.core import provenance as prov
from benchmark.core.io import write_json_atomic
from benchmark.core.processes import is_main_process
from benchmark.core.provenance import tracking_uri
from benchmark.core.status import NotRun
from stages.support.params import load_section, read_params
from stages.support.pins import read_back

EXPERIMENT_PREFIX = "skintone-bench"
# MLflow 3's UI opens an untyped experiment on its GenAI traces view; this tag makes it open
# on the training runs (the value the UI's "Machine learning" experiment type writes).
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
T = TypeVar("T")


def _typed(mlflow: Any, experiment: Any) -> str:
    """Tag an experiment as model training (if it is not yet) and return its id."""
    if experiment.tags.get(EXPERIMENT_KIND_TAG) != EXPERIMENT_KIND:
        mlflow.MlflowClient().set_experiment_tag(
            experiment.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND
        )
    return str(experiment.experiment_id)


def _experiment_id(mlflow: Any, name: str) -> str:
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return _typed(mlflow, found)
    # A server decides where artifacts live; a local SQLite store keeps them beside it.
    local = tracking_uri().startswith("sqlite:")
    artifacts = (Path.cwd() / "mlartifacts").as_uri() if local else None
    tags = {EXPERIMENT_KIND_TAG: EXPERIMENT_KIND}
    return str(mlflow.create_experiment(name, artifact_location=artifacts, tags=tags))


def check_reachable(uri: str, timeout: float = 5.0) -> None:
    """Fail fast, naming ``uri``, where a tracking store cannot be reached.

    MLflow retries an unreachable server for minutes; a stage checks before any work.

    Raises:
        click.ClickException: A server that does not answer ``/health``, or a SQLite store
            whose folder does not exist.
    """
    import urllib.error
    import urllib.request

    import click

    if uri.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout):
                return
        except (urllib.error.URLError, OSError) as exc:
            raise click.ClickException(
                f"MLflow tracking server {uri} cannot be reached ({exc}); start it or set "
                "MLFLOW_TRACKING_URI to a store that exists"
            ) from exc
    if uri.startswith("sqlite:///"):
        folder = Path(uri.removeprefix("sqlite:///")).parent
        if not folder.is_dir():
            raise click.ClickException(f"tracking store {uri}: folder {folder} does not exist")


@contextmanager
def stage_run(
    stage: str,
    params_file: Path,
    config: type[T],
    *,
    section: str | None = None,
    logged: tuple[str, ...] | None = None,
    inputs: tuple[Path, ...] = (),
    tags: Mapping[str, str] | None = None,
) -> Iterator[T]:
    """Load a stage's typed params, then open its MLflow run; yields the params.

    The stage's work runs under :class:`~stages.support.roots.ExactRoots` (square roots
    that give the same bits on Intel and AMD CPUs), in every process.

    Args:
        stage: The DVC stage name (the run's name and ``stage`` tag).
        params_file: ``params.yaml``.
        config: The section's frozen dataclass.
        section: The params section to load (default: ``stage``).
        logged: Sections logged as params and digested into a tag (default: the section).
        inputs: Files or folders digested into ``data_digest``.
        tags: More tags (model, source...).

    Raises:
        ConfigError: The section is missing or invalid (before any run is opened).
    """
    name = section or stage
    from stages.support.roots import ExactRoots  # loads torch: not for the light commands

    cfg = load_section(params_file, name, config)
    with ExactRoots():
        if not is_main_process():
            yield cfg
            return
        with tracked_run(stage, params_file, (name,) if logged is None else logged, inputs, tags):
            yield cfg


@contextmanager
def tracked_run(
    stage: str,
    params_file: Path,
    sections: tuple[str, ...],
    inputs: tuple[Path, ...] = (),
    tags: Mapping[str, str] | None = None,
) -> Iterator[Any]:
    """Open an MLflow run for one stage, tagged for grouping and comparison.

    ``sections`` of ``params_file`` are logged as params and digested into a tag; ``inputs``
    (files or folders) into ``data_digest``; ``tags`` adds model, variant, seed, ...
    Yields the active ``mlflow.ActiveRun``.
    """
    import mlflow

    params = read_params(params_file)
    used = {s: params.get(s) for s in sections}
    profile = str(params.get("profile", "embedded"))
    check_reachable(tracking_uri())
    mlflow.set_tracking_uri(tracking_uri())
    parent = os.environ.pop("MLFLOW_RUN_ID", None)
    experiment = os.environ.pop("MLFLOW_EXPERIMENT_ID", None) if parent else None
    all_tags = prov.run_tags(stage, profile, used, inputs, tags) | read_back()
    if parent:
        all_tags["mlflow.parentRunId"] = parent
    if experiment:  # ``mlflow run`` chose it: typed too, so the UI opens on its runs
        exp_id = _typed(mlflow, mlflow.get_experiment(experiment))
    else:
        exp_id = _experiment_id(mlflow, f"{EXPERIMENT_PREFIX}/{profile}")
    with mlflow.start_run(experiment_id=exp_id, run_name=stage, tags=all_tags) as run:
        flat = {k: str(v)[:6000] for k, v in prov.flatten_all(used).items()}
        if flat:
            mlflow.log_params(flat)
        yield run


def tag_run(tags: Mapping[str, str]) -> None:
    """Add tags that depend on the loaded params (model, source) to the active run."""
    if not is_main_process():
        return
    import mlflow

    mlflow.set_tags(dict(tags))


def log_outputs(metrics: Mapping[str, Any], *files: Path) -> None:
    """Log the numeric leaves of a nested metrics dict, and ``files`` as artifacts."""
    if not is_main_process():
        return
    import mlflow

    mlflow.log_metrics(prov.flatten_numeric(metrics))
    for path in files:
        mlflow.log_artifact(str(path))


def log_text(text: str, name: str) -> None:
    """Log ``text`` as the artifact file ``name`` of the active run."""
    if not is_main_process():
        return
    import mlflow

    mlflow.log_text(text, name)


def log_not_run(reason: str, part: str | None = None) -> None:
    """Tag the active run as not run, or one ``part`` of it (a model, a variant), with why."""
    if not is_main_process():
        return
    import mlflow

    if part is None:
        mlflow.set_tags({"status": "not run", "not_run_reason": reason[:5000]})
    else:
        mlflow.set_tag(f"not_run.{part}", reason[:5000])


def finish_not_run(
    stage: str, why: NotRun, metrics_file: Path, metrics: Mapping[str, Any] | None = None
) -> None:
    """For a stage that cannot run: write its metrics with the reason, tag its run, say so."""
    import click

    if not is_main_process():
        return
    write_json_atomic(metrics_file, {**(metrics or {}), **why.metrics()})
    log_not_run(why.reason)
    click.echo(f"{stage} not run: {why.reason}")
