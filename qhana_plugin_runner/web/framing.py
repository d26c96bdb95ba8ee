# SPDX-License-Identifier: Apache-2.0
"""Which pages may frame the micro-frontends: ``MICROFRONTEND_PARENT_ORIGINS``.

The QHAna UI shows every micro-frontend in an iframe, so framing cannot be forbidden outright.
Unset (the default), any page may frame them and exchange messages with microfrontend.js, as
with the original runner. Set to the UI's origins, every HTML answer carries
``Content-Security-Policy: frame-ancestors 'self' <origins>`` (unless the view set a policy of
its own), and ``simple_template.html`` tells microfrontend.js (``data-parent-origins``) to send
to and accept messages from those origins only.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response

from ..errors import ConfigError

__all__ = ["init_framing", "parse_parent_origins"]

CONFIG_KEY = "MICROFRONTEND_PARENT_ORIGINS"
_ORIGIN = re.compile(r"^https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$")


def parse_parent_origins(value: Any) -> list[str]:
    """The configured origins (a list, or one string separated by spaces or commas).

    ``None``, empty or ``"*"`` alone means any page. Anything that is not ``scheme://host[:port]``
    stops start-up: it would end up in a response header.
    """
    if value is None:
        return []
    items = value.replace(",", " ").split() if isinstance(value, str) else [str(v) for v in value]
    origins = [item.strip().rstrip("/") for item in items if item.strip()]
    if origins == ["*"]:
        return []
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise ConfigError(CONFIG_KEY, value, f"{origin!r} is not an origin like https://ui.example:8080")
    return origins


def init_framing(app: Flask) -> None:
    """Restrict framing and postMessage partners when ``MICROFRONTEND_PARENT_ORIGINS`` is set."""
    origins = parse_parent_origins(app.config.get(CONFIG_KEY))
    app.jinja_env.globals["microfrontend_parent_origins"] = " ".join(origins)
    if not origins:
        return
    policy = "frame-ancestors 'self' " + " ".join(origins)

    @app.after_request
    def _frame_ancestors(response: Response) -> Response:
        if response.mimetype == "text/html" and "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = policy
        return response
