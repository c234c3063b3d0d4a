"""The classifier as MLflow users consume it: raw images in, class probabilities out.

:class:`ImageScorer` wraps a trained classifier with the suite's own eval transform
(:func:`~benchmark.classification.inference.transform_tensor`) and softmax, so a logged
model takes what the cache holds -- (B, S, S, 3) uint8 RGB at the evaluation size -- and
returns what :func:`~benchmark.classification.inference.predict_proba` returns, for any
batch size.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from benchmark.classification.inference import transform_tensor


class ImageScorer(nn.Module):
    """(B, S, S, 3) uint8 RGB -> (B, 2) float32 probabilities, columns :data:`CLASSES`."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        # A copy in eval mode: logging must not change the caller's module or its mode.
        self.model = copy.deepcopy(model).eval().cpu()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Probabilities per class for a batch of uint8 images."""
        logits: torch.Tensor = self.model(transform_tensor(images))
        return torch.softmax(logits.float(), dim=1)


# Output columns, in the order of the model's logits (class 1 is melanocytic: model.py).
CLASSES: tuple[str, ...] = ("non_melanocytic", "melanocytic")
