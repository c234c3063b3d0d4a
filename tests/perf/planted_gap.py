"""Does the phantom world plant a skin-type gap that a classifier that learns can show?

An exploration tool for the phantom world's design (docs/explanation/embedded-profile.md), not a
test: the phantoms of ``params.yaml`` drawn with each ``--texture`` amplitude (and ``--grain``,
the texture's Gaussian sigma as a share of the side), preprocessed and split as the stages do
(ground-truth skin types stand in for the skin-tone stage's estimate), then the classify stage's
own training (``params.yaml``'s ``classify`` section, ``--epochs`` to shorten it) for each seed,
pinned and under ExactRoots as the stages run. Prints per texture and seed the kept validation
AUC, the test AUC, the test AUC within I-II, III-IV and V-VI, and the contrast V-VI minus I-II.

Usage (about 25 s per world and 15 s per run on 2 cores)::

    python -m tests.perf.planted_gap --out /tmp/planted --texture 0 --texture 3 --seed 42
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import stages  # noqa: F401  (the CPU pins, before NumPy and PyTorch load)

# isort: split
import click
import numpy as np
import pandas as pd
from PIL import Image

from benchmark.classification.inference import predict_proba
from benchmark.classification.train import train_classifier
from benchmark.core.config.data import IngestConfig, SplitConfig
from benchmark.core.config.downstream import ClassifyConfig, PreprocessConfig
from benchmark.core.splits import make_splits, tone_group
from benchmark.metrics.classification import auc
from benchmark.phantoms import render
from benchmark.phantoms.generate import generate_phantoms
from benchmark.preprocess.steps import preprocess
from stages.support.params import load_section
from stages.support.roots import ExactRoots

GROUPS = ("I-II", "III-IV", "V-VI")


def world(out: Path, params: Path, texture: float, grain: float) -> tuple[np.ndarray, pd.DataFrame]:
    """(N, S, S, 3) preprocessed images and the split manifest of one phantom world."""
    render.TEXTURE_SCALE = grain  # inherited by the rendering processes (fork)
    phantoms = replace(load_section(params, "ingest", IngestConfig).phantoms, texture=texture)
    root = out / f"texture{texture:g}_grain{grain:g}"
    manifest = generate_phantoms(phantoms, root, progress=False, workers=0)
    prep = load_section(params, "preprocess", PreprocessConfig)
    images = np.stack([
        preprocess(np.asarray(Image.open(root / p).convert("RGB")), prep).image
        for p in manifest["image_path"]
    ])  # fmt: skip
    manifest["fst"] = manifest["fst_label"]
    split = make_splits(manifest, load_section(params, "split", SplitConfig))
    return images, split.reset_index(drop=True)


def report(frame: pd.DataFrame, scores: np.ndarray) -> str:
    """Test AUC overall and per tone group, and the contrast."""
    test = (frame["split"] == "test").to_numpy()
    y = (frame["superclass"] == "melanocytic").to_numpy().astype(int)
    groups = tone_group(frame["fst"]).to_numpy()
    within = {g: auc(y[test & (groups == g)], scores[test & (groups == g)]) for g in GROUPS}
    text = " ".join(f"{g} {v:.3f}" for g, v in within.items())
    contrast = within["V-VI"] - within["I-II"]
    return f"test {auc(y[test], scores[test]):.3f} {text} contrast {contrast:+.3f}"


@click.command()
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--params", type=click.Path(path_type=Path), default=Path("params.yaml"))
@click.option("--texture", multiple=True, type=float, default=(3.0,), show_default=True)
@click.option("--grain", default=render.TEXTURE_SCALE, show_default=True)
@click.option("--seed", "seeds", multiple=True, type=int, default=(42, 43), show_default=True)
@click.option("--epochs", type=int, default=0, help="0: classify.max_epochs")
def main(out: Path, params: Path, texture: tuple[float, ...], grain: float,
         seeds: tuple[int, ...], epochs: int) -> None:  # fmt: skip
    """Print one line per texture and seed."""
    cfg = load_section(params, "classify", ClassifyConfig)
    cfg = replace(cfg, max_epochs=epochs or cfg.max_epochs, early_stopping=epochs or cfg.max_epochs)
    for level in texture:
        images, frame = world(out, params, level, grain)
        y = (frame["superclass"] == "melanocytic").to_numpy().astype(np.int64)
        rows = {s: np.flatnonzero(frame["split"] == s) for s in ("train", "val")}
        for seed in seeds:
            start = time.perf_counter()
            train, val = ((images[r], y[r]) for r in rows.values())
            with ExactRoots():
                fit = train_classifier(train, val, cfg, seed, f"texture {level:g} seed {seed}")
            scores = predict_proba(fit.model, images, batch_size=256)
            kept = fit.history[fit.best_epoch - 1]["val_auc"]
            click.echo(f"texture {level:g} seed {seed}: val {kept:.3f} {report(frame, scores)} "
                       f"({time.perf_counter() - start:.0f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
