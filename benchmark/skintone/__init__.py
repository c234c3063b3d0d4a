"""Skin tone: CIELAB, ITA, Fitzpatrick bins and the per-image estimates."""
