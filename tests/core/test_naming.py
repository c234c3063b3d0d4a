from __future__ import annotations

import pytest

from benchmark.core.naming import parse_run_name, run_name


def test_a_run_name_round_trips() -> None:
    assert run_name("augmented", 7) == "augmented_seed7"
    assert parse_run_name("augmented_seed7") == ("augmented", 7)
    # The last mark wins, so a variant may itself hold "_seed".
    assert parse_run_name("my_seed_model_seed3") == ("my_seed_model", 3)


@pytest.mark.parametrize("bad", ["baseline", "baseline_seed", "_seed3", "baseline_seedx"])
def test_what_is_not_a_run_name_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a run name"):
        parse_run_name(bad)
