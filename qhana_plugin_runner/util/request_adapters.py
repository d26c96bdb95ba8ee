# SPDX-License-Identifier: Apache-2.0
"""Internal: ``requests`` transport adapters for ``file://`` and ``data:`` URLs.

Not part of the plugin API. :mod:`qhana_plugin_runner.requests` mounts one instance of each
on the shared session when it is imported; plugins reach them only through that module.

QHAna passes all data as URLs (ADR 0009), so plugins must be able to read ``file://`` and
``data:`` URLs with the same code as ``http(s)://`` ones. A ``file://`` URL is an input that
arrives over the API, so reading it is limited to folders the operator allowed (the file store
and ``FILE_URL_ALLOWED_ROOTS``); the original runner served any file on the host. A ``file://``
URL reached by following an HTTP redirect is refused: a remote server must not choose which
local file the worker reads.
"""

from __future__ import annotations

import base64
import binascii
import io
import mimetypes
import os
from collections.abc import Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, unquote_to_bytes, urlsplit
from urllib.request import url2pathname

from flask import current_app, has_app_context
from requests import PreparedRequest, Response
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

__all__ = ["FileAdapter", "DataAdapter", "allowed_file_roots", "client_file_url_refusal", "REDIRECT_MARK"]

#: Attribute the shared session sets on every request it makes by following a redirect.
REDIRECT_MARK: Final = "qhana_redirected_from"

_READ_METHODS = frozenset({"GET", "HEAD"})
_LOCAL_HOSTS = frozenset({"", "localhost"})
_COMPRESSED_TYPES = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "br": "application/x-brotli",
}


def allowed_file_roots(include_store: bool = True) -> list[Path]:
    """The resolved folders below which ``file://`` URLs may be read.

    Outside an app context there is no configuration to trust, so nothing is allowed.
    Relative folders are taken relative to the app's instance folder, like the file store.
    ``include_store=False`` leaves the file store out (what API clients may name, see
    :class:`~qhana_plugin_runner.api.util.FileUrlValidator`).
    """
    if not has_app_context():
        return []
    config = current_app.config
    extra = config.get("FILE_URL_ALLOWED_ROOTS") or []
    if isinstance(extra, str):
        extra = [part for part in extra.split(os.pathsep) if part]
    folders = [config.get("FILE_STORE_ROOT_PATH") if include_store else None, *extra]
    instance = Path(current_app.instance_path)
    return [(instance / folder).resolve() for folder in folders if folder]


def _local_path(url: str) -> Path:
    # resolve() removes ".." and follows symlinks before any root check, so neither can be
    # used to step outside an allowed folder
    return Path(url2pathname(urlsplit(url).path)).resolve()


def client_file_url_refusal(url: str) -> str | None:
    """Why an API client may not hand a plugin this ``file://`` URL, or None if it may.

    Clients may name files below ``FILE_URL_ALLOWED_ROOTS`` only, never inside the file store:
    the store's files are protected by their download tags, which a ``file://`` URL would
    bypass. Outside an app context there is nothing to check (and the adapter reads nothing).
    """
    if not has_app_context():
        return None
    path = _local_path(url)
    store = allowed_file_roots()[0] if current_app.config.get("FILE_STORE_ROOT_PATH") else None
    if store is not None and path.is_relative_to(store):
        return "file:// URLs into the file store are not accepted; use the file's download URL"
    if not any(path.is_relative_to(root) for root in allowed_file_roots(include_store=False)):
        return "file:// URLs are only accepted below the folders in FILE_URL_ALLOWED_ROOTS"
    return None


class _ResponseFile(io.BufferedReader):
    """A file that ``Response.close()`` closes even after the body was read.

    requests only closes ``raw`` while the body is unread; afterwards it calls
    ``raw.release_conn()`` (meant for pooled connections), which here closes the file.
    """

    def release_conn(self) -> None:
        self.close()


def _response(
    request: PreparedRequest,
    status: HTTPStatus,
    headers: Mapping[str, str] | None = None,
    raw: Any = None,
    encoding: str | None = None,
) -> Response:
    """Build a ``Response`` the way requests' own HTTP adapter would fill it in."""
    response = Response()
    response.status_code = int(status)
    response.reason = status.phrase
    response.url = request.url or ""
    response.request = request
    response.headers = CaseInsensitiveDict(headers or {})
    response.raw = raw if raw is not None else io.BytesIO(b"")
    response.encoding = encoding
    return response


def _error(request: PreparedRequest, status: HTTPStatus, message: str) -> Response:
    body = message.encode("utf-8")
    headers = {"Content-Type": "text/plain; charset=utf-8", "Content-Length": str(len(body))}
    return _response(request, status, headers, io.BytesIO(body), "utf-8")


class FileAdapter(BaseAdapter):
    """Serves ``file://`` URLs from the local disk, below the allowed root folders only.

    Only ``GET`` and ``HEAD`` are supported, and only for an empty host or ``localhost``.
    Errors are answered like an HTTP server would (400, 403, 404, 405) so that
    ``raise_for_status`` handles every scheme alike.
    """

    def send(  # type: ignore[override]
        self, request: PreparedRequest, stream: bool = False, **kwargs: Any
    ) -> Response:
        """Answer ``request``; the file is read eagerly unless ``stream`` is set."""
        if request.method not in _READ_METHODS:
            return _error(request, HTTPStatus.METHOD_NOT_ALLOWED, "file URLs are read-only")
        if getattr(request, REDIRECT_MARK, None):
            return _error(request, HTTPStatus.FORBIDDEN, "redirects to file URLs are refused")
        parts = urlsplit(request.url or "")
        if (parts.hostname or "") not in _LOCAL_HOSTS:
            return _error(request, HTTPStatus.BAD_REQUEST, "file URLs must not name a remote host")
        path = _local_path(request.url or "")
        if not any(path.is_relative_to(root) for root in allowed_file_roots()):
            return _error(request, HTTPStatus.FORBIDDEN, "file is outside the allowed folders")
        if path.is_dir():
            return _error(request, HTTPStatus.FORBIDDEN, "file URL names a directory")
        if not path.is_file():
            return _error(request, HTTPStatus.NOT_FOUND, "file not found")
        return self._file_response(request, path, stream)

    @staticmethod
    def _file_response(request: PreparedRequest, path: Path, stream: bool) -> Response:
        headers = {"Content-Length": str(path.stat().st_size)}
        content_type, compression = mimetypes.guess_type(path.name)
        if compression:
            # "x.csv.gz" is a gzip file to its reader, not CSV with a transfer encoding
            content_type = _COMPRESSED_TYPES.get(compression, "application/octet-stream")
        if content_type:
            headers["Content-Type"] = content_type
        if request.method == "HEAD":
            return _response(request, HTTPStatus.OK, headers)
        if stream:
            # the caller owns the open file through response.close() / the with block
            return _response(request, HTTPStatus.OK, headers, _ResponseFile(io.FileIO(path, "rb")))
        # read now: a non-streamed response is often never closed, which would leak the file
        return _response(request, HTTPStatus.OK, headers, io.BytesIO(path.read_bytes()))

    def close(self) -> None:
        """Nothing to release: files are owned by their responses."""


class DataAdapter(BaseAdapter):
    """Serves ``data:`` URLs (RFC 2397), base64 or percent-encoded.

    Base64 data may use the standard or the URL-safe alphabet, with or without padding.
    The Content-Type header carries the URL's media type and parameters (charset included),
    which the original runner parsed but dropped.
    """

    def send(  # type: ignore[override]
        self, request: PreparedRequest, stream: bool = False, **kwargs: Any
    ) -> Response:
        """Answer ``request`` with the decoded data of its URL."""
        if request.method not in _READ_METHODS:
            return _error(request, HTTPStatus.METHOD_NOT_ALLOWED, "data URLs are read-only")
        url = request.url or ""
        header, comma, payload = url.partition(",")
        if not comma or not header.lower().startswith("data:"):
            return _error(request, HTTPStatus.BAD_REQUEST, "malformed data URL")
        params = [part.strip() for part in header[len("data:") :].split(";")]
        is_base64 = len(params) > 1 and params[-1].lower() == "base64"
        if is_base64:
            params.pop()
        try:
            body = _decode_base64(payload) if is_base64 else unquote_to_bytes(payload)
        except (binascii.Error, ValueError):
            return _error(request, HTTPStatus.BAD_REQUEST, "invalid base64 data in data URL")
        content_type, charset = _content_type(params)
        headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
        raw = io.BytesIO(b"" if request.method == "HEAD" else body)
        return _response(request, HTTPStatus.OK, headers, raw, charset)

    def close(self) -> None:
        """Nothing to release."""


def _decode_base64(payload: str) -> bytes:
    """Decode either base64 alphabet; URL-encoders may have percent-escaped ``+ / =``."""
    text = "".join(unquote(payload).split())
    text += "=" * (-len(text) % 4)
    altchars = b"-_" if ("-" in text or "_" in text) else None
    return base64.b64decode(text, altchars=altchars, validate=True)


def _content_type(params: list[str]) -> tuple[str, str | None]:
    """Media type with its parameters, and the charset if one is given.

    RFC 2397 would default to US-ASCII when the media type is left out; we default to no
    charset instead, because senders put UTF-8 into such URLs and ASCII is a subset of it.
    """
    has_type = "/" in params[0]  # str.split always gives at least one item
    media_type = params[0] if has_type else "text/plain"
    extra = [param for param in (params[1:] if has_type else params) if param]
    charset = None
    for param in extra:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = unquote(value.strip())
    return "; ".join([media_type, *extra]), charset
