"""Clustered data without a group effect: the null the audit's tests must keep their level on.

Patients carry the skin type (the same number of patients per type) and a random effect on
the logit of every one of their scores (patients differ: one's images are all easy, another's
all hard); labels are drawn per image; nothing depends on the skin type.
"""

from __future__ import annotations

import numpy as np

TYPES = ("I", "II", "III", "IV", "V", "VI")


def clustered_null(
    seed: int, per_patient: int = 16, patients: int = 60, effect_sd: float = 1.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(y_true, y_score, groups, patient ids), shape (patients * per_patient,) each.

    ``per_patient`` may be fractional (e.g. 1.5): each patient then has 1 + Poisson
    (per_patient - 1) images.
    """
    rng = np.random.default_rng(seed)
    if float(per_patient).is_integer():
        counts = np.full(patients, int(per_patient))
    else:
        counts = 1 + rng.poisson(per_patient - 1, patients)
    patient = np.repeat(np.arange(patients), counts)
    effect = rng.normal(0.0, effect_sd, patients)[patient]
    y = rng.integers(0, 2, patient.size)
    logit = 2.0 * y - 1 + effect + rng.normal(0, 1, patient.size)
    types = np.repeat(TYPES, patients // len(TYPES))[patient]
    return y, 1 / (1 + np.exp(-logit)), types, patient.astype(str)
