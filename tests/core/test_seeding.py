"""``seed_everything`` and ``derive_rng``: the same seed gives the same draws, others differ."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator

import numpy as np
import pytest
import torch

from benchmark.core.seeding import derive_rng, seed_everything

Draws = tuple[list[float], list[float], list[float], list[float]]


@pytest.fixture(autouse=True)
def _restore_global_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Put the global generators and PYTHONHASHSEED back, so other tests see no change."""
    # setenv records the old value; teardown restores it (or removes the variable).
    monkeypatch.setenv("PYTHONHASHSEED", os.environ.get("PYTHONHASHSEED", "0"))
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    yield
    random.setstate(states[0])
    np.random.set_state(states[1])
    torch.set_rng_state(states[2])


def _draws(seed: int) -> Draws:
    """Three draws from each global generator and from the returned one, after seeding."""
    rng = seed_everything(seed)
    py = [random.random() for _ in range(3)]
    legacy = np.random.random(3).tolist()
    torch_draws = torch.rand(3).tolist()
    return py, legacy, torch_draws, rng.random(3).tolist()


def test_same_seed_same_draws_in_every_library() -> None:
    first = _draws(11)
    random.random(), np.random.random(), torch.rand(1)  # move every global stream on
    assert _draws(11) == first


def test_different_seeds_differ_in_every_library() -> None:
    a, b = _draws(1), _draws(2)
    for one, other in zip(a, b, strict=True):
        assert one != other


def test_known_answers_for_seed_zero() -> None:
    py, legacy, torch_draws, fresh = _draws(0)
    # Python's Mersenne Twister and NumPy's legacy stream are frozen by their projects.
    assert py[0] == 0.8444218515250481
    assert legacy[0] == 0.5488135039273248
    # torch.manual_seed(0) seeds the default CPU generator like a fresh one seeded with 0.
    assert torch_draws == torch.rand(3, generator=torch.Generator().manual_seed(0)).tolist()
    # The returned generator is a fresh default_rng(0), not the legacy global stream.
    assert fresh == np.random.default_rng(0).random(3).tolist()
    assert fresh != legacy


def test_sets_pythonhashseed() -> None:
    seed_everything(123)
    assert os.environ["PYTHONHASHSEED"] == "123"


def test_large_seed_wraps_numpy_legacy_but_not_the_generator() -> None:
    # The legacy seed must fit 32 bits: 2**32 + 5 seeds it like 5; the Generator keeps all bits.
    big, small = _draws(2**32 + 5), _draws(5)
    assert big[1] == small[1]
    assert _draws(2**31 + 5)[1] != small[1]  # below 2**32 the seed is kept whole
    assert big[3] != small[3]
    assert big[0] != small[0]  # Python's random takes the full integer


def test_negative_seed_rejected() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        seed_everything(-1)


def test_derive_rng_same_keys_same_stream() -> None:
    assert derive_rng(7, 3, 1).random(4).tolist() == derive_rng(7, 3, 1).random(4).tolist()
    # The entropy is (seed, *keys) in that order: streams of earlier runs depend on it.
    expected = np.random.default_rng(np.random.SeedSequence([7, 3, 1])).random(4).tolist()
    assert derive_rng(7, 3, 1).random(4).tolist() == expected


def test_derive_rng_streams_differ_by_seed_and_key() -> None:
    base = derive_rng(7, 3).random(4).tolist()
    assert derive_rng(7, 4).random(4).tolist() != base
    assert derive_rng(8, 3).random(4).tolist() != base
    assert derive_rng(3, 7).random(4).tolist() != base  # the order of seed and key matters


def test_derive_rng_does_not_depend_on_other_items() -> None:
    # Item 5's stream is the same whether or not other items drew before it.
    alone = derive_rng(7, 5).random(3).tolist()
    for item in range(5):
        derive_rng(7, item).random(100)
    assert derive_rng(7, 5).random(3).tolist() == alone
    # Nor does it touch or use the global streams.
    np.random.seed(0)
    derive_rng(7, 5).random(3)
    assert np.random.random() == 0.5488135039273248
