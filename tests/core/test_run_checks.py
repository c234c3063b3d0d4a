"""The guard's verdict file: round trip, absent file, bad file, the sentence."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmark.core.run_checks import RunCheck, RunChecks, failure_summary


def test_verdicts_round_trip_and_name_the_failed(tmp_path: Path) -> None:
    checks = RunChecks(
        (
            RunCheck("baseline_seed42", 0.9, 0.41),
            RunCheck("baseline_seed43", math.nan, 0.5, "constant test scores"),
        )
    )
    checks.write(tmp_path)
    again = RunChecks.read(tmp_path)
    assert again.failed == {"baseline_seed43": "constant test scores"}
    assert again.checks[0] == checks.checks[0]
    assert math.isnan(again.checks[1].val_auc)


def test_no_file_means_no_verdict(tmp_path: Path) -> None:
    assert RunChecks.read(tmp_path).failed == {}


def test_a_bad_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "runs.json").write_text('{"runs": [{"run": "x"}]}')
    with pytest.raises(ValueError, match=r"runs\.json"):
        RunChecks.read(tmp_path)


def test_the_sentence_counts_and_names_seeds_by_reason() -> None:
    failed = {"baseline_seed43": "constant test scores", "baseline_seed44": "constant test scores"}
    assert failure_summary(failed, 5) == (
        "2 of 5 seeds failed: constant test scores (seed 43, seed 44)"
    )
    assert failure_summary({}, 5) == ""
