# SPDX-License-Identifier: Apache-2.0
"""``MAX_CONTENT_LENGTH`` for request bodies sent without ``Content-Length`` (chunked).

Werkzeug answers 413 when the announced ``Content-Length`` is too large. A chunked body has
none: Werkzeug then reads at most ``MAX_CONTENT_LENGTH`` bytes and silently drops the rest, so a
plugin would work on a truncated form or file. :func:`init_request_limits` reads such bodies
first, at most the limit, and answers 413 when more follows. What it read is spooled (kept in
memory up to 1 MiB, on disk beyond) and handed on as a body of known length, so a large upload
never sits in the API process's memory as a whole.
"""

from __future__ import annotations

import tempfile
from typing import IO

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge

__all__ = ["init_request_limits"]

_IN_MEMORY = 1024 * 1024  # larger bodies go to a temporary file
_CHUNK = 64 * 1024
_SPOOLED = "qhana.spooled_body"


def spool_body(stream: IO[bytes], limit: int) -> IO[bytes]:
    """Read ``stream`` to its end into a temporary file (in memory while small), rewound.

    Raises:
        RequestEntityTooLarge: the stream holds more than ``limit`` bytes.
    """
    body: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY, mode="w+b")  # closed at teardown
    size = 0
    try:
        while True:
            chunk = stream.read(min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise RequestEntityTooLarge()
            body.write(chunk)
    except BaseException:
        body.close()
        raise
    body.seek(0)
    return body


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
        environ = request.environ
        if not environ.get("wsgi.input_terminated"):
            return  # without it Werkzeug reads no body at all
        body = spool_body(environ["wsgi.input"], limit)
        environ[_SPOOLED] = environ["wsgi.input"] = body
        environ["CONTENT_LENGTH"] = str(body.seek(0, 2))
        body.seek(0)
        for cached in ("stream", "content_length"):  # made again from the spooled body if read before
            request.__dict__.pop(cached, None)

    @app.teardown_request
    def _close_spooled_body(_error: BaseException | None = None) -> None:
        body = request.environ.pop(_SPOOLED, None)
        if body is not None:
            body.close()
