# SPDX-License-Identifier: Apache-2.0
"""Markdown for field descriptions and help texts in plugin forms.

Descriptions and help texts come from plugin code, but plugins often build them from data
(virtual plugins, titles of other plugins), so the renderer treats them as untrusted: raw HTML
is escaped and ``javascript:``/``data:``-style links are neutralised by mistune. One renderer is
built on first use and shared; rendering keeps no state between calls.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Final

from markupsafe import Markup

if TYPE_CHECKING:
    import mistune

__all__ = ["MARKDOWN_PLUGINS", "render_markdown"]

MARKDOWN_PLUGINS: Final = ("strikethrough", "footnotes", "table", "url")


@lru_cache(maxsize=1)
def _markdown() -> mistune.Markdown:
    import mistune  # imported with the first form rendered, not at start-up (about 10 ms)

    return mistune.create_markdown(escape=True, plugins=list(MARKDOWN_PLUGINS))


def render_markdown(text: object) -> Markup:
    """Render ``text`` as Markdown to HTML that is safe to embed (raw HTML is shown as text).

    ``None`` and empty strings give an empty ``Markup``; other objects are converted with ``str``.
    """
    if text is None or text == "":
        return Markup("")
    html = _markdown()(str(text))
    return Markup(html if isinstance(html, str) else "")
