"""Nested MLflow runs inside a stage's run: one per model, variant or seed.

Children carry their parent's tags (stage, profile, commit, digests) plus their own (model,
variant, seed), so the MLflow UI can group and compare them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from benchmark.core.processes import is_main_process


@contextmanager
def child_run(stage: str, name: str, tags: Mapping[str, str]) -> Iterator[Any]:
    """A run nested in the active stage run, with its tags plus ``tags`` (model, variant)."""
    if not is_main_process():
        yield None
        return
    import mlflow

    parent = mlflow.get_run(mlflow.active_run().info.run_id)  # type: ignore[union-attr]
    inherited = {k: v for k, v in parent.data.tags.items() if not k.startswith("mlflow.")}
    with mlflow.start_run(
        experiment_id=parent.info.experiment_id,
        run_name=f"{stage}/{name}",
        nested=True,
        tags={**inherited, **tags},
    ) as run:
        # The stage's params too, so the UI compares children with their hyperparameters.
        if parent.data.params:
            mlflow.log_params(parent.data.params)
        yield run


def mark_failed(run: Any, reason: str) -> None:
    """End a finished child run as FAILED, with ``reason`` in its ``run.failed`` tag."""
    if run is None:  # not the main process
        return
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    client.set_tag(run.info.run_id, "run.failed", reason)
    client.set_terminated(run.info.run_id, status="FAILED")


def log_history(rows: Sequence[Mapping[str, float]], step: str = "epoch") -> None:
    """Log per-epoch rows as metric series (``step`` is the x axis in the MLflow UI)."""
    if not is_main_process():
        return
    import mlflow

    for row in rows:
        mlflow.log_metrics({k: float(v) for k, v in row.items() if k != step}, step=int(row[step]))
