"""The one seeding function of the suite.

Every random draw in the library takes a :class:`numpy.random.Generator` (or a seed it derives
one from); global state is seeded here only, once per process, from a seed that comes from
params.
"""

from __future__ import annotations

import os
import random

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
