"""``models/finetune/finetune.json``: what the ``finetune_lora`` stage trained, and on what.

Written by :func:`benchmark.generative.finetune.finetune`; read by ``generate`` (which base
and LoRA to load) and ``validate_synthetic`` (the LoRA's training images are its references
and its memorisation check). Both lists of training images are checked against the split:
an image outside train is refused.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from benchmark.core.io import FileContentError, read_json, write_json_atomic
from benchmark.core.splits import check_training_ids
from benchmark.core.status import NOT_RUN, NotRun

RAN = "ran"
RECORD_FILE = "finetune.json"


@dataclass(frozen=True)
class TrainingSet:
    """Images (and their patients) a model was trained on, sorted."""

    image_ids: tuple[str, ...] = ()
    patients: tuple[str, ...] = ()

    @classmethod
    def of(cls, rows: pd.DataFrame) -> TrainingSet:
        """The set of manifest ``rows``."""
        return cls(
            tuple(sorted(map(str, rows["image_id"]))),
            tuple(sorted(set(map(str, rows["patient_id"])))),
        )


@dataclass(frozen=True)
class FinetuneRecord:
    """``models/finetune/finetune.json``: what generate and validate_synthetic read.

    Attributes:
        status: ``ran`` or ``not run``.
        reason: Why it did not run ("" when it ran).
        fst_types: Types of the fine-tuning subset.
        lora_training: The LoRA's training images and patients (train split only).
        base_training: The tiny base's pre-training images and patients (empty otherwise).
        base_model: What ``generate`` loads: the saved tiny base folder, or the id/path given.
        base_digest: Content digest of a local base ("" for a hub id).
        lora: The ``pytorch_lora_weights.safetensors`` file.
        lora_sha256: Its SHA-256.
        subset: LoRA training images by superclass.
        resolution: Training image side (pixels).
        final_loss: Last LoRA loss.
    """

    status: str
    reason: str
    fst_types: tuple[str, ...]
    lora_training: TrainingSet = TrainingSet()
    base_training: TrainingSet = TrainingSet()
    base_model: str = ""
    base_digest: str = ""
    lora: str = ""
    lora_sha256: str = ""
    subset: dict[str, int] = field(default_factory=dict)
    resolution: int = 0
    final_loss: float | None = None

    @property
    def not_run(self) -> NotRun | None:
        """Why the branch did not run, or ``None`` when it ran."""
        return None if self.status == RAN else NotRun(self.reason)

    def check_train_only(self, split: pd.DataFrame, path: Path) -> None:
        """Refuse a record whose training lists name an image outside ``split``'s train rows.

        Raises:
            benchmark.core.splits.SplitError: Naming the file, the list and the images.
        """
        for what, chosen in (("LoRA", self.lora_training), ("tiny base", self.base_training)):
            check_training_ids(split, chosen.image_ids, f"{path} {what}")

    def write(self, path: Path) -> None:
        """Write as indented JSON, atomically."""
        write_json_atomic(path, asdict(self))

    @classmethod
    def read(cls, path: Path) -> FinetuneRecord:
        """Read a record written by :meth:`write`.

        Raises:
            FileContentError: Unreadable, or not such a record.
        """
        data = read_json(path, dict)
        try:
            sets = {
                k: TrainingSet(**{name: tuple(v) for name, v in data.pop(k).items()}) for k in _SETS
            }
            record = cls(**{**data, **sets, "fst_types": tuple(data["fst_types"])})
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise FileContentError(path, f"not a finetune_lora record: {exc}") from exc
        if record.status not in (RAN, NOT_RUN):
            raise FileContentError(path, f"status must be '{RAN}' or '{NOT_RUN}'")
        return record


_SETS = ("lora_training", "base_training")
