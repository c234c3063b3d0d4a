"""Defaults of the fairness statistics, in one light module (config, CLI and metrics share it)."""

from __future__ import annotations

from typing import Literal

# A patient whose images carry two groups: refuse, or give it its most frequent group.
PatientRule = Literal["error", "majority"]
PATIENT_RULES: tuple[PatientRule, ...] = ("error", "majority")
# The binomial interval of the audit's exact columns.
IntervalMethod = Literal["clopper-pearson", "wilson"]
INTERVAL_METHODS: tuple[IntervalMethod, ...] = ("clopper-pearson", "wilson")

DEFAULT_PERMUTATIONS = 1000  # permutations of every between-group test
# A group with fewer patients holding a positive (or a negative) image is shown but left out
# of worst group and gaps.
MIN_POSITIVES = 5
MIN_NEGATIVES = 5
# Calibrated label draws behind each group's debiased ECE and its p-value.
CALIBRATION_DRAWS = 1000
