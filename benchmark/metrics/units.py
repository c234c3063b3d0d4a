"""The unit that carries a skin type: the patient (or, without patient ids, the image).

Images of one patient share the patient's skin, often the lesion, and the model's errors on
them are correlated. So every statistic of the audit treats the patient as the unit: the
bootstrap resamples patients (:mod:`benchmark.metrics.bootstrap`), the permutation test
moves whole patients between groups (:mod:`benchmark.metrics.permutation`), and the
compared-groups rule counts patients (:func:`patient_counts`).

A skin type belongs to the patient. When a patient's images carry two groups (an
image-wise estimate such as ITA can do that), ``rule`` decides:

- ``error``: refuse, naming the patient and its groups;
- ``majority``: every image of the patient takes the group most of its images have (ties:
  the group listed first, :func:`benchmark.metrics.fairness.group_order`), and the count of
  patients so reassigned is reported.

An image without a patient id is a unit of its own. Without a patient column every image
is a unit, and outputs say the test treats images as independent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from benchmark.core.defaults import PATIENT_RULES, PatientRule
from benchmark.metrics.inputs import FairnessInputError

PATIENTS, IMAGES = "patients", "images"


@dataclass(frozen=True)
class Units:
    """Images grouped into units, and each unit's group and label pattern.

    Attributes:
        index: (n,) the unit of each image, 0..K-1.
        group: (n,) each image's group after the patient rule.
        unit_group: (K,) each unit's group.
        has_positive: (K,) whether the unit has a positive image.
        has_negative: (K,) whether the unit has a negative image.
        kind: :data:`PATIENTS` or :data:`IMAGES` (no patient ids at all).
        reassigned: Patients whose images the ``majority`` rule moved to one group.
    """

    index: NDArray[np.intp]
    group: NDArray[np.str_]
    unit_group: NDArray[np.str_]
    has_positive: NDArray[np.bool_]
    has_negative: NDArray[np.bool_]
    kind: str
    reassigned: int = 0

    @property
    def count(self) -> int:
        """Number of units K."""
        return int(self.unit_group.size)

    @property
    def stratum(self) -> NDArray[np.int64]:
        """(K,) label pattern: 0 negatives only, 1 positives only, 2 both.

        The permutation test moves units only within a stratum, so every group keeps its
        number of patients with a positive and with a negative image, and a statistic
        defined on the data stays defined under every permutation.
        """
        return np.where(self.has_positive & self.has_negative, 2, self.has_positive.astype(int))


def build_units(
    y_true: NDArray[np.int64],
    groups: NDArray[np.str_],
    clusters: NDArray[np.str_] | None,
    order: Sequence[str],
    rule: PatientRule = "error",
) -> Units:
    """The units of an audit.

    Args:
        y_true: (n,) 0/1 labels.
        groups: (n,) group per image.
        clusters: (n,) patient id per image (a missing id already made unique per row by
            :func:`benchmark.metrics.inputs.check_clusters`), or None: images are units.
        order: Every group label, in display order (ties of the majority rule).
        rule: What to do with a patient whose images carry two groups (module docstring).

    Raises:
        FairnessInputError: ``rule == "error"`` and a patient is in two groups (naming the
            patient and the groups), or an unknown rule.
    """
    if rule not in PATIENT_RULES:
        raise FairnessInputError(f"patient rule must be one of {PATIENT_RULES}, got {rule!r}")
    ids = np.arange(len(y_true)).astype(str) if clusters is None else clusters
    names, index = np.unique(ids, return_inverse=True)
    k = names.size
    rank = {g: i for i, g in enumerate(order)}
    codes = np.array([rank[g] for g in groups], dtype=np.int64)
    table = np.zeros((k, len(order)), dtype=np.int64)
    np.add.at(table, (index, codes), 1)
    split = np.flatnonzero((table > 0).sum(axis=1) > 1)
    if split.size and rule == "error":
        first = split[0]
        where = [order[int(c)] for c in np.flatnonzero(table[first])]
        raise FairnessInputError(
            f"patient {str(names[first])!r} has images in groups {where} ({split.size} patient(s) "
            "span groups); a skin type belongs to the patient: fix the groups, or use the "
            "majority rule (each patient takes its most frequent group)",
            argument="groups",
        )
    unit_code = np.argmax(table, axis=1)  # first maximum: ties go to the group listed first
    group = np.asarray(order, dtype=str)[unit_code[index]]
    has_pos = np.bincount(index, weights=y_true, minlength=k) > 0
    has_neg = np.bincount(index, weights=1 - y_true, minlength=k) > 0
    kind = IMAGES if clusters is None else PATIENTS
    unit_group = np.asarray(order, dtype=str)[unit_code]
    return Units(index, group, unit_group, has_pos, has_neg, kind, int(split.size))


def patient_counts(units: Units, group: str | Sequence[str]) -> tuple[int, int, int]:
    """Units of ``group`` (one label, or a set): all, with a positive, with a negative."""
    members = np.isin(units.unit_group, [group] if isinstance(group, str) else list(group))
    pos = int(np.sum(members & units.has_positive))
    return int(members.sum()), pos, int(np.sum(members & units.has_negative))
