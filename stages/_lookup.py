"""Reading back the project's latest MLflow runs, for the report's header and runtimes."""

from __future__ import annotations

from typing import Any

from stages._tracking import EXPERIMENT_PREFIX, tracking_uri


def latest_runs(profile: str) -> list[Any]:
    """This profile's runs, newest first (empty if the experiment does not exist yet)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri())
    experiment = client.get_experiment_by_name(f"{EXPERIMENT_PREFIX}/{profile}")
    if experiment is None:
        return []
    return list(
        client.search_runs(
            [experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=2000
        )
    )


def stage_run_ids(runs: list[Any]) -> dict[str, str]:
    """The newest top-level run id of each stage (children carry a variant or seed tag)."""
    ids: dict[str, str] = {}
    for run in runs:
        tags = run.data.tags
        if "stage" in tags and "variant" not in tags and "seed" not in tags:
            ids.setdefault(tags["stage"], run.info.run_id)
    return ids


def runtime(runs: list[Any], stage: str, metric: str, **tags: str) -> tuple[float, str] | None:
    """The newest value of ``metric`` logged by a run of ``stage`` with ``tags``, and its id."""
    for run in runs:
        have = run.data.tags
        wanted = have.get("stage") == stage and all(have.get(k) == v for k, v in tags.items())
        if wanted and metric in run.data.metrics:
            return float(run.data.metrics[metric]), run.info.run_id
    return None
