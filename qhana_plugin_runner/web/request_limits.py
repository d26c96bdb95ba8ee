# SPDX-License-Identifier: Apache-2.0
"""``MAX_CONTENT_LENGTH`` for request bodies sent without ``Content-Length`` (chunked).

Werkzeug answers 413 when the announced ``Content-Length`` is too large. A chunked body has
none: Werkzeug then reads at most ``MAX_CONTENT_LENGTH`` bytes and silently drops the rest, so a
plugin would work on a truncated form or file. :func:`init_request_limits` reads such bodies
first (at most the limit, kept for the form and JSON parsers) and answers 413 when more follows.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge

__all__ = ["init_request_limits"]


def init_request_limits(app: Flask) -> None:
    """Refuse chunked request bodies longer than ``MAX_CONTENT_LENGTH`` with 413."""

    @app.before_request
    def _limit_unannounced_bodies() -> None:
        wsgi_env = request.environ
        # without Transfer-Encoding the length is announced, or (HTTP/1) there is no body at all
        if "HTTP_TRANSFER_ENCODING" not in wsgi_env and (
            wsgi_env.get("CONTENT_LENGTH") or str(wsgi_env.get("SERVER_PROTOCOL", "")).startswith("HTTP/1")
        ):
            return
        limit = request.max_content_length
        if limit is None or request.content_length is not None:
            return
        if not request.environ.get("wsgi.input_terminated"):
            return  # without it Werkzeug reads no body at all
        data = request.get_data(cache=True)  # stops at the limit
        if len(data) >= limit and request.environ["wsgi.input"].read(1):
            raise RequestEntityTooLarge()
