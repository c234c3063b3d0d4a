"""The paper's fully convolutional lesion segmenter (section 3.3.2).

Three conv blocks of 16, 32 and 64 filters, each followed by 2x2 max-pooling, then
transposed convolutions back to the input size and one channel of logits. The paper gives
the filter counts only; 3x3 convolutions with ReLU and stride-2 transposed convolutions are
the plain reading, so the input side must be a multiple of 8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray
from safetensors.torch import load_file, save_file
from torch import nn

from benchmark.core.training import imagenet_normalise


class PaperFCN(nn.Module):
    """Input (B, 3, S, S) float normalised images; output (B, 1, S, S) logits, S % 8 == 0."""

    def __init__(self, widths: tuple[int, int, int] = (16, 32, 64)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for width in widths:
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
            layers.append(nn.MaxPool2d(2))
            channels = width
        self.encoder = nn.Sequential(*layers)
        up: list[nn.Module] = []
        for width in reversed(widths[:-1]):
            up += [nn.ConvTranspose2d(channels, width, 2, stride=2), nn.ReLU(inplace=True)]
            channels = width
        up.append(nn.ConvTranspose2d(channels, 1, 2, stride=2))
        self.decoder = nn.Sequential(*up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape (B, 1, S, S) for input (B, 3, S, S)."""
        if x.shape[-1] % 8 or x.shape[-2] % 8:
            raise ValueError(f"input side must be a multiple of 8, got {tuple(x.shape)}")
        out: torch.Tensor = self.decoder(self.encoder(x))
        return out


def to_input(images: NDArray[np.uint8]) -> torch.Tensor:
    """(B, S, S, 3) uint8 RGB -> (B, 3, S, S) float32 ImageNet-normalised, channels-last."""
    x = torch.from_numpy(np.array(images))  # a copy: cache memory maps are read-only
    x = x.permute(0, 3, 1, 2).float().div_(255.0)
    return imagenet_normalise(x).contiguous(memory_format=torch.channels_last)


def predict(
    model: nn.Module,
    images: NDArray[np.uint8],
    threshold: float,
    batch_size: int = 16,
    device: torch.device | str = "cpu",
) -> NDArray[np.uint8]:
    """Masks for (N, S, S, 3) uint8 images: (N, S, S) uint8 {0, 255}.

    Args:
        model: A trained :class:`PaperFCN` (switched to eval mode here).
        images: Preprocessed images, e.g. a cache memory map.
        threshold: Lesion probability cut-off, fixed before looking at test.
        batch_size: Images per forward pass.
        device: Where the forward passes run; the model is moved there.
    """
    with torch.no_grad():  # not inference mode: the weights may be converted, then trained
        model.eval().to(device).to(memory_format=torch.channels_last)
    logit_cut = float(np.log(threshold / (1.0 - threshold)))
    out = np.empty(images.shape[:3], np.uint8)
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            logits = model(to_input(images[start : start + batch_size]).to(device))[:, 0]
            mask = (logits > logit_cut).cpu().numpy().astype(np.uint8)
            out[start : start + batch_size] = mask * 255
    return out


def save_fcn(model: nn.Module, path: Path) -> None:
    """Write the weights as safetensors (contiguous copies: channels-last kernels are not)."""
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))


def load_fcn(path: Path) -> PaperFCN:
    """A :class:`PaperFCN` with weights from a safetensors file written by :func:`save_fcn`."""
    model = PaperFCN()
    model.load_state_dict(load_file(str(path)))
    return model.to(memory_format=torch.channels_last)
