"""Measured runtimes, one file per timing stage: the only outputs that vary run to run.

Stages write them to ``metrics/runtime/<stage>.json`` (uncached DVC metrics), so every other
output stays byte-identical across reproductions and the report reads runtimes from DVC
inputs, not from the tracking store.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from benchmark.core.io import FileContentError, read_json, write_json_atomic

Unit = Literal["ms/image", "s/image"]
UNITS: tuple[Unit, ...] = ("ms/image", "s/image")


@dataclass(frozen=True)
class Runtimes:
    """One stage's runtimes.

    Attributes:
        unit: ``ms/image`` or ``s/image``.
        values: Model, variant or task -> mean runtime in ``unit`` (finite, >= 0).
    """

    unit: Unit
    values: dict[str, float]

    def write(self, path: Path) -> None:
        """Write the file atomically (keys sorted)."""
        write_json_atomic(path, {"unit": self.unit, "values": dict(sorted(self.values.items()))})

    @classmethod
    def read(cls, path: Path) -> Runtimes:
        """Read a file :meth:`write` wrote.

        Raises:
            FileContentError: Unreadable, or not a runtimes file (naming what is wrong).
        """
        data = read_json(path)
        if not isinstance(data, dict) or data.get("unit") not in UNITS:
            raise FileContentError(path, f"expected {{'unit': one of {UNITS}, 'values': {{}}}}")
        values = data.get("values")
        if not isinstance(values, dict) or not all(_finite(v) for v in values.values()):
            raise FileContentError(path, "values: expected finite numbers by name")
        return cls(cast(Unit, data["unit"]), {str(k): float(v) for k, v in values.items()})


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
