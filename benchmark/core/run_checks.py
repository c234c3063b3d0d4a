"""The guard's verdict on each classifier run, as a file.

The classify stage writes it beside its predictions and the fairness stage reads it;
:mod:`benchmark.classification.guard` decides.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from benchmark.core.io import write_json_atomic
from benchmark.core.naming import parse_run_name

CHECKS_FILE = "runs.json"  # in the predictions folder


@dataclass(frozen=True)
class RunCheck:
    """One run's verdict.

    Attributes:
        run: ``<variant>_seed<k>``.
        val_auc: Validation AUC of the kept epoch (NaN if undefined).
        threshold: Operating threshold chosen on validation.
        reason: Why the run failed; ``""`` for a run that passed.
    """

    run: str
    val_auc: float
    threshold: float
    reason: str = ""

    @property
    def failed(self) -> bool:
        """Whether the run is left out of every mean."""
        return bool(self.reason)


@dataclass(frozen=True)
class RunChecks:
    """Every run's verdict, in training order; written as ``runs.json``."""

    checks: tuple[RunCheck, ...]

    @property
    def failed(self) -> dict[str, str]:
        """Failed run -> reason."""
        return {c.run: c.reason for c in self.checks if c.failed}

    def write(self, folder: Path) -> Path:
        """Write ``folder/runs.json``; returns its path."""
        path = Path(folder) / CHECKS_FILE
        rows = [
            {"run": c.run, "val_auc": c.val_auc, "threshold": c.threshold, "reason": c.reason}
            for c in self.checks
        ]
        write_json_atomic(path, {"runs": rows})
        return path

    @classmethod
    def read(cls, folder: Path) -> RunChecks:
        """The verdicts in ``folder``; none (every run passes) when it has no ``runs.json``.

        Raises:
            ValueError: The file is not a verdict file; names it.
        """
        path = Path(folder) / CHECKS_FILE
        if not path.is_file():
            return cls(())
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))["runs"]
            checks = tuple(
                RunCheck(str(r["run"]), _number(r["val_auc"]), float(r["threshold"]), r["reason"])
                for r in rows
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a run-verdict file ({exc!r})") from exc
        return cls(checks)


def _number(value: float | None) -> float:
    """JSON's null (how NaN is written) back to NaN."""
    return math.nan if value is None else float(value)


def failure_summary(failed: dict[str, str], runs: int) -> str:
    """``"2 of 5 seeds failed: constant test scores (seed 43, seed 44)"``, or ``""``.

    Args:
        failed: Failed run name -> reason, of one variant.
        runs: The variant's runs, failed or not.
    """
    if not failed:
        return ""
    by_reason: dict[str, list[str]] = {}
    for run, reason in failed.items():
        by_reason.setdefault(reason, []).append(f"seed {parse_run_name(run)[1]}")
    parts = [f"{reason} ({', '.join(names)})" for reason, names in by_reason.items()]
    return f"{len(failed)} of {runs} seeds failed: " + "; ".join(parts)
