"""Fine-tuning loop for the UNet: LoRA (peft) or, for the tiny base, full pre-training.

Every random draw of step ``k`` (batch, noise, timesteps) comes from a generator seeded with
``(seed, k)``, and checkpoints hold the trainable weights, the optimiser state and the step,
so resuming from a checkpoint gives exactly the run that was not interrupted. ``accelerate``
drives devices and mixed precision, so the same loop runs on a CPU, a GPU or under
``accelerate launch``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from safetensors.torch import load_file, save_file

from benchmark.core.io import stable_safetensors
from benchmark.core.training import NonFiniteLossError

LORA_TARGETS = ["to_k", "to_q", "to_v", "to_out.0"]


@dataclass(frozen=True)
class TrainSettings:
    """What one training run does (a view of the stage config).

    Attributes:
        steps: Optimiser steps in total.
        batch_size: Images per step.
        learning_rate: AdamW learning rate.
        seed: Seed of batches, noise and timesteps.
        lora_rank: LoRA rank; 0 trains every UNet weight (tiny-base pre-training).
        lora_alpha: LoRA alpha.
        checkpoint_every: Steps between checkpoints (0: only at the end).
        mixed_precision: ``no``, ``fp16`` or ``bf16`` (accelerate).
        gradient_checkpointing: Trade compute for memory in the UNet.
        empty_prompt_share: Share of training images whose prompt is replaced by the empty
            one, so the model also learns the unconditional prediction that classifier-free
            guidance extrapolates from (SD 1.5 was trained so; a tiny base needs it).
        noise_offset: Standard deviation of a per-image, per-channel constant added to the
            noise ("offset noise", diffusers' ``--noise_offset``). Without it the image mean
            leaks through every training timestep, so no fine-tune can move it: a LoRA
            trained on dark skin keeps drawing the base's light skin. 0: plain noise.
    """

    steps: int
    batch_size: int
    learning_rate: float
    seed: int
    lora_rank: int = 4
    lora_alpha: int = 4
    checkpoint_every: int = 0
    mixed_precision: str = "no"
    gradient_checkpointing: bool = False
    empty_prompt_share: float = 0.0
    noise_offset: float = 0.0


@dataclass
class TrainResult:
    """Losses per step (index 0 is step 1) and the checkpoint folders written."""

    losses: list[float] = field(default_factory=list)
    checkpoints: list[Path] = field(default_factory=list)
    resumed_from: int = 0


def _trainable(unet: Any, settings: TrainSettings) -> list[torch.nn.Parameter]:
    if settings.lora_rank:
        from peft import LoraConfig

        unet.requires_grad_(False)
        torch.manual_seed(settings.seed)  # LoRA's random init draws from the global RNG
        unet.add_adapter(
            LoraConfig(
                r=settings.lora_rank,
                lora_alpha=settings.lora_alpha,
                init_lora_weights="gaussian",
                target_modules=LORA_TARGETS,
            )
        )
    else:
        unet.requires_grad_(True)
    if settings.gradient_checkpointing:
        unet.enable_gradient_checkpointing()
    return [p for p in unet.parameters() if p.requires_grad]


def _encode(
    pipe: Any, images: torch.Tensor, prompts: list[str], device: torch.device, chunk: int = 16
) -> tuple[torch.Tensor, ...]:
    """Latent mean/std of every image, text embeddings of every prompt and the empty prompt's.

    Encoded in chunks on ``device`` (the VAE of SD 1.5 cannot take a whole data set at
    once); the results are kept on the CPU, float32.
    """
    means, stds, texts = [], [], []
    with torch.no_grad():
        for start in range(0, len(images), chunk):
            part = images[start : start + chunk].to(device, pipe.vae.dtype)
            dist = pipe.vae.encode(part).latent_dist
            means.append(dist.mean.float().cpu())
            stds.append(dist.std.float().cpu())
            ids = pipe.tokenizer(
                prompts[start : start + chunk],
                padding="max_length",
                truncation=True,
                max_length=pipe.tokenizer.model_max_length,
                return_tensors="pt",
            ).input_ids
            texts.append(pipe.text_encoder(ids.to(device))[0].float().cpu())
        ids = pipe.tokenizer(
            [""],
            padding="max_length",
            max_length=pipe.tokenizer.model_max_length,
            return_tensors="pt",
        ).input_ids
        empty = pipe.text_encoder(ids.to(device))[0].float().cpu()
    return torch.cat(means), torch.cat(stds), torch.cat(texts), empty


def _step_loss(
    unet: Any,
    pipe: Any,
    encoded: tuple[torch.Tensor, ...],
    step: int,
    settings: TrainSettings,
    device: torch.device,
    process: int = 0,
) -> torch.Tensor:
    mean, std, text, empty = encoded
    # Each process of a multi-GPU launch draws its own batch for the same step.
    gen = torch.Generator().manual_seed(settings.seed * 1_000_003 + step * 1_009 + process)
    pick = torch.randperm(len(mean), generator=gen)[: settings.batch_size]
    latents = mean[pick] + std[pick] * torch.randn(mean[pick].shape, generator=gen)
    latents = latents * pipe.vae.config.scaling_factor
    noise = torch.randn(latents.shape, generator=gen)
    timesteps = torch.randint(
        0, pipe.scheduler.config.num_train_timesteps, (len(pick),), generator=gen
    )
    if settings.noise_offset > 0:  # drawn after the others: an offset of 0 changes no draw
        shift = torch.randn((*latents.shape[:2], 1, 1), generator=gen)
        noise = noise + settings.noise_offset * shift
    noisy = pipe.scheduler.add_noise(latents, noise, timesteps)
    prompts = text[pick]
    if settings.empty_prompt_share > 0:  # drawn last: a share of 0 leaves every draw as it was
        drop = torch.rand(len(pick), generator=gen) < settings.empty_prompt_share
        prompts = torch.where(drop[:, None, None], empty.expand_as(prompts), prompts)
    pred = unet(noisy.to(device), timesteps.to(device), prompts.to(device)).sample
    # The target follows the base's parameterisation (SD 1.5: epsilon; SD 2.x: v).
    if pipe.scheduler.config.prediction_type == "v_prediction":
        target = pipe.scheduler.get_velocity(latents, noise, timesteps)
    else:
        target = noise
    return F.mse_loss(pred.float(), target.to(device).float())


def _save_checkpoint(
    unet: Any, optimizer: Any, step: int, losses: list[float], folder: Path
) -> Path:
    target = folder / f"checkpoint-{step:06d}"
    target.mkdir(parents=True, exist_ok=True)
    weights = {
        n: p.detach().cpu().contiguous() for n, p in unet.named_parameters() if p.requires_grad
    }
    save_file(weights, str(target / "trainable.safetensors"))
    torch.save(optimizer.state_dict(), target / "optimizer.pt")
    (target / "state.json").write_text(json.dumps({"step": step, "losses": losses}))
    return target


def latest_checkpoint(folder: Path) -> Path | None:
    """The checkpoint with the highest step in ``folder``, if any."""
    found = sorted(folder.glob("checkpoint-*/state.json")) if folder.is_dir() else []
    return found[-1].parent if found else None


def _resume(unet: Any, optimizer: Any, checkpoint: Path) -> tuple[int, list[float]]:
    weights = load_file(str(checkpoint / "trainable.safetensors"))
    missing = set(weights) - {n for n, p in unet.named_parameters() if p.requires_grad}
    if missing:
        raise ValueError(
            f"{checkpoint}: checkpoint weights do not fit this model "
            f"({len(missing)} unknown, e.g. {sorted(missing)[:2]})"
        )
    unet.load_state_dict(weights, strict=False)
    optimizer.load_state_dict(torch.load(checkpoint / "optimizer.pt", weights_only=True))
    state = json.loads((checkpoint / "state.json").read_text())
    return int(state["step"]), list(state["losses"])


def train_unet(
    pipe: Any,
    images: torch.Tensor,
    prompts: list[str],
    settings: TrainSettings,
    checkpoint_dir: Path,
    on_step: Callable[[int, float], None] | None = None,
    resume: bool = True,
) -> TrainResult:
    """Train ``pipe.unet`` (LoRA or full) to denoise ``images`` given ``prompts``.

    Args:
        pipe: A Stable Diffusion pipeline (its UNet is modified in place).
        images: Float tensor (N, 3, R, R) in [-1, 1].
        prompts: One prompt per image.
        settings: Steps, batch, learning rate, LoRA rank, precision, checkpoints.
        checkpoint_dir: Where checkpoints go and are resumed from.
        on_step: Called with (step, loss) after each step (progress, sample grids).
        resume: Continue from the latest checkpoint in ``checkpoint_dir`` if there is one.

    Returns:
        The losses and checkpoints.

    Raises:
        NonFiniteLossError: On a NaN/inf loss, naming the step and the last checkpoint.
    """
    from accelerate import Accelerator

    accelerator = Accelerator(mixed_precision=settings.mixed_precision)
    for frozen in (pipe.vae, pipe.text_encoder):
        frozen.requires_grad_(False)
        frozen.to(accelerator.device)  # beside the UNet, for encoding and sample grids
    params = _trainable(pipe.unet, settings)
    optimizer = torch.optim.AdamW(params, lr=settings.learning_rate)
    encoded = _encode(pipe, images, prompts, accelerator.device)
    result = TrainResult()
    last = latest_checkpoint(checkpoint_dir) if resume else None
    if last is not None:
        result.resumed_from, result.losses = _resume(pipe.unet, optimizer, last)
        result.checkpoints.append(last)
    unet, optimizer = accelerator.prepare(pipe.unet, optimizer)
    unet.train()
    for step in range(result.resumed_from + 1, settings.steps + 1):
        with accelerator.autocast():
            loss = _step_loss(
                unet, pipe, encoded, step, settings, accelerator.device, accelerator.process_index
            )
        value = loss.item()
        if not math.isfinite(value):
            good = result.checkpoints[-1] if result.checkpoints else "none"
            raise NonFiniteLossError(
                f"loss is {value} at step {step}; last good checkpoint: {good}"
            )
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
        if not all(torch.isfinite(p).all() for p in params):
            good = result.checkpoints[-1] if result.checkpoints else "none"
            raise NonFiniteLossError(
                f"weights became non-finite at step {step}; last good checkpoint: {good}"
            )
        result.losses.append(value)
        if on_step is not None:
            on_step(step, value)
        due = step == settings.steps or (
            settings.checkpoint_every and step % settings.checkpoint_every == 0
        )
        accelerator.wait_for_everyone()
        if due and accelerator.is_main_process:
            result.checkpoints.append(
                _save_checkpoint(
                    accelerator.unwrap_model(unet), optimizer, step, result.losses, checkpoint_dir
                )
            )
    pipe.unet = accelerator.unwrap_model(unet)
    pipe.unet.eval()
    return result


def save_lora(pipe: Any, folder: Path) -> Path:
    """Save the UNet's LoRA in the standard diffusers format (``pytorch_lora_weights``)."""
    from diffusers import StableDiffusionPipeline
    from diffusers.utils.state_dict_utils import convert_state_dict_to_diffusers
    from peft.utils import get_peft_model_state_dict

    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(pipe.unet))
    # The adapter's config (rank, alpha) travels with the weights: without it a reload
    # assumes alpha = rank and applies the LoRA at the wrong scale.
    metadata = {
        k: sorted(v) if isinstance(v, set) else v  # sets print in hash order:
        for k, v in pipe.unet.peft_config["default"].to_dict().items()
    }  # not byte-stable
    StableDiffusionPipeline.save_lora_weights(
        str(folder),
        unet_lora_layers=layers,
        safe_serialization=True,
        unet_lora_adapter_metadata=metadata,
    )
    return stable_safetensors(folder / "pytorch_lora_weights.safetensors")


def train_vae(
    vae: Any, images: torch.Tensor, steps: int, learning_rate: float, seed: int, batch_size: int
) -> list[float]:
    """Briefly train a (tiny) VAE to reconstruct ``images`` (MSE + a small KL term).

    A VAE built from configs decodes noise; the tiny base needs one that reconstructs skin
    before its UNet can learn anything visible.

    Returns:
        The loss per step.
    """
    vae.requires_grad_(True)
    vae.train()
    optimizer = torch.optim.AdamW(vae.parameters(), lr=learning_rate)
    losses = []
    for step in range(1, steps + 1):
        gen = torch.Generator().manual_seed(seed * 1_000_003 + step)
        batch = images[torch.randperm(len(images), generator=gen)[:batch_size]]
        dist = vae.encode(batch).latent_dist
        latents = dist.mean + dist.std * torch.randn(dist.mean.shape, generator=gen)
        recon = vae.decode(latents).sample
        loss = F.mse_loss(recon, batch) + 1e-6 * dist.kl().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    vae.requires_grad_(False)
    vae.eval()
    return losses
