"""Base models: the real Stable Diffusion path and a tiny one built from configs, offline.

``base_model`` is a Hugging Face id (paper: ``stable-diffusion-v1-5/stable-diffusion-v1-5``),
a local diffusers folder, or ``tiny``: a miniature SD (small UNet2DConditionModel,
AutoencoderKL, CLIPTextModel) with a character-level CLIP tokenizer written deterministically
by :func:`write_char_tokenizer` (the ``tokenizers`` BPE trainer is not deterministic across
processes). All go through the same :class:`StableDiffusionPipeline` and LoRA code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

TINY = "tiny"
_SPECIAL = ("<|startoftext|>", "<|endoftext|>")


class BaseModelError(ValueError):
    """The base model cannot be loaded; the message says what to provide."""


def _byte_chars() -> list[str]:
    """GPT-2/CLIP byte-to-unicode table: 256 printable characters, one per byte."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    extra = [b for b in range(256) if b not in printable]
    codes = dict(
        zip(printable + extra, printable + [256 + i for i in range(len(extra))], strict=True)
    )
    return [chr(codes[b]) for b in range(256)]


def write_char_tokenizer(folder: Path, max_length: int = 32) -> Path:
    """Write a character-level CLIP tokenizer (``vocab.json``, ``merges.txt``) to ``folder``.

    Every byte character, the same with the end-of-word mark ``</w>``, and the two special
    tokens: 514 tokens, no merges, so any text tokenises (one token per character) and the
    files are identical on every run.
    """
    chars = _byte_chars()
    vocab = {token: i for i, token in enumerate([*chars, *(c + "</w>" for c in chars), *_SPECIAL])}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"model_max_length": max_length, "tokenizer_class": "CLIPTokenizer"}),
        encoding="utf-8",
    )
    return folder


def build_tiny(folder: Path, resolution: int, seed: int) -> Path:
    """Build the tiny SD from configs with seeded random weights and save it as diffusers.

    Args:
        folder: Destination (a diffusers pipeline folder).
        resolution: Image side in pixels (the VAE halves it once).
        seed: Seed of the random initial weights.

    Returns:
        ``folder``.
    """
    from diffusers import (
        AutoencoderKL,
        DDPMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(seed)
    tokenizer_dir = write_char_tokenizer(folder / "_tokenizer_src", max_length=96)
    tokenizer = CLIPTokenizer(
        str(tokenizer_dir / "vocab.json"), str(tokenizer_dir / "merges.txt"), model_max_length=96
    )
    eos = int(tokenizer.convert_tokens_to_ids(_SPECIAL[1]))  # type: ignore[arg-type]
    text = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=96,
            bos_token_id=int(tokenizer.convert_tokens_to_ids(_SPECIAL[0])),  # type: ignore[arg-type]
            eos_token_id=eos,
            pad_token_id=eos,
        )
    )
    unet = UNet2DConditionModel(
        sample_size=resolution // 2,
        in_channels=4,
        out_channels=4,
        block_out_channels=(32, 64),
        layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=8,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=(32, 64),
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=resolution,
    )
    scheduler = DDPMScheduler(
        num_train_timesteps=1000,
        beta_schedule="scaled_linear",
        beta_start=0.00085,
        beta_end=0.012,
        clip_sample=False,
        steps_offset=1,
    )
    pipe: Any = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder)
    return folder


def load_pipeline(base_model: str, dtype: torch.dtype = torch.float32) -> Any:
    """Load a Stable Diffusion pipeline from a diffusers folder or a Hugging Face id, offline.

    Raises:
        BaseModelError: A folder that is not a diffusers pipeline, or an id whose files are
            not in the local Hugging Face cache; the message says what to download and where.
    """
    from diffusers import StableDiffusionPipeline

    path = Path(base_model)
    if path.exists():
        if not (path / "model_index.json").is_file():
            raise BaseModelError(
                f"{path} is not a diffusers pipeline folder (no "
                "model_index.json); give a folder written by save_pretrained"
            )
        source = str(path)
    else:
        source = base_model
    try:
        return StableDiffusionPipeline.from_pretrained(
            source,
            dtype=dtype,
            safety_checker=None,
            requires_safety_checker=False,
            local_files_only=True,
        )
    except (OSError, ValueError) as exc:
        raise BaseModelError(
            f"cannot load base model {base_model!r} offline: {exc}. Download it first on a "
            f"machine with access (`huggingface-cli download {base_model} --local-dir "
            f"models/sd`), then set generative base_model to that folder."
        ) from exc
