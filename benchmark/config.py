"""Typed, frozen configuration: one dataclass per stage.

The library defines these and validates plain mappings into them; reading the params file is
the stages' job (``stages/_params.py``), so the library can be used with any config source.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

T = TypeVar("T")

SourceName = Literal[
    "phantoms",
    "isic-archive",
    "ham10000",
    "isic2017",
    "isic2019",
    "isic2020",
    "segmentation-folder",
]
LinkMode = Literal["hardlink", "copy"]


class ConfigError(ValueError):
    """A configuration mapping does not match its dataclass."""


@dataclass(frozen=True)
class PhantomConfig:
    """How the embedded phantom data set is drawn.

    Attributes:
        n: Number of images.
        seed: Base seed; the same seed gives byte-identical files.
        size: Image side in pixels (square images).
        fst_mix: Probability of each Fitzpatrick type I..VI for a patient (sums to 1).
        melanocytic_fraction: Probability that a lesion is melanocytic.
        boundary_fraction: Share of images whose skin ITA lies within 1.5 degrees of an FST
            bin boundary, to exercise the boundary convention.
        hair_probability: Share of images with hair artefacts.
        vignette_probability: Share of images with dermoscope vignetting.
    """

    n: int = 240
    seed: int = 7
    size: int = 256
    fst_mix: tuple[float, float, float, float, float, float] = (
        0.18,
        0.27,
        0.27,
        0.20,
        0.04,
        0.04,
    )
    melanocytic_fraction: float = 0.18
    boundary_fraction: float = 0.15
    hair_probability: float = 0.4
    vignette_probability: float = 0.5

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ConfigError(f"phantoms.n must be >= 1, got {self.n}")
        if self.size < 32:
            raise ConfigError(f"phantoms.size must be >= 32 px, got {self.size}")
        if len(self.fst_mix) != 6 or abs(sum(self.fst_mix) - 1.0) > 1e-6:
            raise ConfigError(
                f"phantoms.fst_mix must be 6 probabilities summing to 1: {self.fst_mix}"
            )
        for name in (
            "melanocytic_fraction",
            "boundary_fraction",
            "hair_probability",
            "vignette_probability",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"phantoms.{name} must lie in [0, 1], got {value}")


@dataclass(frozen=True)
class IngestConfig:
    """The ``ingest`` stage: which source layout to read and how to treat its files.

    Paths are relative to the raw data folder that the stage receives as a CLI option.

    Attributes:
        source: Layout of the raw data.
        images: Folder of images, relative to the raw folder.
        metadata: Metadata CSV relative to the raw folder ("" when the layout has none).
        masks: Folder of masks relative to the raw folder ("" to search beside the images).
        extra_metadata: Second CSV some layouts carry (ISIC 2019 metadata with lesion_id).
        link: How unchanged images enter the ingested set: hard link (no extra disk; falls
            back to copy across filesystems) or copy. Symlinks are not offered: they would
            point outside the data root, which the manifest refuses.
        mask_threshold: Non-binary masks become ``value > mask_threshold`` (0..255 scale).
        workers: Processes for image validation; 0 means one per core.
        phantoms: Phantom generator settings, used when ``source`` is ``phantoms``.
    """

    source: SourceName = "phantoms"
    images: str = "."
    metadata: str = ""
    masks: str = ""
    extra_metadata: str = ""
    link: LinkMode = "hardlink"
    mask_threshold: int = 127
    workers: int = 0
    phantoms: PhantomConfig = field(default_factory=PhantomConfig)

    def __post_init__(self) -> None:
        if not 0 <= self.mask_threshold < 255:
            raise ConfigError(
                f"ingest.mask_threshold must be in [0, 254], got {self.mask_threshold}"
            )
        if self.workers < 0:
            raise ConfigError(f"ingest.workers must be >= 0, got {self.workers}")


SkinRule = Literal["paper", "classic"]
Center = Literal["mean", "median", "trimmed"]


@dataclass(frozen=True)
class SkintoneConfig:
    """The ``skintone`` stage: ITA estimation and Fitzpatrick binning.

    Two estimates are computed per image. The *paper* estimate is the paper's rule: the mean
    L*, b* of every skin-coloured pixel, lesion included. The *robust* estimate drops the
    lesion (where a mask exists, grown by ``lesion_margin``), drops pixels outside the central
    ellipse shrunk by ``border`` (dermoscope vignetting and rims) and uses ``center``.

    Attributes:
        rule: YCbCr skin rule: ``paper`` (Cb 77-173, Cr 133-255) or ``classic``
            (Cb 77-127, Cr 133-173).
        min_skin_pixels: Fewer skin pixels than this gives ``uncertain`` (paper: 500).
        primary: Which estimate fills ``ita``, ``l_star``, ``b_star``, ``fst``.
        exclude_lesion: Robust estimate: drop lesion-mask pixels.
        lesion_margin: Robust estimate: grow the lesion mask by this fraction of the longer
            image side before dropping it (soft lesion borders).
        border: Robust estimate: fraction of each half-axis cut from the central ellipse.
        center: Robust estimate: ``trimmed`` (mean of the central 80% of values: ignores
            hair and glare tails without the quantisation bias of a median), ``median`` or
            ``mean`` of L*, b*.
        max_side: Decode images at no less than this longer side, using JPEG DCT scaling where
            it applies (0: full resolution). ITA is a mean colour, so a reduced decode changes
            it little; see the README for the measured difference.
        patch_grid: The spread column is the std of ITA over a ``patch_grid`` x
            ``patch_grid`` grid of patches.
        workers: Processes (0: one per core).
    """

    rule: SkinRule = "paper"
    min_skin_pixels: int = 500
    primary: Literal["paper", "robust"] = "robust"
    exclude_lesion: bool = True
    lesion_margin: float = 0.02
    border: float = 0.1
    center: Center = "trimmed"
    max_side: int = 512
    patch_grid: int = 8
    workers: int = 0

    def __post_init__(self) -> None:
        if self.min_skin_pixels < 1:
            raise ConfigError(f"skintone.min_skin_pixels must be >= 1, got {self.min_skin_pixels}")
        if not 0.0 <= self.border < 1.0 or not 0.0 <= self.lesion_margin < 0.5:
            raise ConfigError("skintone.border must be in [0, 1) and lesion_margin in [0, 0.5)")
        if self.max_side < 0 or self.patch_grid < 1 or self.workers < 0:
            raise ConfigError("skintone.max_side, patch_grid and workers must be non-negative")


@dataclass(frozen=True)
class SplitConfig:
    """The ``split`` stage: patient-level train/val/test.

    Attributes:
        fractions: Target image shares of train, val and test (sum to 1).
        seed: Seed of the patient order.
        strata: Manifest columns whose combination is balanced across splits. The diagnosis
            code (not just the superclass) keeps the melanoma share equal across splits.
        paper_mode: Let synthetic rows into validation too, as the paper did (default: train
            only). Test is strictly real either way.
    """

    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
    seed: int = 42
    strata: tuple[str, ...] = ("diagnosis_code", "tone_group")
    paper_mode: bool = False

    def __post_init__(self) -> None:
        if abs(sum(self.fractions) - 1.0) > 1e-6 or min(self.fractions) <= 0:
            raise ConfigError(
                f"split.fractions must be 3 positive shares summing to 1: {self.fractions}"
            )


@dataclass(frozen=True)
class FinetuneConfig:
    """The ``finetune_lora`` stage (paper section 3.2).

    Attributes:
        base_model: Hugging Face id, local diffusers folder, or ``tiny`` (built from configs).
        fst_types: Fitzpatrick types of the fine-tuning subset (paper: V and VI).
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
        pretrain_steps: Tiny base only: steps of VAE reconstruction training, then as many
            of full UNet training, on every labelled real image first, so that LoRA adapts
            a base that knows "skin lesion" (the paper's setting in miniature).
        pretrain_learning_rate: Learning rate of that pre-training.
        seed: Seed of weights (tiny), batches, noise and samples.
    """

    base_model: str = "tiny"
    fst_types: tuple[str, ...] = ("V", "VI")
    resolution: int = 32
    rank: int = 4
    alpha: int = 4
    learning_rate: float = 1e-3
    steps: int = 60
    batch_size: int = 8
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"
    gradient_checkpointing: bool = False
    checkpoint_every: int = 20
    sample_every: int = 30
    sample_steps: int = 10
    pretrain_steps: int = 150
    pretrain_learning_rate: float = 2e-3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.rank < 1:
            raise ConfigError("finetune_lora.steps, batch_size and rank must be >= 1")
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

    melanocytic: int = 8
    non_melanocytic: int = 16
    class_balanced: bool = False
    tones: tuple[str, ...] = ("V", "VI")
    steps: int = 30
    guidance: float = 7.5
    batch_size: int = 8
    seed: int = 1000
    dtype: Literal["float32", "float16", "bfloat16"] = "float32"


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

    size: int = 64
    bins: int = 32
    iqr_factor: float = 1.5
    memorisation_ssim: float = 0.95
    reject_off_tone: bool = False
    inception_weights: str = ""


def from_mapping(cls: type[T], data: Mapping[str, Any], where: str) -> T:
    """Build the frozen dataclass ``cls`` from a plain mapping, checking keys and types.

    Args:
        cls: A dataclass type whose fields have simple annotations (scalars, ``Literal``,
            tuples, nested dataclasses).
        data: The mapping, e.g. one section of the params file.
        where: Name of the source for error messages, e.g. ``"<params file>: ingest"``.

    Returns:
        The validated instance.

    Raises:
        ConfigError: On unknown keys, wrong types or values outside a ``Literal``; the message
            names ``where`` and the key.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(names)}")
    kwargs = {k: _coerce(hints[k], v, f"{where}.{k}") for k, v in data.items()}
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return from_mapping(hint, value, where)
    if origin is Literal:
        if value not in typing.get_args(hint):
            raise ConfigError(f"{where}: {value!r} is not one of {list(typing.get_args(hint))}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, where) for v in value)
        if len(args) != len(value):
            raise ConfigError(f"{where}: expected {len(args)} values, got {len(value)}")
        return tuple(_coerce(a, v, where) for a, v in zip(args, value, strict=True))
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            try:
                return _coerce(arg, value, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}: {value!r} does not match {hint}")
    if hint is type(None):
        if value is not None:
            raise ConfigError(f"{where}: expected null, got {value!r}")
        return None
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and (
        not isinstance(value, hint) or (hint is int and isinstance(value, bool))
    ):
        raise ConfigError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value
