"""Copy the README's figure from a pipeline run's reports into docs/assets/.

Run after ``./run.sh repro`` (``reports/`` is a DVC output, not in git)::

    .venv/bin/python docs/assets/make_figures.py

The copy is committed so that the README and the site show it without a run (``reports/``
is not in git); rerun this whenever the pipeline's data or the figure's code change.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# paper Figure 4 from the skintone stage: images per ITA-estimated skin type and class
FIGURES = {"reports/skintone/figure4.png": "figure4.png"}


def main() -> int:
    """Copy every figure; exit 1 naming the ones a run has not made."""
    missing = [src for src in FIGURES if not (ROOT / src).is_file()]
    if missing:
        print(f"not found (run ./run.sh repro first): {', '.join(missing)}", file=sys.stderr)
        return 1
    for src, name in FIGURES.items():
        shutil.copyfile(ROOT / src, Path(__file__).parent / name)
        print(f"{src} -> docs/assets/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
