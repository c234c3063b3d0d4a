"""Skin-lesion phantoms with known skin colour, lesion mask and labels (offline test data)."""
