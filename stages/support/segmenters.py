"""The child runs of segment: one per model; each FCN logs a model that serves batches."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from benchmark.core.imaging import example_batch
from benchmark.segmentation.fcn import load_fcn
from benchmark.segmentation.run import Outcome
from benchmark.segmentation.serving import MaskScorer
from stages.support.models import log_image_model
from stages.support.nested import child_run, log_history
from stages.support.tracking import log_outputs


def log_segmenters(outcomes: Sequence[Outcome], overlays: Path, size: int) -> None:
    """A child run per segmentation model; the FCNs log a model of (B, S, S) probabilities."""
    for outcome in outcomes:
        tags = {"model": "maxflow" if outcome.name == "maxflow" else "fcn"}
        with child_run("segment", outcome.name, {**tags, "variant": outcome.name}):
            log_history(outcome.history)
            metrics = {**outcome.summary, "train_images": outcome.train_images}
            log_outputs(metrics, overlays, *filter(None, [outcome.model_file]))
            if outcome.model_file is not None:
                scorer = MaskScorer(load_fcn(outcome.model_file))
                log_image_model(scorer, example_batch(size), (size, size))
