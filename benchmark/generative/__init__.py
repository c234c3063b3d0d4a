"""Generative branch: Stable Diffusion + LoRA on the dark-skin subset, generation, validation."""
