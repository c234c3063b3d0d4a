"""Fast CPU inference for the classifier: the eval transform and three interchangeable backends.

Backends (``Predictor(model, backend)``), measured at 224 px, batch 32, 2 CPU threads, on
random weights (``tests/perf/test_classification_perf.py``):

* ``"eager"``: the plain module, NCHW, under ``torch.inference_mode`` (the reference).
* ``"fused"``: BatchNorm folded into the preceding convolutions, channels-last memory
  format, inference mode. Pure torch, no extra dependency; about 2.5x eager.
* ``"onnxruntime"``: the module exported to ONNX (TorchScript exporter, about 0.4 s) and
  run by an onnxruntime CPU session with torch's thread count; about 4-5x eager. Needs the
  optional ``onnxruntime`` and ``onnx`` packages.
* ``"auto"``: ``"onnxruntime"`` where both packages import, else ``"fused"``.

The default is ``"fused"``, so results do not depend on which optional packages happen to be
installed (the suite does not install onnxruntime; ``fused`` meets the 15 ms/image target).

Every backend snapshots the model when the predictor is built (later training does not
change it) and leaves the caller's module, and its train/eval mode, untouched. Class-1
(melanocytic) probabilities of every backend equal the eager ones within
:data:`PROB_TOLERANCE` = 1e-4 (measured: at most 5e-6, from float32 rounding in the folded
weights and reordered reductions).
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from numpy.typing import NDArray
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from benchmark.core.batches import CacheRows
from benchmark.core.training import imagenet_normalise

Backend = Literal["auto", "eager", "fused", "onnxruntime"]
BACKENDS: tuple[str, ...] = ("auto", "eager", "fused", "onnxruntime")

# Max |p_backend - p_eager| allowed for class-1 probabilities (tests hold every backend to it).
PROB_TOLERANCE = 1e-4


# The paper resizes to 256 and centre-crops 224; other cache sizes S scale the same way.
RESIZE_RATIO = 256 / 224


def onnxruntime_available() -> bool:
    """Whether the ``"onnxruntime"`` backend can run (``onnxruntime`` and ``onnx`` import)."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


def check_images(images: NDArray[Any] | CacheRows) -> None:
    """Raise ``ValueError`` unless ``images`` is (N, S, S, 3) uint8."""
    shape = getattr(images, "shape", None)
    dtype = getattr(images, "dtype", None)
    if dtype != np.uint8 or shape is None or len(shape) != 4 or shape[3] != 3:
        raise ValueError(f"expected (N, S, S, 3) uint8 RGB images, got {shape} {dtype}")
    if shape[1] != shape[2]:
        raise ValueError(f"expected square (N, S, S, 3) images, got {shape}")


def eval_transform(images: NDArray[np.uint8], device: torch.device | str = "cpu") -> torch.Tensor:
    """The eval transform: (N, S, S, 3) uint8 RGB -> (N, 3, S, S) float32, ImageNet-normalised.

    Resize to ``round(S * 256 / 224)`` (256 for S = 224) with
    ``torch.nn.functional.interpolate(mode="bilinear", antialias=True, align_corners=False)``
    on float32 values in [0, 1] (no re-quantisation to uint8; antialiasing only matters when
    shrinking, and this always enlarges), then centre-crop S (offset rounded as torchvision's
    ``center_crop``), then ``(x - mean) / std``. Output is NCHW-contiguous, on ``device``
    (the uint8 batch moves there first, so a GPU does the arithmetic).

    Raises:
        ValueError: If ``images`` is not (N, S, S, 3) uint8.
    """
    check_images(images)
    x = torch.from_numpy(np.array(images)).to(device)  # a copy: memory maps are read-only
    return transform_tensor(x)


def transform_tensor(x: torch.Tensor) -> torch.Tensor:
    """:func:`eval_transform` on a tensor: (N, S, S, 3) uint8 -> (N, 3, S, S) float32.

    Torch operations only, so a logged model (:mod:`benchmark.classification.serving`)
    carries the same transform inside its exported graph.
    """
    size = x.shape[1]
    resized = round(size * RESIZE_RATIO)
    top = round((resized - size) / 2.0)
    # NCHW-contiguous first: interpolate runs ~1.5x faster on it than on the NHWC view.
    x = x.permute(0, 3, 1, 2).float().div(255.0).contiguous()
    x = F.interpolate(
        x, size=(resized, resized), mode="bilinear", align_corners=False, antialias=True
    )
    x = x[:, :, top : top + size, top : top + size]
    return imagenet_normalise(x).contiguous()


def fold_batchnorm(model: nn.Module) -> int:
    """Fold every eval-mode ``BatchNorm2d`` that follows a ``Conv2d`` in a ``Sequential``.

    In place: the convolution takes the BatchNorm's affine map and running statistics, the
    BatchNorm becomes ``Identity``. torchvision's EfficientNet puts every BatchNorm right
    after its convolution inside ``Conv2dNormActivation`` (a ``Sequential``), so all 49 fold.

    Returns:
        How many BatchNorm layers were folded.
    """
    folded = 0
    for seq in [m for m in model.modules() if isinstance(m, nn.Sequential)]:
        for i in range(len(seq) - 1):
            conv, bn = seq[i], seq[i + 1]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                seq[i] = fuse_conv_bn_eval(conv, bn)
                seq[i + 1] = nn.Identity()
                folded += 1
    return folded


def _eager(model: nn.Module, device: torch.device) -> Callable[[torch.Tensor], torch.Tensor]:
    snapshot = copy.deepcopy(model).eval().to(device)
    return lambda x: snapshot(x.contiguous())


def _fused(model: nn.Module, device: torch.device) -> Callable[[torch.Tensor], torch.Tensor]:
    snapshot = copy.deepcopy(model).eval().to(device)
    fold_batchnorm(snapshot)
    # oneDNN runs convolutions natively in NHWC; NCHW costs a reorder around every conv.
    snapshot = snapshot.to(memory_format=torch.channels_last)
    return lambda x: snapshot(x.contiguous(memory_format=torch.channels_last))


def _onnxruntime(model: nn.Module, device: torch.device) -> Callable[[torch.Tensor], torch.Tensor]:
    if device.type != "cpu":
        raise ValueError(f"backend 'onnxruntime' runs on the CPU only, not {device}")
    ort: Any = importlib.import_module("onnxruntime")  # optional; untyped
    snapshot = copy.deepcopy(model).eval()
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        # torch 2.14 marks the TorchScript exporter deprecated; the torch.export one needs
        # onnxscript and takes ~10x longer (5 s) for the same graph and speed.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            snapshot,
            (torch.zeros(1, 3, 64, 64),),
            Path(tmp) / "model.onnx",
            dynamo=False,
            input_names=["images"],
            output_names=["logits"],
            dynamic_axes={"images": {0: "batch", 2: "height", 3: "width"}, "logits": {0: "batch"}},
            opset_version=17,
        )
        graph = (Path(tmp) / "model.onnx").read_bytes()
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # No busy-waiting between runs: predict_proba's torch transform needs the same cores
    # (end to end, median 6.1 against 6.8 ms/image at 224 px, batch 32, 2 cores).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def run(x: torch.Tensor) -> torch.Tensor:
        feed = {"images": x.detach().float().contiguous().numpy()}
        return torch.from_numpy(session.run(["logits"], feed)[0])

    return run


class Predictor:
    """Class-1 probabilities from normalised images, via one backend (see the module doc).

    Call with (B, 3, H, W) float32 ImageNet-normalised images; returns (B,) float32
    ``softmax(logits)[:, 1]``, the melanocytic probability.
    """

    def __init__(
        self, model: nn.Module, backend: Backend = "fused", device: torch.device | str = "cpu"
    ) -> None:
        """Snapshot ``model`` (weights and buffers as of now) for ``backend`` on ``device``.

        Raises:
            ValueError: Unknown backend.
            ImportError: ``"onnxruntime"`` asked for but ``onnxruntime``/``onnx`` missing.
        """
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if backend == "auto":
            backend = "onnxruntime" if onnxruntime_available() else "fused"
        if backend == "onnxruntime" and not onnxruntime_available():
            raise ImportError("backend 'onnxruntime' needs the onnxruntime and onnx packages")
        self.backend: str = backend
        self.device = torch.device(device)
        builders = {"eager": _eager, "fused": _fused, "onnxruntime": _onnxruntime}
        # no_grad, not inference_mode: folded weights made under inference mode fail later.
        with torch.no_grad():
            self._logits = builders[backend](model, self.device)

    @torch.inference_mode()
    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C) float32 logits for (B, 3, H, W) float32 normalised images."""
        if x.ndim != 4 or x.shape[1] != 3 or x.dtype != torch.float32:
            raise ValueError(
                f"expected (B, 3, H, W) float32 images, got {tuple(x.shape)} {x.dtype}"
            )
        return self._logits(x)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """(B,) float32 class-1 probabilities for (B, 3, H, W) float32 normalised images."""
        return torch.softmax(self.logits(x), dim=1)[:, 1]


def predict_proba(
    model: nn.Module | Predictor,
    images: NDArray[np.uint8] | CacheRows,
    batch_size: int = 32,
    backend: Backend = "fused",
    device: torch.device | str = "cpu",
) -> NDArray[np.float32]:
    """Melanocytic probabilities (N,) float32 for (N, S, S, 3) uint8 RGB cache images.

    Applies :func:`eval_transform` batch by batch. The caller's module is not modified.

    Args:
        model: The classifier, or a :class:`Predictor` already built from it (reused as is;
            ``backend`` is then ignored).
        images: Preprocessed images, e.g. a cache memory map.
        batch_size: Images per forward pass.
        backend: See the module docstring.
        device: Where the transform and the forward passes run (the scores come back to
            the CPU).

    Raises:
        ValueError: Bad image array or batch size.
    """
    check_images(images)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    out = np.empty(len(images), np.float32)
    if not len(images):
        return out
    predictor = model if isinstance(model, Predictor) else Predictor(model, backend, device)
    for start in range(0, len(images), batch_size):
        batch = eval_transform(images[start : start + batch_size], predictor.device)
        out[start : start + batch_size] = predictor(batch).float().cpu().numpy()
    return out
