"""Does the phantom world plant a skin-type gap that a classifier that learns can show?

An exploration for the embedded study (issue 28), not a test: a tone-balanced phantom set
(``--n`` images, each Fitzpatrick type 1/6, 45% melanocytic, rendered at 128 px and read at
64 px), split by patient 60/20/20 (one seed), optionally with sensor noise of fixed
amplitude (``--noise``, 8-bit units, the same on every skin), and a plain 4-block CNN
(about 0.2M parameters; AdamW, one-cycle schedule to 2e-3, flips and 90-degree rotations,
the best validation-AUC epoch kept), pinned and under ExactRoots as the stages run. Prints
validation and test AUC and the test AUC within I-II and within V-VI per seed.

Usage (about 70 s per run on 2 cores)::

    python -m tests.perf.planted_gap --out /tmp/planted --noise 0 --noise 8 --noise 16
"""

from __future__ import annotations

import time
from pathlib import Path

import stages  # noqa: F401  (the CPU pins, before NumPy and PyTorch load)

# isort: split
import click
import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray
from PIL import Image
from sklearn.metrics import roc_auc_score
from torch import nn

from benchmark.core.config.data import PhantomConfig
from benchmark.phantoms.generate import generate_phantoms
from stages.support.roots import ExactRoots

SIDE, BATCH, PEAK_LR = 64, 32, 2e-3


def _images(root: Path, manifest: pd.DataFrame, noise: float) -> NDArray[np.uint8]:
    rng = np.random.default_rng(0)
    out = []
    for path in manifest.image_path:
        image = Image.open(root / path).convert("RGB").resize((SIDE, SIDE), Image.BILINEAR)
        x = np.asarray(image, dtype=np.float64)
        x = x + rng.normal(0.0, noise, x.shape) if noise else x
        out.append(np.clip(np.round(x), 0, 255).astype(np.uint8))
    return np.stack(out)


def _split(manifest: pd.DataFrame) -> NDArray[np.str_]:
    patients = np.array(sorted(manifest.patient_id.unique()))
    np.random.default_rng(0).shuffle(patients)
    n = len(patients)
    part = {p: "train" if i < 0.6 * n else "val" if i < 0.8 * n else "test"
            for i, p in enumerate(patients)}  # fmt: skip
    return manifest.patient_id.map(part).to_numpy().astype(str)


def _net() -> nn.Module:
    def block(i: int, o: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(),
                             nn.MaxPool2d(2))  # fmt: skip

    return nn.Sequential(block(3, 24), block(24, 48), block(48, 96), block(96, 128),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 1))  # fmt: skip


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    if torch.rand(1, generator=gen) < 0.5:
        x = x.flip(3)
    if torch.rand(1, generator=gen) < 0.5:
        x = x.flip(2)
    return torch.rot90(x, int(torch.randint(4, (1,), generator=gen)), (2, 3))


def _scores(model: nn.Module, x: torch.Tensor) -> NDArray[np.float32]:
    model.eval()
    with torch.no_grad():
        return model(x).squeeze(1).numpy()


def train(x: torch.Tensor, y: torch.Tensor, split: NDArray[np.str_], seed: int, epochs: int
          ) -> tuple[float, nn.Module]:  # fmt: skip
    """The best validation AUC over the epochs, and the model at that epoch."""
    torch.manual_seed(seed)
    train_rows, val_rows = np.nonzero(split == "train")[0], np.nonzero(split == "val")[0]
    model = _net()
    opt = torch.optim.AdamW(model.parameters(), PEAK_LR, weight_decay=1e-4)
    steps = epochs * -(-len(train_rows) // BATCH)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, PEAK_LR, total_steps=steps)
    gen = torch.Generator().manual_seed(seed)
    best, state = -1.0, model.state_dict()
    for _ in range(epochs):
        model.train()
        order = train_rows[torch.randperm(len(train_rows), generator=gen).numpy()]
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            logits = model(_augment(x[rows], gen)).squeeze(1)
            loss = nn.functional.binary_cross_entropy_with_logits(logits, y[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
        auc = float(roc_auc_score(y[val_rows].numpy(), _scores(model, x[val_rows])))
        if auc > best:
            best, state = auc, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    return best, model


@click.command()
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--n", default=1500, show_default=True)
@click.option("--noise", multiple=True, type=float, default=(0.0,), show_default=True)
@click.option("--seed", "seeds", multiple=True, type=int, default=(42, 43), show_default=True)
@click.option("--epochs", default=30, show_default=True)
def main(out: Path, n: int, noise: tuple[float, ...], seeds: tuple[int, ...], epochs: int
         ) -> None:  # fmt: skip
    """Print one line per noise level and seed."""
    if not (out / "manifest.parquet").exists():
        cfg = PhantomConfig(n=n, seed=11, size=128, fst_mix=(1 / 6,) * 6,
                            melanocytic_fraction=0.45)  # fmt: skip
        generate_phantoms(cfg, out, progress=False, workers=2)
    manifest = pd.read_parquet(out / "manifest.parquet")
    y = torch.tensor((manifest.superclass == "melanocytic").to_numpy(), dtype=torch.float32)
    split, fst = _split(manifest), manifest.fst_label.to_numpy()
    test = split == "test"
    low, high = test & np.isin(fst, ["I", "II"]), test & np.isin(fst, ["V", "VI"])
    click.echo(f"{len(manifest)} images, test {test.sum()} (V-VI {high.sum()})")
    for level in noise:
        x = torch.tensor(_images(out, manifest, level)).permute(0, 3, 1, 2).float() / 255 - 0.5
        for seed in seeds:
            start = time.perf_counter()
            with ExactRoots():
                val_auc, model = train(x, y, split, seed, epochs)
            s, t = _scores(model, x), y.numpy()
            aucs = [float(roc_auc_score(t[rows], s[rows])) for rows in (test, low, high)]
            click.echo(f"noise {level:g} seed {seed}: val {val_auc:.3f} test {aucs[0]:.3f} "
                       f"I-II {aucs[1]:.3f} V-VI {aucs[2]:.3f} contrast {aucs[2] - aucs[1]:+.3f} "
                       f"({time.perf_counter() - start:.0f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
