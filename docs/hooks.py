"""MkDocs hook: fill the ``<!-- generated: NAME -->`` markers of a page at build time.

The generators live in :mod:`docgen`; they read the repository beside ``mkdocs.yml``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import docgen

MARKER = re.compile(r"<!-- generated: (\w+) -->")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace each marker with the generated Markdown it names."""
    root = Path(config.config_file_path).resolve().parent

    def fill(match: re.Match[str]) -> str:
        return docgen.GENERATORS[match.group(1)](root)

    return MARKER.sub(fill, markdown)
