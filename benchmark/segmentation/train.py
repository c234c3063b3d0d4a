"""Training of the paper FCN from the preprocessing cache: BCE, Adam, fixed epochs.

Batches are read straight from the memory-mapped cache by a DataLoader (``cfg.workers``
readers, pinned memory on a GPU), so an epoch costs the forward and backward passes only.
Weights come from ``seed_everything(seed)``, the batch order and flips of epoch ``e`` from
``derive_rng(seed, e)``: both variants start from the same weights and a rerun with the
same thread count repeats the run exactly.

Devices, mixed precision and processes go through :class:`benchmark.core.devices.Runner`:
under ``accelerate launch`` each global batch is split between the processes, each local
loss weighted by its share, gradients averaged, and validation sharded and gathered. The
FCN has no BatchNorm and no dropout, so two CPU processes repeat one within float rounding.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from numpy.typing import NDArray
from tqdm import tqdm

from benchmark.core.batches import CacheRows, batch_loader
from benchmark.core.config.downstream import SegmentConfig
from benchmark.core.devices import Runner, choose_device
from benchmark.core.seeding import derive_rng, seed_everything
from benchmark.core.training import check_finite
from benchmark.metrics.segmentation import confusion
from benchmark.segmentation.fcn import PaperFCN, predict, to_input

U8 = NDArray[np.uint8]
Arrays = U8 | CacheRows  # (N, S, S, 3) images or (N, S, S) masks, in memory or memory-mapped


@dataclass(frozen=True)
class FitResult:
    """A trained FCN and its per-epoch record.

    Attributes:
        model: The model after the last epoch (the paper trains a fixed 30 epochs).
        history: One dict per epoch: ``epoch``, ``train_loss``, ``val_loss``, ``val_dice``.
        seconds: Wall time of training.
    """

    model: PaperFCN
    history: list[dict[str, float]]
    seconds: float


def _batch(
    x: U8, y: U8, flips: NDArray[np.bool_] | None, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply optional (horizontal, vertical) flips per image; model input and target."""
    if flips is not None:
        x, y = x.copy(), y.copy()
        for i, (flip_h, flip_v) in enumerate(flips):
            if flip_h:
                x[i], y[i] = x[i, :, ::-1], y[i, :, ::-1]
            if flip_v:
                x[i], y[i] = x[i, ::-1], y[i, ::-1]
    target = torch.from_numpy((y > 127).astype(np.float32))[:, None]
    return to_input(x).to(device), target.to(device)


def _weighted_mean(values: list[float], weights: list[int], runner: Runner) -> float:
    """``np.average(values, weights)`` over every process's values."""
    v, w = np.asarray(values, np.float64), np.asarray(weights, np.float64)
    return runner.total(float(np.multiply(v, w).sum())) / runner.total(float(w.sum()))


@torch.no_grad()
def evaluate_loss(
    model: PaperFCN,
    images: Arrays,
    masks: Arrays,
    threshold: float,
    batch_size: int,
    runner: Runner | None = None,
) -> tuple[float, float]:
    """Mean BCE and mean per-image Dice (images with an empty truth and prediction skipped).

    With several processes each scores its share and the results are gathered.
    """
    if len(images) == 0:
        return np.nan, np.nan  # no validation image with a mask: nothing to report
    runner = runner or Runner(choose_device("cpu", "no", param="segment"))
    model.eval()
    rows = runner.local(np.arange(len(images), dtype=np.int64))
    losses, weights, dice = [], [], np.full(len(rows), np.nan)
    for start in range(0, len(rows), batch_size):
        part = rows[start : start + batch_size]
        x, y = _batch(np.asarray(images[part]), np.asarray(masks[part]), None, runner.device)
        losses.append(float(F.binary_cross_entropy_with_logits(model(x), y)))
        weights.append(len(x))
        pred = predict(model, np.asarray(images[part]), threshold, batch_size, runner.device)
        for i, (truth, guess) in enumerate(zip(np.asarray(masks[part]), pred, strict=True)):
            tp, fp, fn, _ = confusion(truth, guess)
            if tp + fp + fn:
                dice[start + i] = 2 * tp / (2 * tp + fp + fn)
    loss = _weighted_mean(losses, weights, runner) if runner.world > 1 else None
    if loss is None:
        loss = float(np.average(losses, weights=weights))
    kept = runner.gather(dice, len(images))
    kept = kept[~np.isnan(kept)]
    return loss, float(np.mean(kept)) if len(kept) else np.nan


def _plan(n: int, cfg: SegmentConfig, epoch: int) -> list[tuple[NDArray[np.int64], Any]]:
    """Epoch ``epoch``'s global batches (rows ascending: sequential reads) and their flips."""
    rng = derive_rng(cfg.seed, epoch)
    order = rng.permutation(n)
    plan = []
    for first in range(0, n, cfg.batch_size):
        rows = np.sort(order[first : first + cfg.batch_size])
        plan.append((rows, rng.random((len(rows), 2)) < 0.5 if cfg.flips else None))
    return plan


def _epoch(
    model: PaperFCN,
    train: tuple[Arrays, Arrays],
    parts: tuple[Any, Runner],
    cfg: SegmentConfig,
    epoch: int,
    desc: str,
) -> float:
    """One pass over ``train``; the mean training loss over every process."""
    optimizer, runner = parts
    plan = _plan(len(train[0]), cfg, epoch)
    shares = [runner.local(np.arange(len(rows))) for rows, _ in plan]
    loader = batch_loader(
        list(train),
        [rows[share] for (rows, _), share in zip(plan, shares, strict=True)],
        workers=cfg.workers,
        pin_memory=runner.device.type == "cuda",
    )
    total = 0.0
    for b, ((rows, flips), share, (x8, y8)) in enumerate(zip(plan, shares, loader, strict=True)):
        local_flips = None if flips is None else flips[share]
        x, y = _batch(x8.numpy(), y8.numpy(), local_flips, runner.device)
        with runner.autocast():
            loss = F.binary_cross_entropy_with_logits(model(x).float(), y)
        if runner.world > 1:  # this process's share of the global batch's mean
            loss = loss * (len(share) / len(rows) * runner.world)
        check_finite(loss.item(), f"in epoch {epoch + 1}, batch {b + 1} ({desc})")
        optimizer.zero_grad(set_to_none=True)
        runner.backward(loss)
        runner.sync_gradients(model)
        optimizer.step()
        total += loss.item() * len(rows) / runner.world  # summed over processes below
    return runner.total(total) / len(train[0])


def train_fcn(
    train: tuple[Arrays, Arrays],
    val: tuple[Arrays, Arrays],
    cfg: SegmentConfig,
    desc: str = "fcn",
    runner: Runner | None = None,
) -> FitResult:
    """Train a :class:`PaperFCN` on (images, masks) arrays; validate after every epoch.

    Args:
        train: (N, S, S, 3) uint8 images and (N, S, S) uint8 {0, 255} masks (arrays, or
            :class:`CacheRows` of the cache memory maps).
        val: The same for validation (loss and Dice per epoch; nothing is selected on it).
        cfg: Epochs, batch size, learning rate, flips, seed, threads, device, precision.
        desc: Progress-bar label.
        runner: Devices and processes (default: from ``cfg.device``/``cfg.mixed_precision``).

    Returns:
        The fit; its model is on the CPU, identical on every process.

    Raises:
        benchmark.core.config.base.ConfigError: ``device: cuda`` without a GPU.
        benchmark.core.training.NonFiniteLossError: On a NaN/inf loss, naming epoch and batch.
    """
    if len(train[0]) == 0:
        raise ValueError("no training images with masks")
    if runner is None:
        runner = Runner(choose_device(cfg.device, cfg.mixed_precision, param="segment"))
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    model = PaperFCN().to(memory_format=torch.channels_last)
    runner.place(model)  # in place: the FCN has no BatchNorm to convert
    optimizer = runner.wrap(torch.optim.Adam(model.parameters(), lr=cfg.learning_rate))
    history: list[dict[str, float]] = []
    start = time.perf_counter()
    bar = tqdm(range(cfg.epochs), desc=desc, unit="epoch", disable=not runner.is_main)
    for epoch in bar:
        model.train()
        train_loss = _epoch(model, train, (optimizer, runner), cfg, epoch, desc)
        val_loss, val_dice = evaluate_loss(model, *val, cfg.threshold, cfg.batch_size, runner)
        history.append(
            {
                "epoch": epoch + 1,
                "train_loss": train_loss,
                "val_loss": val_loss,
                "val_dice": val_dice,
            }
        )
        bar.set_postfix(loss=f"{train_loss:.4f}", val_dice=f"{val_dice:.3f}")
    model.cpu()
    return FitResult(model, history, time.perf_counter() - start)
