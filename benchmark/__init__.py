"""skintone-bench: a reproducible skin-tone fairness benchmark for dermoscopic skin-cancer AI.

The library computes; it never reads the params file and never imports the tracker. Stages in
``stages/`` load typed configuration, open tracking runs and call into this package.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("skintone-bench")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
