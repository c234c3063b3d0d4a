"""Pieces every training loop shares (generative, segmentation, classification)."""

from __future__ import annotations

import math

import torch

# ImageNet statistics: the paper normalises every model's input with them.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the message names where, and what was kept."""


def check_finite(loss: float, where: str) -> None:
    """Raise :class:`NonFiniteLossError` naming ``where`` if ``loss`` is NaN or infinite."""
    if not math.isfinite(loss):
        raise NonFiniteLossError(f"loss is {loss} {where}")


def imagenet_normalise(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) float in [0, 1] -> ``(x - mean) / std`` with ImageNet statistics."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std
