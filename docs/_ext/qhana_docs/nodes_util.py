# SPDX-License-Identifier: Apache-2.0
"""Small docutils node builders shared by the reference directives."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Sequence

from docutils import nodes

Cell = str | nodes.Node | Sequence[nodes.Node] | None

# ``code`` (reST style, as in docstrings) or `code` (Markdown style)
_CODE = re.compile(r"``(.+?)``|`([^`]+)`")


def inline(text: str) -> list[nodes.Node]:
    """Text with ``code`` and `code` spans turned into literals; everything else stays plain."""
    result: list[nodes.Node] = []
    position = 0
    for match in _CODE.finditer(text):
        if match.start() > position:
            result.append(nodes.Text(text[position : match.start()]))
        result.append(nodes.literal(text=match.group(1) or match.group(2)))
        position = match.end()
    if position < len(text):
        result.append(nodes.Text(text[position:]))
    return result


def paragraphs(text: str | None) -> list[nodes.Node]:
    """Paragraphs of a docstring-like text (blank-line separated, lines joined)."""
    if not text:
        return []
    text = inspect.cleandoc(text)
    result: list[nodes.Node] = []
    for block in re.split(r"\n\s*\n", text):
        block = block.strip()
        if not block:
            continue
        if block.startswith("\b"):  # click: keep this paragraph's line breaks
            content = block.lstrip("\b").strip("\n")
            result.append(nodes.literal_block(content, content))
            continue
        result.append(nodes.paragraph("", "", *inline(" ".join(line.strip() for line in block.splitlines()))))
    return result


def literal(text: str) -> nodes.literal:
    return nodes.literal(text=text)


def _cell_nodes(cell: Cell) -> list[nodes.Node]:
    if cell is None or cell == "":
        return [nodes.paragraph(text="")]
    if isinstance(cell, str):
        return [nodes.paragraph("", "", *inline(cell))]
    if isinstance(cell, nodes.Node):
        cell = [cell]
    wrapped: list[nodes.Node] = []
    loose: list[nodes.Node] = []
    for node in cell:
        if isinstance(node, (nodes.TextElement, nodes.Text)) and not isinstance(node, (nodes.paragraph, nodes.literal_block)):
            loose.append(node)
            continue
        if loose:
            wrapped.append(nodes.paragraph("", "", *loose))
            loose = []
        wrapped.append(node)
    if loose:
        wrapped.append(nodes.paragraph("", "", *loose))
    return wrapped


def table(headers: Sequence[str], rows: Iterable[Sequence[Cell]], widths: Sequence[int] | None = None, classes: Sequence[str] = ()) -> nodes.table:
    """A table with a header row; cells may be strings (with `code` spans) or nodes."""
    widths = list(widths or [1] * len(headers))
    tbl = nodes.table(classes=["qhana-reference", *classes])
    group = nodes.tgroup(cols=len(headers))
    tbl += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    header_row = nodes.row()
    for title in headers:
        header_row += nodes.entry("", nodes.paragraph(text=title))
    head += header_row
    body = nodes.tbody()
    group += body
    for row in rows:
        body_row = nodes.row()
        for cell in row:
            body_row += nodes.entry("", *_cell_nodes(cell))
        body += body_row
    return tbl


def join(items: Iterable[nodes.Node | str], separator: str = ", ") -> list[nodes.Node]:
    """Nodes separated by ``separator`` (strings become text)."""
    result: list[nodes.Node] = []
    for item in items:
        if result:
            result.append(nodes.Text(separator))
        result.append(nodes.Text(item) if isinstance(item, str) else item)
    return result


class SectionMaker:
    """Creates sections with unique ids inside one document (generated headings)."""

    def __init__(self, document: nodes.document, prefix: str) -> None:
        self.document = document
        self.prefix = prefix

    def section(self, title: str | Sequence[nodes.Node], key: str) -> nodes.section:
        base = nodes.make_id(f"{self.prefix}-{key}") or self.prefix
        ident = base
        counter = 1
        while ident in self.document.ids:
            counter += 1
            ident = f"{base}-{counter}"
        section = nodes.section(ids=[ident])
        title_nodes = inline(title) if isinstance(title, str) else list(title)
        section += nodes.title("", "", *title_nodes)
        self.document.ids[ident] = section
        return section

    def ref(self, ident: str, *children: nodes.Node) -> nodes.reference:
        return nodes.reference("", "", *children, refid=ident, internal=True)

    def ident(self, key: str) -> str:
        return nodes.make_id(f"{self.prefix}-{key}")
