"""Skin-tone estimation: colour conversion, ITA and Fitzpatrick binning."""

from benchmark.skintone.color import lab_to_srgb, srgb_to_lab
from benchmark.skintone.fitzpatrick import FST_LABELS, fst_from_ita, ita_degrees

__all__ = ["FST_LABELS", "fst_from_ita", "ita_degrees", "lab_to_srgb", "srgb_to_lab"]
