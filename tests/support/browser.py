"""Open a page in headless Chromium and list the images that failed to load."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

# Appended to a copy of the page (the pages have no JS): lists images that failed to load.
_PROBE = (
    "<script>window.addEventListener('load', () => document.body.setAttribute('data-broken',"
    " [...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
    ".map(i => i.getAttribute('alt') || i.getAttribute('src')).join(',')));</script>"
)


def chromium_flags() -> list[str]:
    """Headless Chromium's command line; skips the test where Chromium is not installed."""
    exe = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)
    if exe is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)")
    return [exe, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000"]


def loaded_dom(page: Path) -> tuple[str, str]:
    """The DOM Chromium builds for ``page`` and the images that did not load (comma list).

    Raises:
        AssertionError: The probe did not run.
    """
    probe = page.with_name("_probe.html")
    probe.write_text(page.read_text().replace("</body>", _PROBE + "</body>"))
    try:
        dom = subprocess.run(
            [*chromium_flags(), "--dump-dom", probe.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    finally:
        probe.unlink()
    broken = re.search(r'data-broken="([^"]*)"', dom)
    assert broken is not None, "the probe did not run"
    return dom, broken.group(1)
