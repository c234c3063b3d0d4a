"""Phantom data: dermoscopy-like images with exact skin-tone and lesion ground truth."""

from benchmark.phantoms.generate import generate_phantoms, plan_phantoms

__all__ = ["generate_phantoms", "plan_phantoms"]
