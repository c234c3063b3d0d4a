"""The HTML audit: the Markdown subset converted, figures embedded, opened in Chromium."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from benchmark.fairness.audit_html import markdown_to_html
from tests.fairness.test_audit_extras import _predictions
from tests.support.browser import loaded_dom


def test_markdown_subset() -> None:
    body = markdown_to_html(
        "# Title\n\nSome `code` & text\nwrapped.\n\n| a | b |\n|---|---|\n| 1 | <2> |\n\n- x\n- y\n"
    )
    assert "<h1>Title</h1>" in body
    assert "<p>Some <code>code</code> &amp; text wrapped.</p>" in body
    assert '<table id="audit-table-1"><tr><th>a</th><th>b</th></tr>' in body
    assert "<td>&lt;2&gt;</td>" in body
    assert "<ul><li>x</li><li>y</li></ul>" in body


def test_html_audit_opens_in_headless_chromium(tmp_path: Path) -> None:
    from benchmark.cli import main

    page = tmp_path / "audit.html"
    args = ["audit", str(_predictions(tmp_path / "pred.csv")), "--html", str(page)]
    out = CliRunner().invoke(main, [*args, "--permutations", "100", "--bootstrap", "50"])
    assert out.exit_code == 0, out.output
    text = page.read_text()
    assert text.count('src="data:image/png;base64,') == 2  # self-contained: no file links
    dom, broken = loaded_dom(page)
    assert broken == "", f"broken images: {broken}"
    assert len(re.findall(r'<table id="audit-table-\d+"', dom)) >= 4
    assert "Calibration by group" in dom
    assert "Is the gap real?" in dom
