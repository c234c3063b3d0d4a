"""The one seeding function of the suite.

Every random draw in the library takes a :class:`numpy.random.Generator` (or a seed it derives
one from); global state is seeded here only, once per process, from a seed that comes from
params.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and (if imported) PyTorch, and return a fresh NumPy generator.

    Args:
        seed: Non-negative integer seed, normally from the stage params.

    Returns:
        A ``numpy.random.Generator`` seeded with ``seed``; prefer passing it explicitly over
        relying on the global state seeded here.

    Raises:
        ValueError: If ``seed`` is negative.
    """
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        pass
    else:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)


def derive_rng(seed: int, *keys: int) -> np.random.Generator:
    """Return a generator for one item (an image, a patient) of a seeded run.

    The stream for ``(seed, *keys)`` does not depend on how many other items are drawn, so a
    run can be resumed or extended item by item with identical results.

    Args:
        seed: The run's base seed.
        *keys: Non-negative integers naming the item, e.g. its index.

    Returns:
        An independent ``numpy.random.Generator``.
    """
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


@contextmanager
def torch_seeded(seed: int, *keys: int) -> Iterator[None]:
    """Run a block with torch's CPU generator seeded for one item, then restore it.

    Code that draws from torch's global generator (torchvision transforms) gets the same
    draws for ``(seed, *keys)`` whichever process, worker or position handles the item, and
    the caller's stream (dropout, other transforms) is left as it was.
    """
    import torch

    state = np.random.SeedSequence([seed, *keys]).generate_state(1, np.uint64)[0]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(state))
        yield
