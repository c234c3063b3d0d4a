"""Last in the run (file order): the suite left the checkout's MLflow store as it found it."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import CHECKOUT_STORE, REPO, store_state


def test_the_suite_never_wrote_to_the_checkout_store(
    store_before: dict[str, tuple[int, int] | None],
) -> None:
    # Every file of mlflow.db and mlartifacts/ has the size and mtime it had at the start,
    # and nothing new appeared there: pipeline subprocesses, module fixtures and all.
    assert store_state() == store_before, (
        f"the test suite wrote to {', '.join(str(p) for p in CHECKOUT_STORE)}"
    )


def test_the_session_points_mlflow_away_from_the_checkout() -> None:
    uri = os.environ["MLFLOW_TRACKING_URI"]
    assert uri.startswith("sqlite:///")
    assert REPO not in Path(uri.removeprefix("sqlite:///")).parents
