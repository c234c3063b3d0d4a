"""Shared preprocessing (paper section 3.3.1) and its memory-mapped cache."""
