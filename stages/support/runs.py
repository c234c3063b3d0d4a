"""``skinbench runs``: the classification runs of a tracking store, one line per variant and seed.

Joins each fairness audit run (test AUC, worst-group sensitivity, equalized-odds difference,
all on the real test split at the validation-chosen threshold) with the classify seed run of
the same profile, variant, seed and commit (the data digest of what it trained on). Lives
beside the stages, not in the library, because it reads MLflow.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import click

from benchmark.core.provenance import tracking_uri
from stages.support.tracking import check_reachable

COLUMNS = (
    "profile",
    "variant",
    "seed",
    "test AUC",
    "worst-group sensitivity",
    "equalized-odds diff",
    "data digest",
    "commit",
)
# Fairness run metric -> column (values logged by stages.fairness).
_METRICS = {
    "auc_overall": "test AUC",
    "sensitivity_worst": "worst-group sensitivity",
    "equalized_odds_difference": "equalized-odds diff",
}


def _key(tags: Mapping[str, str]) -> tuple[str, str, str, str]:
    return (tags.get("profile", ""), tags["variant"], tags["seed"], tags.get("git_commit", ""))


def _latest(runs: Iterable[Any]) -> dict[tuple[str, str, str, str], Any]:
    """The newest run per (profile, variant, seed, commit)."""
    out: dict[tuple[str, str, str, str], Any] = {}
    for run in sorted(runs, key=lambda r: r.info.start_time):
        out[_key(run.data.tags)] = run
    return out


def _fmt(value: float | None) -> str:
    return "NaN" if value is None or math.isnan(value) else f"{value:.3f}"


def run_rows(client: Any, profile: str | None = None) -> list[dict[str, str]]:
    """One row per audited (profile, variant, seed, commit), newest runs, sorted."""
    # Every experiment: under ``mlflow run`` the stages record into the project's experiment.
    ids = [e.experiment_id for e in client.search_experiments()]
    if not ids:
        return []
    seeded = "tags.seed != '' and tags.variant != ''"
    seeded += f" and tags.profile = '{profile}'" if profile is not None else ""
    audits = _latest(client.search_runs(ids, f"tags.stage = 'fairness' and {seeded}"))
    trained = _latest(client.search_runs(ids, f"tags.stage = 'classify' and {seeded}"))
    rows = []
    for key in sorted(audits):
        audit, train = audits[key], trained.get(key)
        row = dict(zip(COLUMNS[:3], key[:3], strict=True))
        row |= {col: _fmt(audit.data.metrics.get(m)) for m, col in _METRICS.items()}
        row["data digest"] = train.data.tags.get("data_digest", "") if train else "not found"
        row["commit"] = key[3][:10]
        rows.append(row)
    return rows


@click.command("runs")
@click.option("--store", default=None, help="Tracking URI [default: as the stages use].")
@click.option("--profile", default=None, help="Only this params profile (embedded, paper...).")
def runs_cmd(store: str | None, profile: str | None) -> None:
    """Compare the classification runs of a store: one line per variant and seed."""
    from mlflow import MlflowClient

    uri = store or tracking_uri()
    check_reachable(uri)
    rows = run_rows(MlflowClient(tracking_uri=uri), profile)
    if not rows:
        click.echo(f"no audited classification run in {uri}")
        return
    click.echo(format_table(rows))


def format_table(rows: list[dict[str, str]]) -> str:
    """:data:`COLUMNS` as a left-aligned text table, a header line, then one line per row."""
    cells = [list(COLUMNS), *([row[c] for c in COLUMNS] for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)) for line in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)
