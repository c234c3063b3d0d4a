"""Metrics: pure functions over arrays, fairlearn-like signatures, NaN with a reason."""
