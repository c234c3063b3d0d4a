"""Lesion segmentation: evaluating predicted masks against reference masks."""
