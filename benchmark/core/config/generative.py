"""Configs of the generative branch: LoRA fine-tuning, generation, synthetic validation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from benchmark.core.config.base import ConfigError


@dataclass(frozen=True)
class FinetuneConfig:
    """The ``finetune_lora`` stage (paper section 3.2).

    Attributes:
        base_model: Hugging Face id, local diffusers folder, or ``tiny`` (built from configs).
        fst_types: Fitzpatrick types of the fine-tuning subset (paper: V and VI).
        min_images: Fewer labelled train-split images of those types than this and the
            generative branch does not run (recorded with the reason; baselines still run).
        resolution: Training image side in pixels (paper: 512).
        rank: LoRA rank.
        alpha: LoRA alpha.
        learning_rate: AdamW learning rate.
        steps: LoRA optimiser steps.
        batch_size: Images per step.
        mixed_precision: ``no``, ``fp16`` or ``bf16``.
        gradient_checkpointing: Save memory in the UNet at the cost of compute.
        checkpoint_every: Steps between checkpoints (resume picks up the latest).
        sample_every: Steps between grids of seeded validation samples.
        sample_steps: Inference steps of those samples.
        pretrain_steps: Tiny base only: steps of full UNet training on every labelled real
            train-split image first (after the VAE's), so that LoRA adapts a base that knows
            "skin lesion" (the paper's setting in miniature).
        pretrain_vae_steps: Tiny base only: steps of VAE reconstruction training before the
            UNet's (0: as many as ``pretrain_steps``). The VAE reconstructs skin early; the
            UNet needs the steps to draw lesions.
        pretrain_learning_rate: Learning rate of that pre-training.
        noise_offset: Offset noise of pre-training and LoRA training (0: none, as the paper;
            0.1 is diffusers' usual value): lets a fine-tune move the mean skin colour.
        seed: Seed of weights (tiny), batches, noise and samples.
    """

    base_model: str
    fst_types: tuple[str, ...]
    min_images: int
    resolution: int
    rank: int
    alpha: int
    learning_rate: float
    steps: int
    batch_size: int
    mixed_precision: Literal["no", "fp16", "bf16"]
    gradient_checkpointing: bool
    checkpoint_every: int
    sample_every: int
    sample_steps: int
    pretrain_steps: int
    pretrain_learning_rate: float
    pretrain_vae_steps: int
    noise_offset: float
    seed: int

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.rank < 1 or self.min_images < 1:
            raise ConfigError("finetune_lora.steps, batch_size, rank and min_images must be >= 1")
        if self.pretrain_vae_steps < 0 or not 0 <= self.noise_offset <= 1:
            raise ConfigError(
                "finetune_lora.pretrain_vae_steps must be >= 0 and noise_offset in [0, 1]: "
                f"{self.pretrain_vae_steps}, {self.noise_offset}"
            )
        if self.resolution % 8:
            raise ConfigError(
                f"finetune_lora.resolution must be a multiple of 8: {self.resolution}"
            )


@dataclass(frozen=True)
class GenerateConfig:
    """The ``generate`` stage.

    Attributes:
        melanocytic: Images of melanocytic lesions (paper Generator-1: 144).
        non_melanocytic: Images of non-melanocytic lesions (paper Generator-2: 664).
        class_balanced: Ignore the two counts' ratio and make both classes equal to their
            mean (the paper's future-work setting).
        tones: Fitzpatrick types requested, cycled over images.
        steps: Inference steps (paper: 30).
        guidance: Classifier-free guidance scale (paper: 7.5).
        batch_size: Images per pipeline call.
        seed: Base seed; image ``i`` uses ``seed + i``.
        dtype: ``float32``, or ``float16``/``bfloat16`` on a GPU.
    """

    melanocytic: int
    non_melanocytic: int
    class_balanced: bool
    tones: tuple[str, ...]
    steps: int
    guidance: float
    batch_size: int
    seed: int
    dtype: Literal["float32", "float16", "bfloat16"]


@dataclass(frozen=True)
class ValidateSyntheticConfig:
    """The ``validate_synthetic`` stage: which synthetic images are kept.

    Attributes:
        size: Side to which images are resized for the comparisons (pixels).
        bins: Histogram bins per channel.
        iqr_factor: Outlier rule: a value beyond this many IQRs outside the real images'
            quartiles (histogram distance, GLCM features) rejects the image.
        memorisation_ssim: SSIM to the nearest LoRA training image at or above this flags a
            near-copy, which is rejected.
        reject_off_tone: Also reject images whose estimated FST is more than one type away
            from the requested one (otherwise only reported).
        inception_weights: Path to Inception-v3 weights for FID/KID ("" to skip).
    """

    size: int
    bins: int
    iqr_factor: float
    memorisation_ssim: float
    reject_off_tone: bool
    inception_weights: str
