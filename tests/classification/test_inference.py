from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from benchmark.classification import inference
from benchmark.classification.inference import (
    PROB_TOLERANCE,
    Predictor,
    eval_transform,
    fold_batchnorm,
    onnxruntime_available,
    predict_proba,
)
from benchmark.classification.model import build_model
from benchmark.core.training import IMAGENET_MEAN, IMAGENET_STD

FAST = [
    "fused",
    pytest.param(
        "onnxruntime",
        marks=pytest.mark.skipif(
            not onnxruntime_available(), reason="onnxruntime and onnx not installed"
        ),
    ),
]


def calibrated_model(size: int = 64, seed: int = 0) -> nn.Module:
    """A "none" model whose outputs depend on the input, as a trained one's do.

    Random BatchNorm affine parameters, running statistics estimated from random ``size`` px
    images (far from the 0/1 defaults), and the last layer scaled and centred so
    probabilities spread around 0.5 at that size. Freshly initialised, every image gets the
    same probability to 4 decimals; at another size than the calibration's, probabilities
    saturate.
    """
    torch.manual_seed(seed)
    model = build_model("none")
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
                module.momentum = None  # running statistics = plain average over batches
        model.train()
        for _ in range(3):
            model(torch.randn(8, 3, size, size))
        model.eval()
        # Scale, then centre, the last layer: class-1 logit margins of about N(0, 2^2).
        last, x = model.classifier[3], torch.randn(16, 3, size, size)

        def margin() -> torch.Tensor:
            logits = model(x)
            return logits[:, 1] - logits[:, 0]

        last.weight *= 2.0 / margin().std()
        last.bias[1] -= margin().mean()
    return model


@pytest.fixture(scope="module")
def model() -> nn.Module:
    return calibrated_model()


@pytest.fixture(scope="module")
def model224() -> nn.Module:
    return calibrated_model(224)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    """Twelve 64 px 'cache' images: smooth random blobs over noise."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (12, 8, 8, 3)).astype(np.float32)
    smooth = base.repeat(8, axis=1).repeat(8, axis=2)
    noisy = smooth + rng.normal(0, 20, smooth.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("size", [224, 128])
def test_eval_transform_shape_and_values(size: int) -> None:
    flat = np.full((2, size, size, 3), (255, 128, 0), np.uint8)
    x = eval_transform(flat)
    assert x.shape == (2, 3, size, size)
    assert x.dtype == torch.float32
    assert x.is_contiguous()
    rgb = torch.tensor([255.0, 128.0, 0.0]) / 255
    expected = (rgb - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
    assert torch.allclose(x, expected.view(1, 3, 1, 1).expand_as(x), atol=1e-5)


@pytest.mark.parametrize("size", [224, 128, 96])  # resized minus size is even: a true centre
def test_eval_transform_crops_the_centre(size: int) -> None:
    rng = np.random.default_rng(size)
    image = rng.integers(0, 256, (1, size, size, 3), dtype=np.uint8)
    # Centre crop commutes with flips; an off-centre crop would not.
    flipped = eval_transform(np.ascontiguousarray(image[:, ::-1, ::-1]))
    assert torch.allclose(flipped, eval_transform(image).flip(2, 3), atol=1e-4)


def test_eval_transform_zooms_by_256_over_224() -> None:
    # A 224 px image with a 32 px black border: resized to 256 the border is 36.6 px, and the
    # 16 px crop leaves 20.6 px of it.
    image = np.full((1, 224, 224, 3), 255, np.uint8)
    image[:, :32], image[:, -32:], image[:, :, :32], image[:, :, -32:] = 0, 0, 0, 0
    row = eval_transform(image)[0, 0, 112]
    dark = (row < row.mean()).nonzero().flatten()
    assert (dark < 112).sum() in (20, 21)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((2, 32, 32, 4), np.uint8),
        np.zeros((2, 32, 32, 3), np.float32),
        np.zeros((2, 32, 40, 3), np.uint8),
        np.zeros((32, 32, 3), np.uint8),
    ],
)
def test_bad_images_are_refused(bad: np.ndarray, model: nn.Module) -> None:
    with pytest.raises(ValueError, match="expected"):
        predict_proba(model, bad)


def test_fold_batchnorm_folds_all_49(model: nn.Module) -> None:
    import copy

    folded = copy.deepcopy(model)
    assert fold_batchnorm(folded) == 49
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(folded(x), model(x), atol=1e-4)


@pytest.mark.parametrize("backend", FAST)
def test_fast_path_equals_eager(backend: str, model: nn.Module, images: np.ndarray) -> None:
    eager = predict_proba(model, images, batch_size=5, backend="eager")
    assert eager.std() > 0.05  # the model is not constant: the comparison means something
    fast = predict_proba(model, images, batch_size=5, backend=backend)  # type: ignore[arg-type]
    assert fast.shape == (len(images),)
    assert fast.dtype == np.float32
    assert np.abs(fast - eager).max() < PROB_TOLERANCE


@pytest.mark.parametrize("backend", FAST)
def test_fast_path_equals_eager_at_224(backend: str, model224: nn.Module) -> None:
    x = torch.randn(4, 3, 224, 224)
    eager = Predictor(model224, "eager")(x)
    assert eager.std() > 0.05
    fast = Predictor(model224, backend)(x)  # type: ignore[arg-type]
    assert (fast - eager).abs().max() < PROB_TOLERANCE


@pytest.mark.parametrize("backend", ["eager", *FAST])
def test_probabilities_deterministic_and_batch_independent(
    backend: str, model: nn.Module, images: np.ndarray
) -> None:
    predictor = Predictor(model, backend)  # type: ignore[arg-type]
    first = predict_proba(predictor, images, batch_size=4)
    assert ((first >= 0) & (first <= 1)).all()
    assert np.array_equal(first, predict_proba(predictor, images, batch_size=4))
    for batch_size in (1, 5, 32):
        other = predict_proba(predictor, images, batch_size=batch_size)
        assert np.abs(other - first).max() < PROB_TOLERANCE


def test_probability_is_softmax_of_class_one(model: nn.Module) -> None:
    predictor = Predictor(model, "eager")
    x = torch.randn(3, 3, 64, 64)
    logits = predictor.logits(x)
    assert torch.allclose(predictor(x), torch.sigmoid(logits[:, 1] - logits[:, 0]), atol=1e-6)


def test_predictor_snapshots_and_leaves_the_model_alone(model: nn.Module) -> None:
    import copy

    live = copy.deepcopy(model).train()
    predictor = Predictor(live, "fused")
    x = torch.randn(2, 3, 64, 64)
    before = predictor(x)
    assert live.training
    assert any(isinstance(m, nn.BatchNorm2d) for m in live.modules())  # not folded in place
    with torch.no_grad():
        live.classifier[3].bias += 5.0
    assert torch.equal(predictor(x), before)


def test_backend_choice(monkeypatch: pytest.MonkeyPatch, model: nn.Module) -> None:
    expected = "onnxruntime" if onnxruntime_available() else "fused"
    assert Predictor(model).backend == expected
    with pytest.raises(ValueError, match="backend must be one of"):
        Predictor(model, "tensorrt")  # type: ignore[arg-type]
    monkeypatch.setattr(inference, "onnxruntime_available", lambda: False)
    assert Predictor(model).backend == "fused"
    with pytest.raises(ImportError, match="onnxruntime"):
        Predictor(model, "onnxruntime")


def test_empty_input_and_bad_batch(model: nn.Module) -> None:
    empty = predict_proba(model, np.zeros((0, 64, 64, 3), np.uint8))
    assert empty.shape == (0,)
    with pytest.raises(ValueError, match="batch_size"):
        predict_proba(model, np.zeros((1, 64, 64, 3), np.uint8), batch_size=0)
