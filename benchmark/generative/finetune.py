"""The ``finetune_lora`` stage's work: base model, optional tiny pre-training, LoRA, samples."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image

from benchmark.config.generative import FinetuneConfig
from benchmark.generative.data import dark_subset, load_images, prompt_for
from benchmark.generative.model import TINY, build_tiny, load_pipeline
from benchmark.generative.train import (
    TrainResult,
    TrainSettings,
    save_lora,
    train_unet,
    train_vae,
)
from benchmark.provenance import content_digest, data_digest, file_sha256

SAMPLE_SEEDS = (0, 1, 2, 3)


@dataclass(frozen=True)
class FinetuneResult:
    """What fine-tuning produced.

    Attributes:
        base_model: What ``generate`` loads: the saved tiny base folder, or the id/path given.
        lora: The ``pytorch_lora_weights.safetensors`` file.
        lora_sha256: Its SHA-256.
        losses: LoRA loss per step.
        pretrain_losses: Tiny-base pre-training loss per step (empty otherwise).
        samples: Sample grids written, by step.
        subset: Images in the fine-tuning subset by superclass.
    """

    base_model: str
    lora: Path
    lora_sha256: str
    losses: list[float]
    pretrain_losses: list[float]
    samples: dict[int, Path]
    subset: dict[str, int]


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
    manifest: pd.DataFrame,
    root: Path,
    out_dir: Path,
    log: Callable[[str, int, float], None],
) -> tuple[str, list[float]]:
    if cfg.base_model != TINY:
        return cfg.base_model, []
    base = out_dir / "base"
    build_tiny(base, cfg.resolution, cfg.seed)
    if not cfg.pretrain_steps:
        return str(base), []
    labelled = manifest[(manifest["source"] == "real") & manifest["superclass"].notna()]
    pipe = load_pipeline(str(base))
    images = load_images(labelled, root, cfg.resolution)
    for step, loss in enumerate(
        train_vae(
            pipe.vae,
            images,
            cfg.pretrain_steps,
            cfg.pretrain_learning_rate,
            cfg.seed + 2,
            cfg.batch_size,
        ),
        start=1,
    ):
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
    )
    prompts = [
        prompt_for(s, f) for s, f in zip(labelled["superclass"], labelled["fst"], strict=True)
    ]
    result = train_unet(
        pipe,
        images,
        prompts,
        settings,
        out_dir / "checkpoints" / "pretrain",
        on_step=lambda step, loss: log("pretrain_loss", step, loss),
        resume=False,
    )
    pipe.save_pretrained(str(base))
    return str(base), result.losses


def _fresh_if_changed(out_dir: Path, key: dict[str, Any]) -> None:
    """Drop checkpoints made for another config or subset, so resume never mixes runs."""
    stamp = out_dir / "checkpoints" / "config.json"
    text = json.dumps(key, sort_keys=True, default=str)
    if stamp.is_file() and stamp.read_text() == text:
        return
    shutil.rmtree(out_dir / "checkpoints", ignore_errors=True)
    shutil.rmtree(out_dir / "samples", ignore_errors=True)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(text)


def finetune(
    manifest: pd.DataFrame,
    root: Path,
    cfg: FinetuneConfig,
    out_dir: Path,
    log: Callable[[str, int, float], None] = lambda name, step, value: None,
) -> FinetuneResult:
    """Fine-tune LoRA on the FST ``cfg.fst_types`` subset; write base, LoRA and samples.

    Args:
        manifest: The skintone manifest (``fst``, ``superclass``, ``source``).
        root: Data root of its paths.
        cfg: Stage config.
        out_dir: Output folder: ``base/`` (tiny only), ``lora/``, ``samples/``,
            ``checkpoints/`` and ``finetune.json``. Rerunning resumes from its checkpoints.
        log: Called with (metric name, step, value) for loss curves.

    Raises:
        benchmark.generative.data.EmptySubsetError: No image of the requested types.
        benchmark.generative.train.NonFiniteLossError: NaN loss (step and checkpoint named).
    """
    subset = dark_subset(manifest, cfg.fst_types)
    prompts = [prompt_for(s, f) for s, f in zip(subset["superclass"], subset["fst"], strict=True)]
    base, pretrain_losses = _prepare_base(cfg, manifest, root, out_dir, log)
    base_digest = content_digest([Path(base)]) if Path(base).exists() else base
    # Checkpoints are reused only by the same config, subset, base and training code.
    code = data_digest([Path(__file__).parent / n for n in ("data.py", "finetune.py", "train.py")])
    key = {
        "config": asdict(cfg),
        "images": content_digest([root / str(p) for p in subset["image_path"]]),
        "base": base_digest,
        "code": code,
    }
    _fresh_if_changed(out_dir, key)
    pipe = load_pipeline(base)
    samples: dict[int, Path] = {}
    probe = sorted(set(prompts))[: len(SAMPLE_SEEDS)]

    def on_step(step: int, loss: float) -> None:
        log("lora_loss", step, loss)
        if cfg.sample_every and step % cfg.sample_every == 0:
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
    )
    result: TrainResult = train_unet(
        pipe,
        load_images(subset, root, cfg.resolution),
        prompts,
        settings,
        out_dir / "checkpoints" / "lora",
        on_step=on_step,
    )
    from accelerate import PartialState

    state = PartialState()  # under `accelerate launch`, one process writes the outputs
    lora_dir = out_dir / "lora"
    if state.is_main_process:
        shutil.rmtree(lora_dir, ignore_errors=True)
        save_lora(pipe, lora_dir)
    state.wait_for_everyone()
    lora = lora_dir / "pytorch_lora_weights.safetensors"
    counts = {str(k): int(v) for k, v in subset["superclass"].value_counts().items()}
    out = FinetuneResult(
        base, lora, file_sha256(lora), result.losses, pretrain_losses, samples, counts
    )
    if state.is_main_process:
        (out_dir / "finetune.json").write_text(
            json.dumps(
                {
                    "base_model": base,
                    "base_digest": base_digest,
                    "lora": str(lora),
                    "lora_sha256": out.lora_sha256,
                    "subset": counts,
                    "fst_types": list(cfg.fst_types),
                    "resolution": cfg.resolution,
                    "final_loss": result.losses[-1],
                },
                indent=2,
            )
        )
    return out
