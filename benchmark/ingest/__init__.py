"""Ingest of real and phantom sources into one validated manifest."""

from benchmark.ingest.run import IngestInputs, IngestResult, ingest, ingest_from_config, metrics_of
from benchmark.ingest.tables import IngestError

__all__ = [
    "IngestError",
    "IngestInputs",
    "IngestResult",
    "ingest",
    "ingest_from_config",
    "metrics_of",
]
