"""EfficientNet-B0 melanocytic vs non-melanocytic classifier (model, checkpoints, inference)."""
