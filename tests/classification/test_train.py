"""The paper's training protocol on a tiny fixture, with validation AUC scripted."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pytest
import torch

from benchmark.classification import train as train_module
from benchmark.classification.inference import predict_proba
from benchmark.classification.train import train_classifier
from benchmark.core.config.downstream import ClassifyConfig
from benchmark.core.training import NonFiniteLossError
from benchmark.metrics.classification import auc
from tests.support.config import default


def tiny_data(n: int = 16, size: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    images = rng.integers(0, 255, (n, size, size, 3)).astype(np.uint8)
    images[labels == 1, 8:24, 8:24] //= 3  # melanocytic: a dark centre
    return images, labels.astype(np.int64)


# The paper's recipe (plateau schedule on validation AUC, its augmentations, EfficientNet-B0).
CFG = default(
    ClassifyConfig,
    architecture="efficientnet_b0",
    schedule="plateau",
    augmentation="paper",
    max_epochs=6,
    freeze_epochs=3,
    batch_size=8,
    learning_rate=1e-3,
    plateau_patience=1,
    early_stopping=10,
    threads=1,
)


@dataclass
class Script:
    """AUCs the fake validation returns, epoch by epoch, and the weights it saw."""

    aucs: list[float] = field(default_factory=list)
    states: list[dict[str, torch.Tensor]] = field(default_factory=list)


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> Script:
    """Replace validation by a script of AUCs (loss falls steadily, accuracy fixed)."""
    script = Script()

    def fake(
        model: torch.nn.Module, val: object, cfg: object, runner: object
    ) -> tuple[float, float, float]:
        script.states.append({k: v.clone() for k, v in model.state_dict().items()})
        k = len(script.states) - 1
        return 1.0 / (k + 1), 0.5, script.aucs[k]

    monkeypatch.setattr(train_module, "validate", fake)
    return script


def test_backbone_frozen_for_exactly_freeze_epochs(
    scripted: Script, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted.aucs += [0.6, 0.61, 0.62, 0.63, 0.64, 0.65]
    calls: list[bool] = []
    real = train_module.set_backbone_trainable

    def spy(model: torch.nn.Module, trainable: bool) -> None:
        calls.append(trainable)
        real(model, trainable)

    monkeypatch.setattr(train_module, "set_backbone_trainable", spy)
    fit = train_classifier(tiny_data(), tiny_data(8, seed=1), CFG, seed=0, desc="t")
    assert [h["frozen"] for h in fit.history] == [1, 1, 1, 0, 0, 0]
    assert calls == [False, False, False, True, True, True]


def test_scheduler_follows_validation_auc_not_loss(scripted: Script) -> None:
    scripted.aucs += [0.6, 0.7, 0.7, 0.7, 0.7, 0.7]  # loss keeps falling; AUC stalls after epoch 2
    fit = train_classifier(tiny_data(), tiny_data(8, seed=1), CFG, seed=0, desc="t")
    lrs = [h["lr"] for h in fit.history]
    # patience 1: epochs 3 and 4 do not improve -> halved after epoch 4, again after epoch 6
    assert lrs == pytest.approx([1e-3, 1e-3, 1e-3, 1e-3, 5e-4, 5e-4])


def test_early_stopping_and_best_auc_checkpoint(scripted: Script) -> None:
    scripted.aucs += [0.6, 0.8, 0.7, 0.75, 0.9, 0.95]
    cfg = default(ClassifyConfig, **{**CFG.__dict__, "early_stopping": 2})
    fit = train_classifier(tiny_data(), tiny_data(8, seed=1), cfg, seed=0, desc="t")
    assert len(fit.history) == 4
    assert fit.stopped_early
    assert fit.best_epoch == 2
    assert [h["best"] for h in fit.history] == [1, 1, 0, 0]
    kept = scripted.states[1]
    for name, value in fit.model.state_dict().items():
        assert torch.equal(value, kept[name]), name


def test_same_seed_and_threads_give_identical_predictions() -> None:
    cfg = default(ClassifyConfig, **{**CFG.__dict__, "max_epochs": 2, "freeze_epochs": 1})
    images, _ = tiny_data(8, seed=3)
    runs = [
        train_classifier(tiny_data(), tiny_data(8, seed=1), cfg, seed=7, desc="t") for _ in "ab"
    ]
    a, b = (predict_proba(r.model, images, batch_size=4) for r in runs)
    assert np.array_equal(a, b)
    other = train_classifier(tiny_data(), tiny_data(8, seed=1), cfg, seed=8, desc="t")
    assert not np.array_equal(a, predict_proba(other.model, images, batch_size=4))


def test_nan_loss_and_one_class_validation_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    images, labels = tiny_data(8, seed=1)
    with pytest.raises(ValueError, match="one class"):
        train_classifier(tiny_data(), (images, np.zeros_like(labels)), CFG, seed=0, desc="t")
    monkeypatch.setattr(
        train_module.nn, "CrossEntropyLoss", lambda **kw: lambda x, y: x.sum() * float("nan")
    )
    with pytest.raises(NonFiniteLossError, match="epoch 1"):
        train_classifier(tiny_data(), (images, labels), CFG, seed=0, desc="t")


def test_a_small_last_batch_joins_the_one_before() -> None:
    from benchmark.classification.train import batches

    assert [len(b) for b in batches(np.arange(9), 4)] == [4, 5]  # 1 left over: joins
    assert [len(b) for b in batches(np.arange(10), 4)] == [4, 4, 2]  # 2 is half: stays
    assert [len(b) for b in batches(np.arange(3), 4)] == [3]
    parts = batches(np.arange(9)[::-1], 4)
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(9))
    assert all((np.diff(p) > 0).all() for p in parts)


def test_nan_loss_under_mixed_precision_names_epoch_and_batch() -> None:
    cfg = replace(CFG, mixed_precision="bf16", learning_rate=1e30, max_epochs=2)
    with pytest.raises(NonFiniteLossError, match=r"epoch 1, epoch batch \d"):
        train_classifier(tiny_data(), tiny_data(8, seed=1), cfg, seed=0, desc="t")


def test_sample_weights_of_one_change_nothing_and_wrong_ones_are_refused() -> None:
    train, val = tiny_data(), tiny_data(8, seed=1)
    plain = train_classifier(train, val, CFG, seed=0, desc="t")
    ones = train_classifier(
        train, val, CFG, seed=0, desc="t", sample_weights=np.ones(len(train[1]))
    )
    assert [h["train_loss"] for h in ones.history] == [h["train_loss"] for h in plain.history]
    heavy = np.where(train[1] == 1, 5.0, 1.0)  # weighs melanocytic images as class weights would
    weighted = train_classifier(train, val, CFG, seed=0, desc="t", sample_weights=heavy)
    assert weighted.history[0]["train_loss"] != plain.history[0]["train_loss"]
    with pytest.raises(ValueError, match="positive values"):
        train_classifier(train, val, CFG, seed=0, desc="t", sample_weights=np.ones(3))


def test_one_cycle_warms_up_then_anneals_whatever_validation_says(scripted: Script) -> None:
    scripted.aucs += [0.6, 0.6, 0.6, 0.6, 0.6, 0.6]  # a plateau schedule would halve here
    cfg = replace(CFG, schedule="one_cycle", freeze_epochs=0)
    fit = train_classifier(tiny_data(), tiny_data(8, seed=1), cfg, seed=0, desc="t")
    lrs = [h["lr"] for h in fit.history]
    peak = int(np.argmax(lrs))
    assert 0 < peak < len(lrs) - 1  # up over the first 30% of the steps, then down
    assert max(lrs) <= cfg.learning_rate
    assert lrs[-1] < 0.05 * cfg.learning_rate  # annealed towards the last step


def test_phantom_cnn_with_geometric_augmentation_learns_a_dark_centre() -> None:
    cfg = replace(
        CFG, architecture="phantom_cnn", schedule="one_cycle", augmentation="geometric",
        freeze_epochs=0, max_epochs=12, learning_rate=3e-3, early_stopping=12,
    )  # fmt: skip
    val = tiny_data(24, size=64, seed=1)
    fit = train_classifier(tiny_data(48, size=64), val, cfg, seed=0, desc="t")
    scores = predict_proba(fit.model, val[0], batch_size=8)
    assert auc(val[1], scores) == pytest.approx(max(h["val_auc"] for h in fit.history))
    assert auc(val[1], scores) > 0.9
