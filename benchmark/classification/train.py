"""The paper's classifier training protocol (section 3.3.3), from the cache.

Backbone frozen for ``freeze_epochs`` epochs, then all layers; Adam (0.9, 0.999) with weight
decay; weighted cross-entropy; gradient-norm clipping; ReduceLROnPlateau on validation AUC
(or, ``schedule: one_cycle``, a warm-up and cosine decay over every step of ``max_epochs``);
early stopping on validation AUC; the weights of the best validation AUC are kept. Weights
come from ``seed_everything(seed)``, batch order of epoch ``e`` from ``derive_rng(seed, e)``,
augmentations as ``cfg.augment_rng`` says (:mod:`benchmark.classification.data`): the same
seed and thread count repeat a run exactly.

Devices, mixed precision and processes go through :class:`benchmark.core.devices.Runner`.
Batches are read from the cache memory map by a DataLoader (``cfg.workers`` readers, pinned
memory on a GPU). Under ``accelerate launch`` each global batch of ``cfg.batch_size`` is split
between the processes and every local loss is weighted by its share of the batch's image
weights (class weight x sample weight), so the averaged gradient is the global batch's;
validation is sharded and gathered, so every process steps the scheduler and early stopping
on the same AUC.

What several CPU processes cannot repeat exactly (``tests/classification/test_parallel.py``):
BatchNorm statistics of a training backbone are per process (SyncBatchNorm needs GPUs;
on GPUs it is used), and dropout masks are drawn per process. With a frozen backbone and
no dropout two processes repeat one within float rounding.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from tqdm import tqdm

from benchmark.classification.data import SeededAugment, normalise, train_batch, train_transform
from benchmark.classification.inference import predict_proba
from benchmark.classification.model import (
    build_model,
    keep_frozen_backbone_in_eval,
    set_backbone_trainable,
)
from benchmark.core.batches import CacheRows, batch_loader
from benchmark.core.config.downstream import ClassifyConfig
from benchmark.core.devices import Runner, choose_device
from benchmark.core.seeding import derive_rng, seed_everything
from benchmark.core.training import check_finite
from benchmark.metrics.classification import auc, weighted_log_loss

U8 = NDArray[np.uint8]
I64 = NDArray[np.int64]
Images = U8 | CacheRows  # (N, S, S, 3) uint8: an array, or rows of the cache memory map


@dataclass(frozen=True)
class ClassifierFit:
    """A trained classifier and its record.

    Attributes:
        model: The model with the weights of the best validation AUC (eval mode).
        history: One dict per epoch: ``epoch``, ``frozen`` (1/0), ``lr``, ``train_loss``,
            ``train_accuracy``, ``val_loss``, ``val_accuracy``, ``val_auc``, ``best`` (1/0).
        best_epoch: Epoch (1-based) whose weights were kept.
        stopped_early: Whether early stopping ended training before ``max_epochs``.
        seconds: Wall time.
    """

    model: nn.Module
    history: list[dict[str, float]]
    best_epoch: int
    stopped_early: bool
    seconds: float


def predict_sharded(
    runner: Runner, model: nn.Module, images: Images, batch_size: int
) -> NDArray[np.float32]:
    """(N,) melanocytic probabilities, each process predicting its share, gathered."""
    n = len(images)
    rows = runner.local(np.arange(n, dtype=np.int64))
    part = images[rows] if runner.world > 1 else images
    scores = predict_proba(model, part, batch_size=batch_size, device=runner.device)
    return runner.gather(scores, n)


def validate(
    model: nn.Module, val: tuple[Images, I64], cfg: ClassifyConfig, runner: Runner
) -> tuple[float, float, float]:
    """Validation loss, accuracy (at 0.5) and AUC with the eval transform (every process)."""
    scores = predict_sharded(runner, model, val[0], cfg.batch_size)
    loss = weighted_log_loss(val[1], scores, cfg.class_weights)
    return loss, float(np.mean((scores >= 0.5) == val[1])), auc(val[1], scores)


def batches(order: I64, batch_size: int) -> list[I64]:
    """Consecutive batches of ``order``, each sorted (memory maps read faster in order).

    A last batch under half the size joins the one before, so no step (and no BatchNorm
    update) rests on one or two images.
    """
    starts = list(range(0, len(order), batch_size))
    if len(starts) > 1 and len(order) - starts[-1] < batch_size / 2:
        starts.pop()
    ends = [*starts[1:], len(order)]
    return [np.sort(order[a:b]) for a, b in zip(starts, ends, strict=True)]


@dataclass(frozen=True)
class _Parts:
    """What every step of a run uses."""

    optimizer: Any
    step_schedule: Any  # a schedule stepped after every optimizer step, or None
    criterion: nn.Module  # per-image cross-entropy (no reduction)
    transform: Any  # the host transform of the ``stream`` augmentation
    runner: Runner
    weights: NDArray[np.float64]  # (N,) loss weight per training position: class x sample


def _loader(
    train: tuple[Images, I64], cfg: ClassifyConfig, runner: Runner, seed: int, epoch: int
) -> tuple[list[I64], Any]:
    """This epoch's global batches and a loader of this process's share of each."""
    order = derive_rng(seed, epoch).permutation(len(train[1]))
    global_batches = batches(order, cfg.batch_size)
    seeded = cfg.augment and cfg.augment_rng == "per_image"
    size = train[0].shape[1]
    transform = SeededAugment(size, seed, epoch, cfg.augmentation) if seeded else None
    loader = batch_loader(
        [train[0]],
        [runner.local(rows) for rows in global_batches],
        transform=transform,
        workers=cfg.workers,
        pin_memory=runner.device.type == "cuda",
    )
    return global_batches, loader


def _inputs(images: torch.Tensor, parts: _Parts, seeded: bool) -> torch.Tensor:
    """A loaded uint8 batch -> normalised float on the device, channels-last."""
    if seeded:  # augmented in the loader: (B, 3, S, S) uint8
        x = normalise(images.to(parts.runner.device, non_blocking=True))
    else:  # (B, S, S, 3) uint8, augmented here from torch's stream
        x = train_batch(images.numpy(), parts.transform).to(parts.runner.device)
    # oneDNN trains NHWC natively (about 1.6x faster on 2 cores than NCHW reorders).
    return x.contiguous(memory_format=torch.channels_last)


def _epoch(
    model: nn.Module,
    train: tuple[Images, I64],
    parts: _Parts,
    cfg: ClassifyConfig,
    epoch: tuple[int, int],
    where: str,
) -> tuple[float, float]:
    """One pass over ``train``; returns the mean loss and accuracy over all processes."""
    runner, weights = parts.runner, parts.weights
    global_batches, loader = _loader(train, cfg, runner, *epoch)
    seeded = cfg.augment and cfg.augment_rng == "per_image"
    total, correct = 0.0, 0
    for b, (rows, (images,)) in enumerate(zip(global_batches, loader, strict=True)):
        local = runner.local(rows)
        y = torch.from_numpy(train[1][local]).to(runner.device)
        w = torch.from_numpy(weights[local]).to(runner.device, torch.float32)
        with runner.autocast():
            logits = model(_inputs(images, parts, seeded))
            # This process's part of the global batch's weighted mean; the all-reduce
            # averages over processes, hence the factor world.
            per_image = parts.criterion(logits, y).float()
            loss = (per_image * w).sum() * (runner.world / float(weights[rows].sum()))
        check_finite(loss.item(), f"in {where}, epoch batch {b + 1}")
        parts.optimizer.zero_grad(set_to_none=True)
        runner.backward(loss)
        runner.sync_gradients(model)
        runner.clip(model, cfg.grad_clip)
        parts.optimizer.step()
        if parts.step_schedule is not None:
            parts.step_schedule.step()
        total += loss.item() * len(rows) / runner.world  # summed over processes below
        correct += int((logits.argmax(1) == y).sum())
    n = len(train[1])
    return runner.total(total) / n, runner.total(correct) / n


@dataclass
class _Best:
    """The best validation AUC so far, its weights and the epochs since it improved."""

    auc: float = -np.inf
    epoch: int = 0
    waited: int = 0
    state: dict[str, Any] | None = None

    def update(self, model: nn.Module, auc_value: float, epoch: int) -> bool:
        if auc_value > self.auc:
            self.auc, self.epoch, self.waited = auc_value, epoch, 0
            self.state = copy.deepcopy(model.state_dict())
            return True
        self.waited += 1
        return False


def _setup(
    model: nn.Module, cfg: ClassifyConfig, runner: Runner, size: int, weights: NDArray[np.float64]
) -> tuple[Any, _Parts]:
    """The epoch scheduler on validation AUC (or None), and what every step uses."""
    optimizer = torch.optim.Adam(
        model.parameters(), lr=cfg.learning_rate, betas=(0.9, 0.999), weight_decay=cfg.weight_decay
    )
    scheduler, step_schedule = None, None
    if cfg.schedule == "one_cycle":
        steps = cfg.max_epochs * len(batches(np.arange(len(weights)), cfg.batch_size))
        step_schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=cfg.learning_rate, total_steps=steps
        )
    else:
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer,
            mode="max",
            factor=cfg.plateau_factor,
            patience=cfg.plateau_patience,
            min_lr=cfg.min_learning_rate,
        )
    parts = _Parts(
        runner.wrap(optimizer),
        step_schedule,
        nn.CrossEntropyLoss(reduction="none"),
        train_transform(size, cfg.augment, cfg.augmentation),
        runner,
        weights,
    )
    return scheduler, parts


def train_classifier(
    train: tuple[Images, I64],
    val: tuple[Images, I64],
    cfg: ClassifyConfig,
    seed: int,
    desc: str,
    runner: Runner | None = None,
    sample_weights: NDArray[np.float64] | None = None,
) -> ClassifierFit:
    """Train one classifier under the paper's protocol.

    Args:
        train: (N, S, S, 3) uint8 cache images (an array or :class:`CacheRows` of the cache
            memory map) and (N,) int64 labels (1 = melanocytic).
        val: The same for validation; it must hold both classes (its AUC steers training).
        cfg: The protocol, device and precision.
        seed: This run's seed.
        desc: Progress-bar label.
        runner: Devices and processes (default: from ``cfg.device``/``cfg.mixed_precision``).
        sample_weights: (N,) loss weight per training image (e.g. inverse tone-group
            frequency), multiplied with the class weight; None weighs images equally.

    Returns:
        The fit; its model is on the CPU, in eval mode, identical on every process.

    Raises:
        ValueError: If validation lacks a class.
        benchmark.core.config.base.ConfigError: ``device: cuda`` without a GPU.
        benchmark.core.training.NonFiniteLossError: On a NaN/inf loss.
    """
    if len(np.unique(val[1])) < 2:
        raise ValueError("validation holds one class only: its AUC cannot steer training")
    if runner is None:
        runner = Runner(choose_device(cfg.device, cfg.mixed_precision, param="classify"))
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    seed_everything(seed)
    model = build_model(cfg.weights, dropout=cfg.dropout, architecture=cfg.architecture)
    model = model.to(memory_format=torch.channels_last)
    model = runner.place(model)
    weights = np.asarray(cfg.class_weights, np.float64)[train[1]]
    if sample_weights is not None:
        if sample_weights.shape != weights.shape or not (sample_weights > 0).all():
            raise ValueError(
                f"sample_weights must be {weights.shape[0]} positive values, got shape "
                f"{sample_weights.shape}"
            )
        weights = weights * sample_weights
    scheduler, parts = _setup(model, cfg, runner, train[0].shape[1], weights)
    history: list[dict[str, float]] = []
    best, start = _Best(), time.perf_counter()
    bar = tqdm(range(1, cfg.max_epochs + 1), desc=desc, unit="epoch", disable=not runner.is_main)
    for epoch in bar:
        frozen = epoch <= cfg.freeze_epochs
        set_backbone_trainable(model, not frozen)
        model.train()
        keep_frozen_backbone_in_eval(model)  # a frozen backbone keeps its BN statistics
        loss, accuracy = _epoch(model, train, parts, cfg, (seed, epoch), f"{desc}, epoch {epoch}")
        runner.sync_buffers(model)
        lr = parts.optimizer.param_groups[0]["lr"]
        val_loss, val_accuracy, val_auc = validate(model, val, cfg, runner)
        if scheduler is not None:
            scheduler.step(val_auc)
        improved = best.update(model, val_auc, epoch)
        history.append(
            {
                "epoch": epoch,
                "frozen": int(frozen),
                "lr": lr,
                "train_loss": loss,
                "train_accuracy": accuracy,
                "val_loss": val_loss,
                "val_accuracy": val_accuracy,
                "val_auc": val_auc,
                "best": int(improved),
            }
        )
        if best.waited >= cfg.early_stopping:
            break
    assert best.state is not None  # epoch 1 always improves on -inf
    model.load_state_dict(best.state)
    stopped = len(history) < cfg.max_epochs
    seconds = time.perf_counter() - start
    return ClassifierFit(model.cpu().eval(), history, best.epoch, stopped, seconds)
