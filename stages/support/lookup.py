"""Reading back the project's latest MLflow runs, for the report's header and runtimes."""

from __future__ import annotations

import math
from typing import Any

from stages.support.tracking import EXPERIMENT_PREFIX, tracking_uri


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


def latest_runtime(runs: list[Any], stage: str, metric: str) -> tuple[float, str] | None:
    """``metric`` of the newest top-level ``stage`` run, and its id (None if it lacks it).

    A stage that did not run this time logs no such metric, so no older number stands in.
    """
    top = stage_run_ids(runs).get(stage)
    for run in runs:
        if run.info.run_id == top and math.isfinite(run.data.metrics.get(metric, math.nan)):
            return float(run.data.metrics[metric]), run.info.run_id
    return None


def latest_variant_runtime(
    runs: list[Any], stage: str, metric: str, variants: tuple[str, ...]
) -> tuple[float, str] | None:
    """``metric`` from the newest ``stage`` run's children: the first of ``variants`` found.

    Only the latest stage run counts, so a variant that did not run this time is not
    represented by an older run's number.
    """
    top = stage_run_ids(runs).get(stage)
    parents = {r.info.run_id: r for r in runs if r.data.tags.get("mlflow.parentRunId") == top}
    for variant in variants:
        for run in runs:  # newest first
            parent = parents.get(run.data.tags.get("mlflow.parentRunId", ""))
            ours = parent is not None and parent.data.tags.get("variant") == variant
            if ours and math.isfinite(run.data.metrics.get(metric, math.nan)):
                return float(run.data.metrics[metric]), run.info.run_id
    return None
