"""Pieces every training loop shares (generative, segmentation, classification)."""

from __future__ import annotations

import math


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the message names where, and what was kept."""


def check_finite(loss: float, where: str) -> None:
    """Raise :class:`NonFiniteLossError` naming ``where`` if ``loss`` is NaN or infinite."""
    if not math.isfinite(loss):
        raise NonFiniteLossError(f"loss is {loss} {where}")
