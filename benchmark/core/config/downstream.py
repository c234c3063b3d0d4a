"""Configs of the downstream branches: shared preprocessing and segmentation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from benchmark.core.config.base import ConfigError, Device, Precision
from benchmark.core.defaults import (
    IntervalMethod,
    PatientRule,
)
from benchmark.core.fitzpatrick import ContrastSpec
from benchmark.core.naming import CLASSIFIER_VARIANTS

MaskSource = Literal["maxflow", "none"]
MaxflowInput = Literal["raw", "preprocessed"]
AugmentRng = Literal["stream", "per_image"]
Architecture = Literal["efficientnet_b0", "phantom_cnn"]
Schedule = Literal["plateau", "one_cycle"]
Augmentation = Literal["paper", "geometric"]


@dataclass(frozen=True)
class PreprocessConfig:
    """The ``preprocess`` stage (paper section 3.3.1), done once per image and cached.

    Steps run in the paper's order: resize, Non-Local Means, gamma, CLAHE, hair/ruler removal.

    Attributes:
        size: Side of the square cache images in pixels (paper: 224).
        denoise: Apply Non-Local Means (``cv2.fastNlMeansDenoisingColored``).
        denoise_strength: Its filter strength ``h`` for luminance and colour.
        gamma: Gamma of the correction ``out = in ** (1 / gamma)`` on [0, 1]; 1.0 is off. The
            paper names the step without a value.
        clahe: Apply CLAHE to the CIELAB L* channel.
        clahe_clip: CLAHE clip limit.
        clahe_tiles: CLAHE tiles per side.
        hair_removal: Black-hat hair/ruler detection, threshold, inpainting.
        hair_kernel: Side of the black-hat structuring element in pixels at ``size``.
        hair_threshold: Black-hat response (grey levels) above which a pixel is hair.
        inpaint_radius: Inpainting radius in pixels.
        max_artefact_fraction: Share of pixels still hair-like after removal above which an
            image is excluded as ``persistent_artefact``.
        synthetic_masks: Where synthetic images get segmentation masks: ``maxflow``
            pseudo-masks (Max-Flow on the resized original, see
            :data:`benchmark.preprocess.run.PSEUDO_MASK_INPUT`) or ``none`` (synthetic images
            then take no part in segmentation).
        workers: Processes (0 = one per core).
    """

    size: int
    denoise: bool
    denoise_strength: float
    gamma: float
    clahe: bool
    clahe_clip: float
    clahe_tiles: int
    hair_removal: bool
    hair_kernel: int
    hair_threshold: int
    inpaint_radius: int
    max_artefact_fraction: float
    synthetic_masks: MaskSource
    workers: int

    def __post_init__(self) -> None:
        if self.size < 16 or self.size % 8:
            raise ConfigError(f"preprocess.size must be a multiple of 8, >= 16: {self.size}")
        if self.gamma <= 0:
            raise ConfigError(f"preprocess.gamma must be > 0: {self.gamma}")
        if not 0 < self.max_artefact_fraction <= 1:
            raise ConfigError("preprocess.max_artefact_fraction must be in (0, 1]")
        if self.hair_kernel < 3 or self.hair_kernel % 2 == 0:
            raise ConfigError(f"preprocess.hair_kernel must be odd and >= 3: {self.hair_kernel}")


@dataclass(frozen=True)
class SegmentConfig:
    """The ``segment`` stage (paper section 3.3.2, Table 3).

    Attributes:
        epochs: FCN training epochs (paper: 30).
        batch_size: Images per step (paper: 16).
        learning_rate: Adam learning rate (paper: 1e-4); the peak under ``one_cycle``.
        schedule: ``plateau`` (the paper: ReduceLROnPlateau on validation AUC) or
            ``one_cycle`` (warm-up to ``learning_rate`` over the first 30% of the steps of
            ``max_epochs``, then cosine annealing; the plateau settings are then unused).
        threshold: Probability above which a pixel is lesion. Fixed in advance, never tuned
            on test.
        flips: Random horizontal/vertical flips of image and mask in training (the paper
            names no augmentation for segmentation).
        seed: Seed of weights and batch order; both variants use it.
        maxflow_input: What Max-Flow segments when it is evaluated on the test images:
            ``raw`` (the original image resized to the cache size; the method removes hair
            and corrects shading itself) or ``preprocessed`` (the cached image the FCNs see,
            CLAHE included). Test-time input only: the synthetic images' Max-Flow
            pseudo-masks are made by the ``preprocess`` stage, always from the raw input
            (:data:`benchmark.preprocess.run.PSEUDO_MASK_INPUT`), whatever this says.
        overlays: Test images shown in the overlay figure.
        threads: Torch CPU threads (0 = torch's default); fixed threads make CPU results
            repeatable.
        device: ``cpu``, ``cuda`` or ``auto`` (the GPU if torch sees one, else the CPU, said
            in the run's tags). The embedded profile pins ``cpu``: its results are the CPU's.
        mixed_precision: ``no``, ``fp16`` or ``bf16`` autocast (fp16 with gradient scaling).
        workers: DataLoader processes reading batches from the cache memory map (0: the
            training process reads them); never changes a result.
    """

    epochs: int
    batch_size: int
    learning_rate: float
    threshold: float
    flips: bool
    seed: int
    maxflow_input: MaxflowInput
    overlays: int
    threads: int
    device: Device
    mixed_precision: Precision
    workers: int

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError("segment.epochs and segment.batch_size must be >= 1")
        if not 0 < self.threshold < 1:
            raise ConfigError(f"segment.threshold must be in (0, 1): {self.threshold}")
        if self.workers < 0:
            raise ConfigError(f"segment.workers must be >= 0: {self.workers}")


@dataclass(frozen=True)
class ClassifyConfig:
    """The ``classify`` stage (paper section 3.3.3, Table 5, Figure 5).

    Attributes:
        architecture: ``efficientnet_b0`` (the paper) or ``phantom_cnn`` (a 65k-parameter
            CNN for 64 px phantoms; the embedded profile), see
            :mod:`benchmark.classification.model`.
        weights: ``imagenet`` (torchvision ``EfficientNet_B0_Weights.DEFAULT``), a local
            weights file, or ``none`` (random initialisation; the offline embedded profile).
        variants: Any of ``baseline`` (real training images), ``reweight`` (loss weights
            inverse to tone-group frequency), ``resample`` (real dark-skin images oversampled
            to generation's count) and ``augmented`` (plus validated synthetic ones); see
            :mod:`benchmark.classification.variants`.
        seeds: One training run per seed and variant (paper: [42]).
        max_epochs: Upper bound on epochs (paper: 25).
        freeze_epochs: Epochs with the backbone frozen before all layers train (paper: 3).
        batch_size: Images per step (paper: 32).
        learning_rate: Adam learning rate (paper: 1e-4); the peak under ``one_cycle``.
        schedule: ``plateau`` (the paper: ReduceLROnPlateau on validation AUC) or
            ``one_cycle`` (warm-up to ``learning_rate`` over the first 30% of the steps of
            ``max_epochs``, then cosine annealing; the plateau settings are then unused).
        weight_decay: Adam weight decay (paper: 1e-4).
        class_weights: Cross-entropy weights of (non-melanocytic, melanocytic) (paper: 1, 1).
        plateau_factor: ReduceLROnPlateau factor on validation AUC (paper: 0.5).
        plateau_patience: Its patience in epochs (paper: 3).
        min_learning_rate: Its floor (paper: 1e-7).
        early_stopping: Epochs without a better validation AUC before stopping (paper: 7).
        grad_clip: Gradient-norm clip (paper: 1.0).
        dropout: Head dropout (paper: 0.3).
        augment: Whether training images are augmented.
        augmentation: Which augmentations: ``paper`` (RandomResizedCrop, both flips,
            ColorJitter(0.2, 0.2, 0.2, 0.1)) or ``geometric`` (both flips and a rotation by a
            multiple of 90 degrees: a lesion's colour and size are its phantom cues, which
            jitter and crops would blur).
        min_val_auc: A run whose kept epoch's validation AUC is at or below this is marked
            failed (as is one with constant test scores or a single predicted class) and left
            out of every mean (:mod:`benchmark.classification.guard`); in [0.5, 1].
        threads: Torch CPU threads (0 = torch's default). The same seed and thread count give
            identical predictions.
        device: ``cpu``, ``cuda`` or ``auto`` (the GPU if torch sees one, else the CPU, said
            in the run's tags). The embedded profile pins ``cpu``: its results are the CPU's.
        mixed_precision: ``no``, ``fp16`` or ``bf16`` autocast (fp16 with gradient scaling).
        workers: DataLoader processes reading batches from the cache memory map (0: the
            training process reads them); never changes a result.
        augment_rng: How augmentations are seeded: ``stream`` (torch's generator in the
            training process, image after image; the embedded profile) or ``per_image``
            (each image by (seed, epoch, cache row), in the loader's workers; needed for
            ``accelerate launch`` to repeat one process, and to keep a GPU fed).
    """

    architecture: Architecture
    weights: str
    variants: tuple[str, ...]
    seeds: tuple[int, ...]
    max_epochs: int
    freeze_epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    class_weights: tuple[float, float]
    plateau_factor: float
    plateau_patience: int
    min_learning_rate: float
    early_stopping: int
    grad_clip: float
    dropout: float
    schedule: Schedule
    augment: bool
    augmentation: Augmentation
    min_val_auc: float
    threads: int
    device: Device
    mixed_precision: Precision
    workers: int
    augment_rng: AugmentRng

    def __post_init__(self) -> None:
        unknown = set(self.variants) - set(CLASSIFIER_VARIANTS)
        if unknown or not self.variants:
            raise ConfigError(
                f"classify.variants must be among {'/'.join(CLASSIFIER_VARIANTS)}: {self.variants}"
            )
        if not self.seeds or self.max_epochs < 1 or self.batch_size < 1:
            raise ConfigError("classify.seeds must be non-empty; max_epochs, batch_size >= 1")
        if min(self.class_weights) <= 0:
            raise ConfigError(f"classify.class_weights must be positive: {self.class_weights}")
        if self.workers < 0:
            raise ConfigError(f"classify.workers must be >= 0: {self.workers}")
        if not 0.5 <= self.min_val_auc <= 1.0:
            raise ConfigError(f"classify.min_val_auc must lie in [0.5, 1]: {self.min_val_auc}")


@dataclass(frozen=True)
class FairnessConfig:
    """The ``fairness`` stage: every classifier audited on the real test split.

    Attributes:
        group_col: Predictions column that names the group: the headline grouping of every
            audit and of the study (``fst_robust``, the robust ITA estimate, in both
            profiles; :mod:`benchmark.core.groupings`).
        also_group_by: Further group columns the study is repeated with (each variant over
            its seeds, no paired comparisons): ``fst_paper`` shows what the paper's rule
            as printed would have concluded.
        cluster_col: Predictions column of the patient id: the unit the bootstrap resamples
            and the permutation tests move between groups. Images without one are units
            of their own; a file without the column treats images as independent.
        patient_groups: A patient whose images carry two groups: ``error`` or
            ``majority`` (each patient takes its most frequent group; an image-wise
            estimate such as ITA can split a patient).
        bootstrap: Replicates of the hierarchical bootstrap (seeds, then patients) behind
            every interval (0 = none; percentile intervals want >= 2,000).
        permutations: Permutations of every between-group test (0 = none).
        seed: Seed of the resamples and permutations.
        min_positives: Groups with fewer patients holding a positive image are shown but
            left out of worst group and gaps.
        min_negatives: The same for patients holding a negative image.
        contrast: The pre-specified contrast ``high`` minus ``low`` (sets of skin types).
        interval: Exact columns' binomial interval: ``clopper-pearson`` or ``wilson``.
        compare: Pairs ``[A, B]`` of variants compared on the same test images over their
            common seeds (Δ = B − A, Holm across the pairs); a pair with a variant that did
            not run is skipped.
    """

    group_col: str
    also_group_by: tuple[str, ...]
    cluster_col: str
    patient_groups: PatientRule
    bootstrap: int
    permutations: int
    seed: int
    min_positives: int
    min_negatives: int
    contrast: ContrastSpec
    interval: IntervalMethod
    compare: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        if self.group_col in self.also_group_by:
            raise ConfigError(
                f"fairness.also_group_by repeats fairness.group_col ({self.group_col!r})"
            )
