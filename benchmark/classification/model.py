"""The classifiers: backbone, head, freezing and checkpoints.

Two architectures, one head shape, the same protocol:

* ``efficientnet_b0`` (the paper): torchvision's backbone (1280 features after global
  average pooling) with the paper's head ``Linear(1280, 512) - ReLU - Dropout(0.3) -
  Linear(512, 2)`` in place of ``model.classifier``. Parameters: 4,007,548 backbone +
  656,898 head = 4,664,446 (the paper's "~5.3M" is the ImageNet model with its 1000-class
  head, 5,288,548). Its ImageNet weights are what make it learn from a few thousand images.
* ``phantom_cnn`` (the embedded profile): a 2x2 average-pool stem (64 px images are read
  at 32 px: the phantoms' cues are colour, pigment network and outline, which survive, at a
  quarter of the cost), four ``Conv3x3 - BatchNorm - ReLU - MaxPool`` blocks of 24, 48, 96
  and 96 channels and the same head shape ``Linear(96, 96) - ReLU - Dropout -
  Linear(96, 2)``: sized for phantoms and a few hundred training images, where
  EfficientNet-B0 from random weights does not learn (docs/explanation/embedded-profile.md).

Class 1 is melanocytic.

Checkpoints are safetensors; ``.pth``/``.pt`` files are read with
``torch.load(weights_only=True)`` only, so no file can run code when loaded.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import NamedTuple

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn
from torch.hub import load_state_dict_from_url
from torchvision.models import EfficientNet_B0_Weights, efficientnet_b0

from benchmark.core.io import stable_safetensors

log = logging.getLogger(__name__)

FEATURES = 1280  # efficientnet_b0's pooled feature width
HEAD = "classifier"  # the head's attribute; every other parameter is backbone
ARCHITECTURES = ("efficientnet_b0", "phantom_cnn")
PHANTOM_WIDTHS = (24, 48, 96, 96)  # phantom_cnn's channels per block
# Head hidden width per architecture: the paper's 512; as wide as the features for the CNN.
HIDDEN = {"efficientnet_b0": 512, "phantom_cnn": PHANTOM_WIDTHS[-1]}
IMAGENET_URL: str = EfficientNet_B0_Weights.DEFAULT.url
IMAGENET_FILE = IMAGENET_URL.rsplit("/", 1)[-1]  # efficientnet_b0_rwightman-7f5810bc.pth


class WeightsUnavailableError(RuntimeError):
    """The ImageNet weights are neither cached nor downloadable; the message says what to do."""


class CheckpointError(ValueError):
    """A weights file cannot be used; the message names the file and the problem."""


class ParameterCounts(NamedTuple):
    """Numbers of scalar parameters (BatchNorm running statistics are buffers, not counted)."""

    total: int
    trainable: int


class PhantomCNN(nn.Module):
    """A small CNN for 64 px phantoms, laid out like torchvision's EfficientNet.

    ``features`` (a 2x2 average-pool stem, then the blocks: the backbone), ``avgpool`` and
    ``classifier`` (the head), so freezing, weight loading and checkpoints treat both
    architectures alike. Input (B, 3, H, W) float32 with H, W >= 32; output (B, C) logits.
    """

    def __init__(self, head: nn.Sequential) -> None:
        super().__init__()
        widths = (3, *PHANTOM_WIDTHS)
        blocks = (_block(i, o) for i, o in itertools.pairwise(widths))
        self.features = nn.Sequential(nn.AvgPool2d(2), *blocks)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, C) logits."""
        logits: torch.Tensor = self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))
        return logits


def _block(channels_in: int, channels_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels_in, channels_out, 3, padding=1, bias=False),  # BN has the bias
        nn.BatchNorm2d(channels_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


def architecture_of(model: nn.Module) -> str:
    """``phantom_cnn`` or ``efficientnet_b0``."""
    return "phantom_cnn" if isinstance(model, PhantomCNN) else "efficientnet_b0"


def paper_head(
    dropout: float = 0.3, hidden: int = 512, num_classes: int = 2, features: int = FEATURES
) -> nn.Sequential:
    """``Linear(features, hidden) - ReLU - Dropout(dropout) - Linear(hidden, num_classes)``."""
    return nn.Sequential(
        nn.Linear(features, hidden),
        nn.ReLU(inplace=True),
        nn.Dropout(dropout),
        nn.Linear(hidden, num_classes),
    )


def build_model(
    weights: str,
    dropout: float = 0.3,
    hidden: int | None = None,
    num_classes: int = 2,
    architecture: str = "efficientnet_b0",
) -> nn.Module:
    """A backbone with the paper's head; input (B, 3, H, W) float32, output (B, C) logits.

    Args:
        weights: ``"imagenet"`` (torchvision's ``EfficientNet_B0_Weights.DEFAULT``, read from
            the torch hub cache or downloaded there; ``efficientnet_b0`` only), ``"none"``
            (random initialisation, the offline profile), or a path to a
            ``.safetensors``/``.pth``/``.pt`` file holding a backbone state dict of this
            architecture or a checkpoint of this model (see :func:`load_weights`).
        dropout: Dropout probability in the head.
        hidden: Width of the head's hidden layer (None: :data:`HIDDEN` of the architecture).
        num_classes: Number of output logits.
        architecture: One of :data:`ARCHITECTURES`.

    Raises:
        WeightsUnavailableError: ``"imagenet"`` is not cached and cannot be downloaded.
        CheckpointError: The weights file is unreadable or does not fit the model.
        FileNotFoundError: ``weights`` is neither a keyword nor an existing file.
        ValueError: An unknown architecture, or ImageNet weights asked of ``phantom_cnn``.
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture {architecture!r} is not one of {ARCHITECTURES}")
    width = hidden or HIDDEN[architecture]
    model: nn.Module
    if architecture == "phantom_cnn":
        model = PhantomCNN(paper_head(dropout, width, num_classes, PHANTOM_WIDTHS[-1]))
    else:
        model = efficientnet_b0(weights=None)
        model.classifier = paper_head(dropout, width, num_classes)
    if weights == "none":
        return model
    if weights == "imagenet":
        if architecture != "efficientnet_b0":
            raise ValueError(
                f"ImageNet weights exist for efficientnet_b0 only, not {architecture}: use "
                "weights 'none' or a weights file of this architecture"
            )
        load_weights(model, _imagenet_state_dict(), IMAGENET_FILE)
        return model
    path = Path(weights)
    if not path.is_file():
        raise FileNotFoundError(
            f"weights {weights!r} is not 'imagenet', 'none' or an existing weights file"
        )
    load_weights(model, read_state_dict(path), str(path))
    return model


def _imagenet_state_dict() -> dict[str, torch.Tensor]:
    """The ImageNet state dict torchvision publishes, from the hub cache or downloaded into it."""
    cache = Path(torch.hub.get_dir()) / "checkpoints"
    if (cache / IMAGENET_FILE).is_file():  # works offline
        return read_state_dict(cache / IMAGENET_FILE)
    try:
        state: dict[str, torch.Tensor] = load_state_dict_from_url(
            IMAGENET_URL,
            model_dir=str(cache),
            map_location="cpu",
            progress=False,
            check_hash=True,
            weights_only=True,  # its default is False: never unpickle code
        )
    except (OSError, RuntimeError) as exc:  # URLError is an OSError; bad hash a RuntimeError
        raise WeightsUnavailableError(
            f"the ImageNet EfficientNet-B0 weights could not be downloaded from {IMAGENET_URL} "
            f"({exc}). On a machine with internet, download {IMAGENET_FILE} from that URL, "
            f"then either pass its path as the weights (a local .pth file) or copy it to "
            f"{cache}/ so 'imagenet' finds it offline; or use weights 'none' (random "
            f"initialisation, the offline profile)."
        ) from exc
    return state


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` file, or of a ``.pth``/``.pt`` read with weights only.

    A ``.pth`` holding ``{"state_dict": ...}`` or ``{"model": ...}`` is unwrapped.

    Raises:
        CheckpointError: Missing file, unknown suffix, corrupt file, or a pickle holding more
            than plain tensors and containers (refused by ``weights_only=True``).
    """
    suffix = path.suffix.lower()
    if suffix not in (".safetensors", ".pth", ".pt"):
        raise CheckpointError(f"weights file {path} must end in .safetensors, .pth or .pt")
    if not path.is_file():
        raise CheckpointError(f"weights file {path} does not exist")
    try:
        if suffix == ".safetensors":
            return load_file(str(path))
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # safetensors, pickle, zip and OS errors: all an unusable file
        raise CheckpointError(
            f"cannot read weights file {path} (safetensors, or torch.load with "
            f"weights_only=True, which refuses anything but plain tensors): {exc}"
        ) from exc
    for key in ("state_dict", "model"):
        if isinstance(loaded, dict) and isinstance(loaded.get(key), dict):
            loaded = loaded[key]
    if not isinstance(loaded, dict) or not all(
        isinstance(v, torch.Tensor) for v in loaded.values()
    ):
        raise CheckpointError(f"weights file {path} does not hold a state dict of tensors")
    return loaded


def load_weights(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> bool:
    """Copy ``state`` into ``model``: the whole backbone, and the head where shapes agree.

    Backbone tensors must all be present with matching shapes. Head (``classifier.*``) keys
    that are absent from the model or differ in shape, such as ImageNet's 1000-class layer,
    are ignored and the head keeps its initialisation.

    Returns:
        Whether the head was loaded too.

    Raises:
        CheckpointError: A backbone tensor is missing, mis-shaped or unknown; names ``source``.
    """
    own = model.state_dict()
    backbone = {k for k in own if not k.startswith(f"{HEAD}.")}
    missing = sorted(backbone - state.keys())
    unknown = sorted(k for k in state.keys() - own.keys() if not k.startswith(f"{HEAD}."))
    shapes = sorted(k for k in backbone & state.keys() if state[k].shape != own[k].shape)
    if missing or unknown or shapes:
        raise CheckpointError(
            f"weights {source} do not fit {architecture_of(model)}: missing {missing[:3]} "
            f"({len(missing)}), unknown {unknown[:3]} ({len(unknown)}), "
            f"mis-shaped {shapes[:3]} ({len(shapes)})"
        )
    head = {k for k in own.keys() - backbone}
    head_fits = all(k in state and state[k].shape == own[k].shape for k in head)
    keep = backbone | head if head_fits else backbone
    model.load_state_dict({k: state[k] for k in keep}, strict=head_fits)
    if not head_fits:
        log.info("weights %s: backbone loaded, head kept at its initialisation", source)
    return head_fits


def set_backbone_trainable(model: nn.Module, trainable: bool) -> None:
    """Freeze (``False``) or unfreeze (``True``) every parameter outside the head.

    The head stays trainable either way. The paper trains the head alone for 3 epochs,
    then all layers. Call :func:`keep_frozen_backbone_in_eval` after each ``model.train()``
    while the backbone is frozen.
    """
    for name, param in model.named_parameters():
        param.requires_grad_(trainable or name.startswith(f"{HEAD}."))


def keep_frozen_backbone_in_eval(model: nn.Module) -> bool:
    """Put a fully frozen backbone in eval mode; call it after ``model.train()``.

    A frozen backbone is a fixed feature extractor (the Keras transfer-learning convention,
    ``base_model(x, training=False)``): its BatchNorm layers normalise with, and keep, their
    running statistics instead of drifting towards each batch's, and stochastic depth is
    off. The head stays in train mode (dropout on). Does nothing while any backbone
    parameter is trainable.

    Returns:
        Whether the backbone was switched to eval mode.
    """
    backbone = [child for name, child in model.named_children() if name != HEAD]
    if any(p.requires_grad for child in backbone for p in child.parameters()):
        return False
    for child in backbone:
        child.eval()
    return True


def count_parameters(model: nn.Module) -> ParameterCounts:
    """Total and trainable scalar parameter counts."""
    params = list(model.parameters())
    return ParameterCounts(
        total=sum(p.numel() for p in params),
        trainable=sum(p.numel() for p in params if p.requires_grad),
    )


def save_checkpoint(model: nn.Module, path: Path) -> None:
    """Write all weights and buffers as safetensors; the head's dropout goes in the metadata.

    Tensors are saved as contiguous copies (channels-last kernels are not contiguous).
    """
    dropouts = [m.p for m in model.get_submodule(HEAD).modules() if isinstance(m, nn.Dropout)]
    metadata = {
        "architecture": f"{architecture_of(model)}+paper_head",
        "dropout": str(dropouts[0]),
    }
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path), metadata=metadata)
    stable_safetensors(path)  # the metadata order is random per process


def load_checkpoint(path: Path, weights: str = "none") -> nn.Module:
    """A model written by :func:`save_checkpoint`; head sizes are read from its tensors.

    Args:
        path: The ``.safetensors`` checkpoint (a ``.pth``/``.pt`` state dict also works; its
            dropout, having no metadata, is taken as 0.3).
        weights: What to build before loading (``"none"`` needs no download; every tensor
            is then overwritten from the checkpoint). The architecture is the metadata's, or
            for a file without it, the one whose layer names its tensors carry.

    Raises:
        CheckpointError: The file is unreadable or is not a checkpoint of this model.
    """
    path = Path(path)
    state = read_state_dict(path)
    metadata: dict[str, str] = {}
    if path.suffix.lower() == ".safetensors":
        with safe_open(str(path), framework="pt") as reader:
            metadata = reader.metadata() or {}
    # Files without metadata: EfficientNet's MBConv blocks name their layers "block".
    effnet = any(".block." in key for key in state)
    default = "efficientnet_b0" if effnet else "phantom_cnn"
    architecture = metadata.get("architecture", default).split("+")[0]
    try:
        dropout = float(metadata.get("dropout", 0.3))
        hidden = int(state[f"{HEAD}.0.weight"].shape[0])
        num_classes = int(state[f"{HEAD}.3.weight"].shape[0])
        model = build_model(weights, dropout, hidden, num_classes, architecture)
    except (KeyError, ValueError) as exc:
        raise CheckpointError(
            f"checkpoint {path} is not a model of this package (no paper head): {exc!r}"
        ) from exc
    if not load_weights(model, state, str(path)):
        raise CheckpointError(f"checkpoint {path}: the head tensors do not fit the paper head")
    return model
