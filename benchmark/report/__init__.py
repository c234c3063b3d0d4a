"""The report generator: the paper's Tables 1–5 and Figures 3–5 beside ours.

:func:`collect` loads what the stages wrote under ``reports/`` and ``metrics/``;
:func:`render_markdown` and :func:`render_html` turn it into ``reports/tables.md`` and a
self-contained ``reports/index.html``; :func:`write_report` does all three and writes
atomically.
"""

from __future__ import annotations

from benchmark.report.collect import ReportData, Runtime, collect
from benchmark.report.render import render_html, render_markdown, write_report

__all__ = ["ReportData", "Runtime", "collect", "render_html", "render_markdown", "write_report"]
