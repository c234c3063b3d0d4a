"""The FCN as MLflow users consume it: preprocessed images in, lesion probabilities out.

:class:`MaskScorer` wraps a trained :class:`~benchmark.segmentation.fcn.PaperFCN` with the
input conversion :func:`~benchmark.segmentation.fcn.predict` uses, so a logged FCN takes
(B, S, S, 3) uint8 RGB preprocessed images (the cache's) and returns (B, S, S) float32
lesion probabilities; thresholding them at the run's ``threshold`` gives its masks.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from benchmark.core.training import imagenet_normalise


class MaskScorer(nn.Module):
    """(B, S, S, 3) uint8 RGB -> (B, S, S) float32 lesion probabilities, S % 8 == 0."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        # A contiguous-format copy in eval mode: the caller's module is left as it is.
        self.model = copy.deepcopy(model).eval().cpu().to(memory_format=torch.contiguous_format)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Lesion probability per pixel for a batch of uint8 images."""
        x = imagenet_normalise(images.permute(0, 3, 1, 2).float().div(255.0))
        logits: torch.Tensor = self.model(x)
        return torch.sigmoid(logits[:, 0])
