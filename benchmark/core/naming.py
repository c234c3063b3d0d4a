"""The classifier variants and the name of one run, ``<variant>_seed<seed>``, in one place.

Model files, prediction CSVs, fairness audits and MLflow child runs all carry it.
"""

from __future__ import annotations

SEED_MARK = "_seed"
# The classifier variants, in the order tables show them (see
# benchmark.classification.variants for what each trains on).
CLASSIFIER_VARIANTS = ("baseline", "reweight", "resample", "augmented")
VARIANT_LABELS = {
    "baseline": "Baseline",
    "reweight": "Reweighted",
    "resample": "Oversampled",
    "augmented": "Augmented",
}


def run_name(variant: str, seed: int) -> str:
    """``baseline``, 42 -> ``baseline_seed42``."""
    return f"{variant}{SEED_MARK}{seed}"


def parse_run_name(name: str) -> tuple[str, int]:
    """``baseline_seed42`` -> (``baseline``, 42).

    Raises:
        ValueError: ``name`` is not ``<variant>_seed<integer>``.
    """
    variant, mark, seed = name.rpartition(SEED_MARK)
    if not (variant and mark and seed.lstrip("-").isdigit()):
        raise ValueError(f"not a run name <variant>{SEED_MARK}<seed>: {name!r}")
    return variant, int(seed)
