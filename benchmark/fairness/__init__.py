"""Fairness audit of classifier predictions across skin-tone groups (files and reports)."""
