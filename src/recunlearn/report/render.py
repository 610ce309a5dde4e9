"""Rendering a report document as markdown (figures as PNG files beside it) and as one
self-contained HTML page (inline CSS, figures as base64 PNGs, links to the record files)."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recunlearn.report.format import markdown_table
from recunlearn.report.tables import Table, TCell

TABLE_KEYS = frozenset(
    {
        "adversarial_views",
        "advx_table2",
        "afrl_checks",
        "afrl_cost",
        "afrl_kept",
        "afrl_table2",
        "audit_speed",
        "base_models",
        "base_models_other",
        "leakage_original",
        "lego_detail",
        "lego_table1",
        "protocol_gap",
        "removal",
        "removal_detail",
        "removal_frontier",
        "personal_speed",
        "removal_speed",
        "significance",
        "timing",
        "train_speed",
        "ultd_table1",
    }
)
"""Every key a report table can carry (what a summary may pick); :meth:`Document.add` refuses
any other, so this list cannot fall behind the tables."""


@dataclass
class Figure:
    """A figure of the report: file stem, caption, PNG bytes."""

    slug: str
    caption: str
    data: bytes


@dataclass
class Document:
    """An ordered list of blocks: ``("h1" | "h2" | "h3" | "p", text)``, ``("list", [text])``,
    ``("table", Table)``, ``("figure", Figure)``. Text may use ``**bold**`` and ``code``."""

    title: str
    blocks: list[tuple[str, Any]] = field(default_factory=list)

    def add(self, kind: str, content: Any, key: str = "") -> None:
        """Append a block (a table is tagged with ``key`` when given).

        Raises:
            ValueError: a ``key`` that is not in :data:`TABLE_KEYS`.
        """
        if key and key not in TABLE_KEYS:
            raise ValueError(f"table key '{key}' is not in TABLE_KEYS (report/render.py)")
        if key and isinstance(content, Table):
            content.key = key
        self.blocks.append((kind, content))

    def tables(self, key: str) -> list[Table]:
        """The tables tagged ``key``, in document order."""
        return [c for kind, c in self.blocks if kind == "table" and c.key == key]


Linker = Callable[[str], str]
"""Absolute record path -> link target relative to the rendered file."""


# ------------------------------------------------------------------------------ markdown


def to_markdown(document: Document, figures_dir: Path, link: Linker) -> str:
    """Markdown text; figures are written to ``figures_dir`` and linked relatively."""
    lines = [f"# {document.title}", ""]
    for kind, content in document.blocks:
        if kind in ("h1", "h2", "h3"):
            lines += [f"{'#' * int(kind[1])} {content}", ""]
        elif kind == "p":
            lines += [content, ""]
        elif kind == "list":
            lines += [f"* {item}" for item in content] + [""]
        elif kind == "table":
            lines += _md_table(content, link)
        elif kind == "figure":
            figures_dir.mkdir(parents=True, exist_ok=True)
            path = figures_dir / f"{content.slug}.png"
            path.write_bytes(content.data)
            target = link(str(path))
            lines += [f"![{content.caption}]({target})", "", f"*{content.caption}*", ""]
    return "\n".join(lines).rstrip() + "\n"


def table_markdown(table: Table, link: Linker | None = None) -> list[str]:
    """A table as markdown lines: title, rows, notes and (with ``link``) its records."""
    return _md_table(table, link)


def _md_table(table: Table, link: Linker | None) -> list[str]:
    lines = [f"**{table.title}**", ""]
    lines += markdown_table(table.header, [[c.markdown() for c in row] for row in table.rows])
    lines.append("")
    for note in table.notes:
        lines += [note, ""]
    records = sorted({path for row in table.rows for cell in row for path in cell.links})
    if records and link is not None:
        shown = ", ".join(f"[{Path(p).stem}]({link(p)})" for p in records)
        lines += [
            f"<details><summary>records ({len(records)})</summary>\n\n{shown}\n\n</details>",
            "",
        ]
    return lines


# ---------------------------------------------------------------------------------- html
CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1500px; padding: 0 1em; color: #1d1d1f; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; border-bottom: 1px solid #ddd; margin-top: 2em; }
h3 { font-size: 1.1em; margin-top: 1.5em; }
table { border-collapse: collapse; font-size: 0.82em; margin: 0.6em 0; }
th, td { border: 1px solid #d0d0d0; padding: 3px 6px; text-align: right; vertical-align: top; }
th { background: #f3f3f3; position: sticky; top: 0; }
td:first-child, td:nth-child(2) { text-align: left; }
td.worse { background: #fde2e1; }
td.worse .ours::after { content: " ▼"; color: #b3261e; }
.paper { display: block; color: #666; font-size: 0.9em; }
sup a { color: #888; text-decoration: none; margin-left: 1px; }
.caption { font-weight: 600; margin-top: 1em; }
.note { color: #444; font-size: 0.88em; margin: 0.2em 0; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.88em; }
code { background: #f4f4f4; padding: 0 3px; border-radius: 3px; }
.scroll { overflow-x: auto; }
"""


def _inline(text: str) -> str:
    escaped = html.escape(text)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escaped)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", escaped)


def _html_cell(cell: TCell, link: Linker) -> str:
    parts = [f'<span class="ours">{html.escape(cell.text)}</span>']
    if cell.links:
        anchors = "".join(
            f'<a href="{html.escape(link(p))}" title="{html.escape(Path(p).name)}">{i + 1}</a>'
            for i, p in enumerate(cell.links)
        )
        parts.append(f"<sup>{anchors}</sup>")
    if cell.paper is not None:
        parts.append(f'<span class="paper">{html.escape(cell.paper)}</span>')
    css = ' class="worse"' if cell.worse else ""
    return f"<td{css}>{''.join(parts)}</td>"


def _html_table(table: Table, link: Linker) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.header)
    body = "".join(
        "<tr>" + "".join(_html_cell(c, link) for c in row) + "</tr>" for row in table.rows
    )
    notes = "".join(f'<p class="note">{_inline(n)}</p>' for n in table.notes)
    return (
        f'<p class="caption">{_inline(table.title)}</p><div class="scroll"><table>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{notes}"
    )


def to_html(document: Document, link: Linker) -> str:
    """One self-contained HTML page."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(document.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(document.title)}</h1>",
    ]
    for kind, content in document.blocks:
        if kind in ("h1", "h2", "h3"):
            parts.append(f"<{kind}>{_inline(content)}</{kind}>")
        elif kind == "p":
            parts.append(f"<p>{_inline(content)}</p>")
        elif kind == "list":
            parts.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in content) + "</ul>")
        elif kind == "table":
            parts.append(_html_table(content, link))
        elif kind == "figure":
            data = base64.b64encode(content.data).decode("ascii")
            parts.append(
                f'<figure><img alt="{html.escape(content.caption)}" '
                f'src="data:image/png;base64,{data}"><figcaption>'
                f"{_inline(content.caption)}</figcaption></figure>"
            )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
