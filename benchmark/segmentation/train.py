"""Training of the paper FCN from the preprocessing cache: BCE, Adam, fixed epochs.

Batches are gathered straight from the memory-mapped cache, so an epoch costs the forward
and backward passes only. Weights come from ``seed_everything(seed)`` and the batch order of
epoch ``e`` from ``derive_rng(seed, e)``: both variants start from the same weights and a
rerun with the same thread count repeats the run exactly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from numpy.typing import NDArray
from tqdm import tqdm

from benchmark.core.config.downstream import SegmentConfig
from benchmark.core.seeding import derive_rng, seed_everything
from benchmark.core.training import check_finite
from benchmark.metrics.segmentation import confusion
from benchmark.segmentation.fcn import PaperFCN, predict, to_input

U8 = NDArray[np.uint8]


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
    images: U8, masks: U8, rows: NDArray[np.int64], flips: NDArray[np.bool_] | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gather rows (sorted: memory maps read faster in order) and apply optional flips."""
    order = np.sort(rows)
    x, y = np.asarray(images[order]), np.asarray(masks[order])
    if flips is not None:
        x, y = x.copy(), y.copy()
        for i, (flip_h, flip_v) in enumerate(flips):
            if flip_h:
                x[i], y[i] = x[i, :, ::-1], y[i, :, ::-1]
            if flip_v:
                x[i], y[i] = x[i, ::-1], y[i, ::-1]
    target = torch.from_numpy((y > 127).astype(np.float32))[:, None]
    return to_input(x), target


@torch.inference_mode()
def evaluate_loss(
    model: PaperFCN, images: U8, masks: U8, threshold: float, batch_size: int
) -> tuple[float, float]:
    """Mean BCE and mean per-image Dice (images with an empty truth and prediction skipped)."""
    if len(images) == 0:
        return np.nan, np.nan  # no validation image with a mask: nothing to report
    model.eval()
    losses, weights = [], []
    for start in range(0, len(images), batch_size):
        x, y = _batch(images, masks, np.arange(start, min(start + batch_size, len(images))), None)
        losses.append(float(F.binary_cross_entropy_with_logits(model(x), y)))
        weights.append(len(x))
    pred = predict(model, images, threshold, batch_size)
    dice = []
    for truth, guess in zip(masks, pred, strict=True):
        tp, fp, fn, _ = confusion(np.asarray(truth), guess)
        if tp + fp + fn:
            dice.append(2 * tp / (2 * tp + fp + fn))
    return float(np.average(losses, weights=weights)), float(np.mean(dice)) if dice else np.nan


def train_fcn(
    train: tuple[U8, U8], val: tuple[U8, U8], cfg: SegmentConfig, desc: str = "fcn"
) -> FitResult:
    """Train a :class:`PaperFCN` on (images, masks) arrays; validate after every epoch.

    Args:
        train: (N, S, S, 3) uint8 images and (N, S, S) uint8 {0, 255} masks.
        val: The same for validation (loss and Dice per epoch; nothing is selected on it).
        cfg: Epochs, batch size, learning rate, flips, seed, threads.
        desc: Progress-bar label.

    Raises:
        benchmark.core.training.NonFiniteLossError: On a NaN/inf loss, naming epoch and batch.
    """
    if len(train[0]) == 0:
        raise ValueError("no training images with masks")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    model = PaperFCN().to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate)
    history: list[dict[str, float]] = []
    start = time.perf_counter()
    bar = tqdm(range(cfg.epochs), desc=desc, unit="epoch")
    for epoch in bar:
        model.train()
        rng = derive_rng(cfg.seed, epoch)
        order = rng.permutation(len(train[0]))
        total, seen = 0.0, 0
        for b, first in enumerate(range(0, len(order), cfg.batch_size)):
            rows = order[first : first + cfg.batch_size]
            flips = rng.random((len(rows), 2)) < 0.5 if cfg.flips else None
            x, y = _batch(*train, rows, flips)
            loss = F.binary_cross_entropy_with_logits(model(x), y)
            check_finite(loss.item(), f"in epoch {epoch + 1}, batch {b + 1} ({desc})")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            total, seen = total + loss.item() * len(rows), seen + len(rows)
        val_loss, val_dice = evaluate_loss(model, *val, cfg.threshold, cfg.batch_size)
        history.append(
            {
                "epoch": epoch + 1,
                "train_loss": total / seen,
                "val_loss": val_loss,
                "val_dice": val_dice,
            }
        )
        bar.set_postfix(loss=f"{total / seen:.4f}", val_dice=f"{val_dice:.3f}")
    return FitResult(model, history, time.perf_counter() - start)
