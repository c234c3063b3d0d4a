"""Warnings that travel with numbers: phantom data, few dark-skin images, seed intervals.

One owner for each sentence, so a stage file and the report say the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable

PHANTOM_DATASET = "phantoms"  # the manifest's ``dataset`` value of generated phantoms
PHANTOM_WARNING = (
    "The data are phantoms (synthetic images of known skin colour), not patients: these "
    "numbers test the pipeline, not the methods."
)
SEED_INTERVAL = (
    "Seed intervals cover training noise only (weights, augmentation, batch order): the "
    "split, the LoRA and the synthetic set are the same in every seed. A t-interval over a "
    "few seeds ignores a metric's range; its ends are cut there (a proportion's at 0 and 1)."
)


def is_phantom(datasets: Iterable[object]) -> bool:
    """Whether every row comes from the phantom generator (an empty input is not)."""
    values = [str(d) for d in datasets]
    return bool(values) and all(v == PHANTOM_DATASET for v in values)
