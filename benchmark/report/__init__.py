"""The report generator: the paper's Tables 1–5 and Figures 3–5 beside ours.

Each stage writes its part ready to render (:mod:`benchmark.core.document`); :func:`collect`
reads the parts and the runtimes files; :func:`render_markdown` and :func:`render_html` turn
them into ``reports/tables.md`` and a self-contained ``reports/index.html``;
:func:`write_report` does all three and writes atomically.
"""

from __future__ import annotations

from benchmark.report.collect import ReportData, collect
from benchmark.report.render import render_html, render_markdown, runtimes_markdown, write_report
from benchmark.report.sections import run_header

__all__ = [
    "ReportData",
    "collect",
    "render_html",
    "render_markdown",
    "run_header",
    "runtimes_markdown",
    "write_report",
]
