"""Time classifier training steps on a preprocessing cache; extrapolate one epoch.

The paper protocol's step (EfficientNet-B0, batch 32, augmentations, Adam, clipping) through
the suite's own loop pieces, on the device ``auto`` picks, for ``--steps`` steps after two
warm-up steps. Called by :mod:`tests.perf.paper_scale`; prints and writes JSON.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import click
import numpy as np
import torch

from benchmark.classification import train as loop
from benchmark.classification.data import labelled_rows, labels
from benchmark.classification.model import build_model
from benchmark.core.batches import CacheRows
from benchmark.core.config.downstream import ClassifyConfig
from benchmark.core.devices import Runner, choose_device
from benchmark.preprocess.cache import load_split
from tests.support.config import default


@click.command()
@click.option("--cache-dir", type=click.Path(path_type=Path), required=True)
@click.option("--steps", default=20, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
def main(cache_dir: Path, steps: int, out: Path) -> None:
    """Seconds per step, and one epoch extrapolated from them."""
    split = load_split(cache_dir, "train")
    rows = labelled_rows(split, synthetic=False)
    train = (CacheRows(split.images, rows), labels(split.index, rows))
    cfg = default(ClassifyConfig, device="auto", augment_rng="per_image", freeze_epochs=0)
    runner = Runner(choose_device(cfg.device, cfg.mixed_precision, param="classify"))
    model = runner.place(build_model("none").to(memory_format=torch.channels_last)).train()
    _, parts = loop._setup(model, cfg, runner, train[0].shape[1])
    batches, loader = loop._loader(train, cfg, runner, 0, 1)
    stamps = []
    for rows_b, (images,) in itertools.islice(zip(batches, loader, strict=True), steps + 2):
        y = torch.from_numpy(train[1][rows_b]).to(runner.device)
        loss = parts.criterion(model(loop._inputs(images, parts, seeded=True)), y)
        parts.optimizer.zero_grad(set_to_none=True)
        runner.backward(loss)
        runner.clip(model, cfg.grad_clip)
        parts.optimizer.step()
        stamps.append(time.perf_counter())
    per_step = float(np.diff(stamps[1:]).mean())
    result = {
        "steps": len(stamps) - 2,
        "batch_size": cfg.batch_size,
        "seconds_per_step": per_step,
        "steps_per_epoch": len(batches),
        "epoch_seconds": per_step * len(batches),
        "train_images": len(rows),
        "device": str(runner.device),
    }
    out.write_text(json.dumps(result, indent=1))
    click.echo(json.dumps(result))


if __name__ == "__main__":
    main()
