"""Ingest: read a raw dataset layout into the manifest (``run.ingest`` is the entry point)."""
