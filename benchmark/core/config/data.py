"""Configs of the data stages: phantoms, ingest, skin tone and splits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from benchmark.core.config.base import ConfigError

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


@dataclass(frozen=True)
class PhantomConfig:
    """How the embedded phantom data set is drawn.

    Attributes:
        n: Number of images.
        seed: Base seed; the same seed gives byte-identical files.
        size: Image side in pixels (square images).
        fst_mix: Probability of each Fitzpatrick type I..VI for a patient (sums to 1).
        melanocytic_fraction: Share of each type's images that is melanocytic (a quota per
            type, so the dark types hold their share exactly).
        boundary_fraction: Share of images whose skin ITA lies within 1.5 degrees of an FST
            bin boundary, to exercise the boundary convention.
        hair_probability: Share of images with hair artefacts.
        vignette_probability: Share of images with dermoscope vignetting.
        texture: Amplitude (CIELAB units) of the mottled skin texture of fixed size drawn on
            every image whatever its skin (:class:`benchmark.phantoms.render.PhantomSpec`):
            the noise against which the weaker lesion cues of dark skin must stand out.
    """

    n: int
    seed: int
    size: int
    fst_mix: tuple[float, float, float, float, float, float]
    melanocytic_fraction: float
    boundary_fraction: float
    hair_probability: float
    vignette_probability: float
    texture: float

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ConfigError(f"phantoms.n must be >= 1, got {self.n}")
        if self.size < 32:
            raise ConfigError(f"phantoms.size must be >= 32 px, got {self.size}")
        if not 0 <= self.texture <= 20:
            raise ConfigError(f"phantoms.texture must lie in [0, 20] CIELAB units: {self.texture}")
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

    source: SourceName
    images: str
    metadata: str
    masks: str
    extra_metadata: str
    link: LinkMode
    mask_threshold: int
    workers: int
    phantoms: PhantomConfig

    def __post_init__(self) -> None:
        if not 0 <= self.mask_threshold < 255:
            raise ConfigError(
                f"ingest.mask_threshold must be in [0, 254], got {self.mask_threshold}"
            )
        if self.workers < 0:
            raise ConfigError(f"ingest.workers must be >= 0, got {self.workers}")


SkinRule = Literal["paper", "classic"]
RobustRule = Literal["fov", "paper", "classic"]
Center = Literal["mode", "trimmed", "median", "mean"]
Estimate = Literal["paper", "paper_guarded", "robust"]
ColourConstancy = Literal["none", "gray_world", "shades_of_gray", "max_rgb"]


@dataclass(frozen=True)
class SkintoneConfig:
    """The ``skintone`` stage: ITA estimation and Fitzpatrick binning.

    Three estimates are computed per image (see :mod:`benchmark.skintone.estimate`):

    - *paper*: the paper's rule exactly as printed, the mean L*, b* of every pixel inside
      the YCbCr skin rule, lesion included, and ``atan((L* - 50) / b*)`` with no b* guard (a
      bluish background comes out type VI), for reproducing the paper's tables.
    - *paper_guarded*: the same pixels; b* <= 0 gives ``uncertain``.
    - *robust*: every pixel of the field of view (``robust_rule``), less the lesion grown by
      ``lesion_margin`` (the ground-truth mask, else an estimated one), inside the central
      ellipse shrunk by ``border`` (vignetting), centred with ``center``; b* <= 0 is typed by
      ``atan2`` (L* above 50 light, below 50 dark) instead of left uncertain.

    Attributes:
        rule: YCbCr skin rule of the paper estimates: ``paper`` (Cb 77-173, Cr 133-255) or
            ``classic`` (Cb 77-127, Cr 133-173).
        min_skin_pixels: Fewer skin pixels than this gives ``uncertain`` (paper: 500).
        primary: Which estimate fills ``ita``, ``l_star``, ``b_star``, ``fst``.
        exclude_lesion: Robust estimate: drop lesion pixels.
        lesion_estimate: Robust estimate, images without a ground-truth mask: ``maxflow``
            estimates the lesion with the suite's Max-Flow segmenter; ``none`` excludes
            nothing (recorded as mask source ``none``).
        min_lesion_fraction: An estimated lesion covering less of the field of view than this
            is treated as no lesion found (nothing excluded, reason recorded).
        max_lesion_fraction: An estimated lesion (grown) covering more of the field of view
            than this leaves too little skin: the robust estimate is ``uncertain``, reason
            recorded.
        lesion_margin: Robust estimate: grow the lesion mask by this fraction of the longer
            image side before dropping it (soft lesion borders).
        border: Robust estimate: fraction of each half-axis cut from the central ellipse.
        rim_share: Robust estimate: when the central ellipse holds less than this share of
            the skin left after the lesion is removed (a lesion filling the view), the whole
            field of view is used instead.
        robust_rule: Robust estimate's skin pixels: ``fov`` (every pixel in the field of
            view, i.e. not a near-black dermatoscope corner) or a YCbCr rule. Dermoscopic skin
            is often pale and bluish and fails the YCbCr rule (docs/explanation/skin-type.md).
        colour_constancy: Robust estimate: correct the image's colour cast first
            (:mod:`benchmark.skintone.constancy`): ``none``, ``gray_world``,
            ``shades_of_gray`` (Minkowski p = 6) or ``max_rgb``. A grey or near-black image
            is then ``uncertain`` with the reason. Measured on phantoms with planted casts,
            every method removes the skin's own colour with the cast
            (docs/explanation/skin-type.md), so the default is ``none``; the paper estimates
            never use it.
        center: Robust estimate: ``mode`` (Gaussian mean shift in (L*, b*) from the densest
            colour: residual lesion, hair and vignette pixels far from the skin colour carry no
            weight), ``trimmed`` (mean of the central 80% of values), ``median`` or ``mean``.
        max_side: Decode images at no less than this longer side, using JPEG DCT scaling where
            it applies (0: full resolution). ITA is a mean colour, so a reduced decode changes
            it little; docs/explanation/skin-type.md gives the measured difference.
        patch_grid: The spread column is the std of ITA over a ``patch_grid`` x
            ``patch_grid`` grid of patches.
        workers: Processes (0: one per core).
    """

    rule: SkinRule
    min_skin_pixels: int
    primary: Estimate
    exclude_lesion: bool
    lesion_estimate: Literal["maxflow", "none"]
    min_lesion_fraction: float
    max_lesion_fraction: float
    lesion_margin: float
    border: float
    rim_share: float
    robust_rule: RobustRule
    colour_constancy: ColourConstancy
    center: Center
    max_side: int
    patch_grid: int
    workers: int

    def __post_init__(self) -> None:
        if self.min_skin_pixels < 1:
            raise ConfigError(f"skintone.min_skin_pixels must be >= 1, got {self.min_skin_pixels}")
        if not 0.0 <= self.border < 1.0 or not 0.0 <= self.lesion_margin < 0.5:
            raise ConfigError("skintone.border must be in [0, 1) and lesion_margin in [0, 0.5)")
        if not 0.0 <= self.min_lesion_fraction < self.max_lesion_fraction <= 1.0:
            raise ConfigError(
                "skintone needs 0 <= min_lesion_fraction < max_lesion_fraction <= 1, got "
                f"{self.min_lesion_fraction} and {self.max_lesion_fraction}"
            )
        if not 0.0 <= self.rim_share <= 1.0:
            raise ConfigError(f"skintone.rim_share must lie in [0, 1], got {self.rim_share}")
        if self.max_side < 0 or self.patch_grid < 1 or self.workers < 0:
            raise ConfigError("skintone.max_side, patch_grid and workers must be non-negative")


@dataclass(frozen=True)
class SplitConfig:
    """The ``split`` and ``merge`` stages: patient-level train/val/test of the real rows.

    Attributes:
        fractions: Target image shares of train, val and test (sum to 1).
        seed: Seed of the patient order.
        strata: Manifest columns whose combination is balanced across splits. The diagnosis
            code (not just the superclass) keeps the melanoma share equal across splits.
        paper_mode: The merge stage lets synthetic rows into validation too, as the paper did
            (default: train only); only the augmented variant validates on them, the
            baseline's validation stays real. Test is strictly real either way.
        test_per_tone: 0 (default): test is ``fractions[2]`` of every stratum. N > 0: a
            tone-balanced test split of at least N real images per tone group in
            ``test_tones`` (whole split groups, seeded), the rest split train/val in the
            ratio ``fractions[0]:fractions[1]`` as before; test images of other tone groups
            go to train/val. Gives the dark-skin rows a test split with statistical power
            while training keeps the data's own skew.
        test_tones: The tone groups a balanced test split holds (see
            :data:`benchmark.core.splits.TONE_GROUPS`).
        test_melanocytic_share: Share of each tone group's balanced test images that is
            melanocytic.
    """

    fractions: tuple[float, float, float]
    seed: int
    strata: tuple[str, ...]
    paper_mode: bool
    test_per_tone: int
    test_tones: tuple[str, ...]
    test_melanocytic_share: float

    def __post_init__(self) -> None:
        if abs(sum(self.fractions) - 1.0) > 1e-6 or min(self.fractions) <= 0:
            raise ConfigError(
                f"split.fractions must be 3 positive shares summing to 1: {self.fractions}"
            )
        if self.test_per_tone < 0 or not 0.0 <= self.test_melanocytic_share <= 1.0:
            raise ConfigError(
                "split.test_per_tone must be >= 0 and split.test_melanocytic_share in [0, 1]: "
                f"{self.test_per_tone}, {self.test_melanocytic_share}"
            )
        if self.test_per_tone and not self.test_tones:
            raise ConfigError("split.test_tones must name a tone group when test_per_tone > 0")
