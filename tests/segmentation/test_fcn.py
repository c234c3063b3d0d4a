from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from benchmark.core.config.downstream import SegmentConfig
from benchmark.core.training import NonFiniteLossError
from benchmark.segmentation import train as train_module
from benchmark.segmentation.fcn import PaperFCN, load_fcn, predict, save_fcn, to_input
from benchmark.segmentation.train import train_fcn
from tests.support.config import default


def squares(n: int, size: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Dark squares of random place and size on skin: an easy, exactly known task."""
    rng = np.random.default_rng(seed)
    images = np.tile(np.array((200, 160, 140), np.uint8), (n, size, size, 1))
    masks = np.zeros((n, size, size), np.uint8)
    for i in range(n):
        side = int(rng.integers(8, 16))
        y, x = rng.integers(0, size - side, 2)
        images[i, y : y + side, x : x + side] = (70, 45, 35)
        masks[i, y : y + side, x : x + side] = 255
    return images, masks


def test_architecture_is_the_papers() -> None:
    model = PaperFCN()
    convs = [m.out_channels for m in model.encoder if isinstance(m, torch.nn.Conv2d)]
    pools = [m for m in model.encoder if isinstance(m, torch.nn.MaxPool2d)]
    assert convs == [16, 32, 64]
    assert len(pools) == 3
    out = model(to_input(np.zeros((2, 40, 40, 3), np.uint8)))
    assert out.shape == (2, 1, 40, 40)
    with pytest.raises(ValueError, match="multiple of 8"):
        model(to_input(np.zeros((1, 36, 36, 3), np.uint8)))


def test_input_is_imagenet_normalised() -> None:
    x = to_input(np.full((1, 8, 8, 3), 255, np.uint8))
    assert torch.allclose(
        x[0, :, 0, 0], torch.tensor([(1 - 0.485) / 0.229, (1 - 0.456) / 0.224, (1 - 0.406) / 0.225])
    )


def test_training_learns_squares_and_repeats_exactly() -> None:
    torch.set_num_threads(1)
    images, masks = squares(48)
    cfg = default(SegmentConfig, epochs=25, batch_size=8, learning_rate=3e-3, seed=5)
    fit = train_fcn((images[:40], masks[:40]), (images[40:], masks[40:]), cfg, desc="t")
    assert len(fit.history) == 25
    assert fit.history[-1]["train_loss"] < fit.history[0]["train_loss"] / 3
    assert fit.history[-1]["val_dice"] > 0.8
    again = train_fcn((images[:40], masks[:40]), (images[40:], masks[40:]), cfg, desc="t")
    for (k, a), b in zip(
        fit.model.state_dict().items(), again.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), k


def test_saved_weights_give_identical_masks(tmp_path: Path) -> None:
    images, _ = squares(4)
    model = PaperFCN()
    save_fcn(model.to(memory_format=torch.channels_last), tmp_path / "m.safetensors")
    loaded = load_fcn(tmp_path / "m.safetensors")
    a, b = predict(model, images, 0.5), predict(loaded, images, 0.5)
    assert a.dtype == np.uint8
    assert set(np.unique(a).tolist()) <= {0, 255}
    assert np.array_equal(a, b)


def test_threshold_is_applied_to_probabilities() -> None:
    class Constant(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.zeros(x.shape[0], 1, *x.shape[2:])  # probability 0.5 everywhere

    images = np.zeros((2, 8, 8, 3), np.uint8)
    assert predict(Constant(), images, 0.4).all()
    assert not predict(Constant(), images, 0.6).any()


def test_nan_loss_stops_training_naming_epoch_and_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    images, masks = squares(8)
    calls = {"n": 0}
    real = train_module.F.binary_cross_entropy_with_logits

    def flaky(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        calls["n"] += 1
        loss = real(logits, target)
        return loss * float("nan") if calls["n"] == 2 else loss

    monkeypatch.setattr(train_module.F, "binary_cross_entropy_with_logits", flaky)
    cfg = default(SegmentConfig, epochs=2, batch_size=4)
    with pytest.raises(NonFiniteLossError, match=r"in epoch 1, batch 2"):
        train_fcn((images, masks), (images[:2], masks[:2]), cfg)


def test_no_training_images_is_an_error() -> None:
    empty = (np.zeros((0, 8, 8, 3), np.uint8), np.zeros((0, 8, 8), np.uint8))
    with pytest.raises(ValueError, match="no training images"):
        train_fcn(empty, empty, default(SegmentConfig, epochs=1))


def test_training_without_validation_masks_reports_nan() -> None:
    images, masks = squares(8)
    empty = (np.zeros((0, 32, 32, 3), np.uint8), np.zeros((0, 32, 32), np.uint8))
    fit = train_fcn((images, masks), empty, default(SegmentConfig, epochs=1, batch_size=4))
    assert np.isnan(fit.history[0]["val_loss"])
    assert np.isnan(fit.history[0]["val_dice"])
