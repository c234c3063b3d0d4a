"""The document model (:mod:`benchmark.core.document`) as Markdown and as HTML.

One renderer for every table, figure and paragraph the suite shows: the report page and
each fairness audit page are built from the same blocks and turned into text here. Where a
figure lives is the caller's: a :data:`FigureSource` gives the ``src`` of each figure (a
relative path, or a data URI for a page that must stand alone), or None when it is missing.
"""

from __future__ import annotations

import html as html_module
from collections.abc import Callable, Sequence

from benchmark.core.document import Block, Figure, Para, Section, Table

FigureSource = Callable[[Figure], str | None]
CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px;
  padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; font-size: 13px; }
caption { text-align: left; font-style: italic; padding: .3em 0; }
th, td { border: 1px solid #ccc; padding: .25em .5em; vertical-align: top; }
thead th { background: #f1f1f1; } td { text-align: right; }
tbody th { text-align: left; font-weight: normal; }
.warning { background: #fff4e5; border-left: 4px solid #e8a33d; padding: .4em .8em; }
.notrun, .missing { background: #f3f3f3; border-left: 4px solid #888; padding: .4em .8em; }
.notes { color: #555; font-size: 13px; }
figure { margin: 1em 0; } img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 13px; color: #555; }
nav ul { columns: 2; }
"""


def markdown(blocks: Sequence[Block], figure_src: FigureSource, level: int = 2) -> list[str]:
    """Markdown lines of ``blocks``; sections start at heading ``level``."""
    return [line for b in blocks for line in _md_block(b, figure_src, level)]


def _md_block(block: Block, figure_src: FigureSource, level: int) -> list[str]:
    if isinstance(block, Section):
        out = [f"{'#' * min(level, 6)} {block.title}", ""]
        for child in block.blocks:
            out += _md_block(child, figure_src, level + 1)
        return out
    if isinstance(block, Table):
        return _md_table(block)
    if isinstance(block, Figure):
        src = figure_src(block)
        if src is None:
            return [f"> **Missing figure:** {block.path} was not found.", ""]
        return [f"![{_md(block.alt)}]({src})", "", block.caption, ""]
    prefix = {"warning": "> **Warning:** ", "notrun": "> "}.get(block.kind, "")
    return [prefix + block.text, ""]


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_table(table: Table) -> list[str]:
    out = [line for w in table.warnings for line in (f"> **Warning:** {w}", "")]
    out += [f"*{table.id}: {table.caption}*", ""]
    out.append("| " + " | ".join(_md(c) for c in table.columns) + " |")
    out.append("|" + "|".join([":---"] + ["---:"] * (len(table.columns) - 1)) + "|")
    out += ["| " + " | ".join(_md(c) for c in row) + " |" for row in table.rows]
    out.append("")
    if table.notes:
        out += [f"- {n}" for n in table.notes] + [""]
    return out


def html(blocks: Sequence[Block], figure_src: FigureSource, level: int = 2) -> str:
    """HTML of ``blocks``; every table has its ``id`` and sits in a ``div.block``."""
    return "\n".join(_html_block(b, figure_src, level) for b in blocks)


def page(title: str, body: str, head: str = "") -> str:
    """A complete, self-contained HTML page (inline CSS, no script)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html_module.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<h1>{html_module.escape(title)}</h1>\n{head}{body}\n</body>\n</html>\n"
    )


def _html_block(block: Block, figure_src: FigureSource, level: int) -> str:
    if isinstance(block, Section):
        h = min(level, 6)
        inner = "\n".join(_html_block(b, figure_src, level + 1) for b in block.blocks)
        title = html_module.escape(block.title)
        return f'<section id="{block.id}">\n<h{h}>{title}</h{h}>\n{inner}\n</section>'
    if isinstance(block, Table):
        return _html_table(block)
    if isinstance(block, Figure):
        return _html_figure(block, figure_src)
    return _html_para(block)


def _html_para(para: Para) -> str:
    label = "Warning: " if para.kind == "warning" else ""
    return f'<p class="{para.kind}">{html_module.escape(label + para.text)}</p>'


def _html_figure(fig: Figure, figure_src: FigureSource) -> str:
    src = figure_src(fig)
    caption = f"<figcaption>{html_module.escape(fig.caption)}</figcaption>"
    if src is None:
        missing = f"Missing figure: {fig.path} was not found."
        note = f'<p class="missing">{html_module.escape(missing)}</p>'
        return f'<figure id="{fig.id}">\n{note}\n{caption}\n</figure>'
    src = html_module.escape(src, quote=True)
    alt = html_module.escape(fig.alt, quote=True)
    return f'<figure id="{fig.id}">\n<img src="{src}" alt="{alt}">\n{caption}\n</figure>'


def _html_table(table: Table) -> str:
    warnings = "".join(
        f'<p class="warning">{html_module.escape("Warning: " + w)}</p>\n' for w in table.warnings
    )
    head = "".join(f'<th scope="col">{html_module.escape(c)}</th>' for c in table.columns)
    rows = "".join(
        "<tr>"
        + (f'<th scope="row">{html_module.escape(row[0])}</th>' if row else "")
        + "".join(f"<td>{html_module.escape(c)}</td>" for c in row[1:])
        + "</tr>\n"
        for row in table.rows
    )
    notes = "".join(f"<li>{html_module.escape(n)}</li>" for n in table.notes)
    notes = f'<ul class="notes">{notes}</ul>\n' if notes else ""
    return (
        f'<div class="block" data-table="{table.id}">\n{warnings}'
        f'<table id="{table.id}">\n<caption>{html_module.escape(table.caption)}</caption>\n'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n{notes}</div>"
    )
