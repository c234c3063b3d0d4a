"""Defaults of the fairness statistics, in one light module (config, CLI and metrics share it)."""

from __future__ import annotations

DEFAULT_RESAMPLES = 2000  # percentile intervals want thousands of resamples, not hundreds
# A group with fewer positives or negatives is shown but left out of worst group, gaps, EO, DP.
MIN_POSITIVES = 5
MIN_NEGATIVES = 5
