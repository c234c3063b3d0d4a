"""The ``finetune_lora`` stage's work: base model, optional tiny pre-training, LoRA, samples.

Everything here learns from train-split rows only: the LoRA from the labelled ITA type V–VI train
images, the tiny base from every labelled train image. ``finetune.json``
(:class:`~benchmark.generative.record.FinetuneRecord`) lists both sets by image and patient,
and the stage refuses a list that names an image outside train. With fewer than
``min_images`` dark-skin train images the branch does not run and the record says why.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image

from benchmark.core.config.generative import FinetuneConfig
from benchmark.core.groupings import SKIN_TYPE_SHORT
from benchmark.core.processes import is_main_process
from benchmark.core.provenance import content_digest, data_digest, file_sha256
from benchmark.core.status import NOT_RUN
from benchmark.generative.data import (
    base_rows,
    dark_subset,
    load_images,
    prompt_for,
    subset_counts,
    tone_span,
)
from benchmark.generative.model import TINY, build_tiny, load_pipeline
from benchmark.generative.record import RAN, RECORD_FILE, FinetuneRecord, TrainingSet
from benchmark.generative.train import (
    TrainResult,
    TrainSettings,
    save_lora,
    train_unet,
    train_vae,
)

SAMPLE_SEEDS = (0, 1, 2, 3)
# The tiny base learns the unconditional prediction too (as SD 1.5 did, with 10%): without
# it, guidance 7.5 extrapolates from an untrained branch and draws texture, not lesions.
PRETRAIN_EMPTY_PROMPTS = 0.1


@dataclass(frozen=True)
class FinetuneResult:
    """What fine-tuning produced.

    Attributes:
        record: What ``finetune.json`` holds.
        losses: LoRA loss per step (empty when not run).
        pretrain_losses: Tiny-base pre-training loss per step (empty otherwise).
        samples: Sample grids written, by step.
    """

    record: FinetuneRecord
    losses: list[float] = field(default_factory=list)
    pretrain_losses: list[float] = field(default_factory=list)
    samples: dict[int, Path] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        """The stage metrics: final loss, subset, steps; or status and reason."""
        if (why := self.record.not_run) is not None:
            return why.metrics()
        return {
            "final_loss": self.losses[-1],
            "subset": self.record.subset,
            "steps": len(self.losses),
        }


def sample_grid(pipe: Any, prompts: list[str], steps: int, path: Path) -> Path:
    """Seeded samples (one per prompt, seeds 0..n-1) side by side, as PNG."""
    from diffusers import PNDMScheduler

    scheduler = pipe.scheduler
    pipe.scheduler = PNDMScheduler.from_config(scheduler.config, skip_prk_steps=True)
    size = pipe.unet.config.sample_size * pipe.vae_scale_factor
    generators = [torch.Generator().manual_seed(s) for s in range(len(prompts))]
    with torch.no_grad():
        images = pipe(
            prompts,
            num_inference_steps=steps,
            guidance_scale=7.5,
            height=size,
            width=size,
            generator=generators,
            output_type="np",
        ).images
    pipe.scheduler = scheduler
    strip = np.concatenate(list(np.clip(images * 255, 0, 255).astype(np.uint8)), axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(strip).save(path)
    return path


def _prepare_base(
    cfg: FinetuneConfig,
    labelled: pd.DataFrame,
    root: Path,
    out_dir: Path,
    log: Callable[[str, int, float], None],
) -> tuple[str, list[float]]:
    """The base to adapt; a tiny base is built and pre-trained on ``labelled`` (train rows)."""
    base = out_dir / "base"
    main = is_main_process()
    if cfg.base_model != TINY:
        if main:  # an earlier tiny base is no output of this run
            shutil.rmtree(base, ignore_errors=True)
        return cfg.base_model, []
    if main:
        build_tiny(base, cfg.resolution, cfg.seed)
    _barrier()  # the others load the base the main process wrote
    losses: list[float] = []
    if cfg.pretrain_steps:
        pipe = load_pipeline(str(base))
        images = load_images(labelled, root, cfg.resolution)
        losses = _pretrain(pipe, images, labelled, cfg, log)  # data-parallel
        _barrier()  # nobody reads the base while the main process rewrites it
        if main:
            pipe.save_pretrained(str(base))
    _barrier()
    return str(base), losses


def _barrier() -> None:
    """Wait for every process (the base and the checkpoint stamp are the main one's)."""
    from accelerate import PartialState

    # On a machine without a GPU, processes launched together join a CPU (gloo) group.
    PartialState(cpu=not torch.cuda.is_available()).wait_for_everyone()


def _pretrain(
    pipe: Any,
    images: torch.Tensor,
    labelled: pd.DataFrame,
    cfg: FinetuneConfig,
    log: Callable[[str, int, float], None],
) -> list[float]:
    """VAE, then full UNet training of the tiny base on (N, 3, R, R) ``images``; UNet losses."""
    vae_steps = train_vae(
        pipe.vae, images, cfg.pretrain_vae_steps or cfg.pretrain_steps,
        cfg.pretrain_learning_rate, cfg.seed + 2, cfg.batch_size,
    )  # fmt: skip
    for step, loss in enumerate(vae_steps, start=1):
        log("vae_loss", step, loss)
    with torch.no_grad():
        # As SD's 0.18215: scale latents to unit variance for this VAE.
        spread = float(pipe.vae.encode(images[:64]).latent_dist.mean.std())
    pipe.vae.register_to_config(scaling_factor=1.0 / spread)
    settings = TrainSettings(
        steps=cfg.pretrain_steps,
        batch_size=cfg.batch_size,
        learning_rate=cfg.pretrain_learning_rate,
        seed=cfg.seed + 1,
        lora_rank=0,
        checkpoint_every=cfg.checkpoint_every,
        empty_prompt_share=PRETRAIN_EMPTY_PROMPTS,
        noise_offset=cfg.noise_offset,
    )
    prompts = [
        prompt_for(s, f) for s, f in zip(labelled["superclass"], labelled["fst"], strict=True)
    ]
    # Pre-training never resumes: its checkpoints stay out of the (DVC-hashed) output.
    with tempfile.TemporaryDirectory(prefix="skinbench-pretrain-") as scratch:
        result = train_unet(
            pipe,
            images,
            prompts,
            settings,
            Path(scratch),
            on_step=lambda step, loss: log("pretrain_loss", step, loss),
            resume=False,
        )
    return result.losses


def _fresh_if_changed(out_dir: Path, key: dict[str, Any]) -> None:
    """Drop checkpoints made for another config or subset, so resume never mixes runs."""
    stamp = out_dir / "checkpoints" / "config.json"
    text = json.dumps(key, sort_keys=True, default=str)
    if (stamp.is_file() and stamp.read_text() == text) or not is_main_process():
        _barrier()
        return
    shutil.rmtree(out_dir / "checkpoints", ignore_errors=True)
    shutil.rmtree(out_dir / "samples", ignore_errors=True)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(text)
    _barrier()


def _not_run(out_dir: Path, cfg: FinetuneConfig, reason: str) -> FinetuneResult:
    """Record why the branch did not run; drop an earlier run's base, LoRA and checkpoints."""
    record = FinetuneRecord(NOT_RUN, reason, tuple(cfg.fst_types))
    if is_main_process():
        for name in ("base", "lora", "samples", "checkpoints"):
            shutil.rmtree(out_dir / name, ignore_errors=True)
        out_dir.mkdir(parents=True, exist_ok=True)
        record.write(out_dir / RECORD_FILE)
    return FinetuneResult(record)


def _train_lora(
    subset: pd.DataFrame,
    base: str,
    root: Path,
    cfg: FinetuneConfig,
    out_dir: Path,
    log: Callable[[str, int, float], None],
) -> tuple[Any, TrainResult, dict[int, Path]]:
    """LoRA on ``subset`` over ``base``; returns the pipeline, the losses and sample grids."""
    prompts = [prompt_for(s, f) for s, f in zip(subset["superclass"], subset["fst"], strict=True)]
    pipe = load_pipeline(base)
    samples: dict[int, Path] = {}
    probe = sorted(set(prompts))[: len(SAMPLE_SEEDS)]

    def on_step(step: int, loss: float) -> None:
        log("lora_loss", step, loss)
        if cfg.sample_every and step % cfg.sample_every == 0 and is_main_process():
            samples[step] = sample_grid(
                pipe, probe, cfg.sample_steps, out_dir / "samples" / f"step-{step:06d}.png"
            )

    settings = TrainSettings(
        steps=cfg.steps,
        batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        seed=cfg.seed,
        lora_rank=cfg.rank,
        lora_alpha=cfg.alpha,
        checkpoint_every=cfg.checkpoint_every,
        mixed_precision=cfg.mixed_precision,
        gradient_checkpointing=cfg.gradient_checkpointing,
        noise_offset=cfg.noise_offset,
    )
    images = load_images(subset, root, cfg.resolution)
    result = train_unet(pipe, images, prompts, settings, out_dir / "checkpoints" / "lora", on_step)
    return pipe, result, samples


def finetune(
    manifest: pd.DataFrame,
    root: Path,
    cfg: FinetuneConfig,
    out_dir: Path,
    log: Callable[[str, int, float], None] = lambda name, step, value: None,
) -> FinetuneResult:
    """Fine-tune LoRA on the train split's ITA type ``cfg.fst_types`` images; write base and LoRA.

    Args:
        manifest: The split manifest (``split``, ``fst``, ``superclass``, ``source``).
        root: Data root of its paths.
        cfg: Stage config.
        out_dir: Output folder: ``base/`` (tiny only), ``lora/``, ``samples/``,
            ``checkpoints/`` and ``finetune.json``. Rerunning resumes from its checkpoints.
        log: Called with (metric name, step, value) for loss curves.

    Returns:
        The result; with fewer than ``cfg.min_images`` dark-skin train images, a record of
        why the branch did not run (and nothing else in ``out_dir``).

    Raises:
        benchmark.core.splits.SplitError: A training list names an image outside train.
        benchmark.generative.train.NonFiniteLossError: NaN loss (step and checkpoint named).
    """
    _barrier()  # joins the process group first, on CPUs too
    subset, labelled = dark_subset(manifest, cfg.fst_types), base_rows(manifest)
    if len(subset) < cfg.min_images:
        return _not_run(
            out_dir,
            cfg,
            f"{len(subset)} {SKIN_TYPE_SHORT} {tone_span(cfg.fst_types)} training images (min "
            f"{cfg.min_images}); labelled train images per {SKIN_TYPE_SHORT}: "
            f"{subset_counts(manifest)}",
        )
    pretrained = cfg.base_model == TINY and cfg.pretrain_steps > 0
    lora_set = TrainingSet.of(subset)
    base_set = TrainingSet.of(labelled) if pretrained else TrainingSet()
    planned = FinetuneRecord(RAN, "", tuple(cfg.fst_types), lora_set, base_set)
    planned.check_train_only(manifest, out_dir / RECORD_FILE)
    base, pretrain_losses = _prepare_base(cfg, labelled, root, out_dir, log)
    base_digest = content_digest([Path(base)]) if Path(base).exists() else base
    # Checkpoints are reused only by the same config, subset, base and training code.
    code = data_digest([Path(__file__).parent / n for n in ("data.py", "finetune.py", "train.py")])
    images = content_digest([root / str(p) for p in subset["image_path"]])
    _fresh_if_changed(
        out_dir, {"config": asdict(cfg), "images": images, "base": base_digest, "code": code}
    )
    pipe, result, samples = _train_lora(subset, base, root, cfg, out_dir, log)
    counts = {str(k): int(v) for k, v in sorted(subset["superclass"].value_counts().items())}
    planned = replace(
        planned,
        base_model=base,
        base_digest=base_digest,
        subset=counts,
        resolution=cfg.resolution,
        final_loss=result.losses[-1],
    )
    record = _save(pipe, planned, out_dir)
    return FinetuneResult(record, result.losses, pretrain_losses, samples)


def _save(pipe: Any, record: FinetuneRecord, out_dir: Path) -> FinetuneRecord:
    """Write the LoRA and ``finetune.json`` (main process only); the record with its hash."""
    from accelerate import PartialState

    state = PartialState()  # under `accelerate launch`, one process writes the outputs
    lora_dir = out_dir / "lora"
    if state.is_main_process:
        shutil.rmtree(lora_dir, ignore_errors=True)
        save_lora(pipe, lora_dir)
    state.wait_for_everyone()
    lora = lora_dir / "pytorch_lora_weights.safetensors"
    record = replace(record, lora=str(lora), lora_sha256=file_sha256(lora))
    if state.is_main_process:
        record.write(out_dir / RECORD_FILE)
    return record
