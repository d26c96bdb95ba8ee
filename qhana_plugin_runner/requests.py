# SPDX-License-Identifier: Apache-2.0
"""Fetching plugin inputs: one shared session for ``http(s)``, ``file`` and ``data`` URLs.

Plugins receive every input as a URL (ADR 0009) and read it with :func:`open_url` or one of
the helpers below. They all go through :data:`REQUEST_SESSION`, which has adapters for
``file://`` (below allowed folders only) and ``data:`` URLs mounted. Inside an app
context the operator's ``URL_REWRITE_RULES`` are applied first, so URLs that are valid for
the user's browser (``localhost:...``) can be redirected to hosts the worker can reach.

Inputs are URLs chosen by API clients, so ``http(s)`` requests to ``REQUEST_DENIED_NETWORKS``
(cloud metadata and link-local addresses by default) raise
:class:`~qhana_plugin_runner.errors.DeniedTarget`, also when a host name resolves there or a
redirect leads there; a redirect to a ``file://`` URL is answered 403 (see SECURITY.md).

The requests library (with urllib3, about 5 MB and 30-50 ms of imports) and the session are
loaded when a process first uses them (``REQUEST_SESSION`` or a helper), not when a plugin
imports this module: the API and the worker start and idle without them.
"""

from __future__ import annotations

import mimetypes
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import urlsplit
from urllib.request import url2pathname

from flask import current_app, has_app_context
from werkzeug.utils import secure_filename

from .errors import ConfigError

if TYPE_CHECKING:
    import requests

__all__ = [
    "REQUEST_SESSION",  # noqa: F822  (made on first access, see __getattr__)
    "DEFAULT_TIMEOUT",
    "open_url",
    "rewrite_url",
    "open_url_as_file_like",
    "open_url_as_file_like_simple",
    "get_mimetype",
    "retrieve_filename",
    "retrieve_data_type",
    "retrieve_attribute_metadata_url",
]

#: Seconds to wait for a connection and between received bytes, unless the caller passes
#: ``timeout`` or the app config sets ``REQUEST_TIMEOUT``. Without one, a dead server would
#: block a worker forever.
DEFAULT_TIMEOUT: Final = 30.0


_SESSION_LOCK = threading.Lock()


def _make_session() -> requests.Session:
    import requests

    from .util.guarded_http import GuardedAdapter
    from .util.request_adapters import REDIRECT_MARK, DataAdapter, FileAdapter

    class _InputSession(requests.Session):
        """Marks every request made by following a redirect, so the file adapter can refuse it."""

        def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
            # requests calls this once for every redirect it follows, and only then
            super().rebuild_auth(prepared_request, response)
            setattr(prepared_request, REDIRECT_MARK, response.url)

    session = _InputSession()
    session.mount("http://", GuardedAdapter("REQUEST_DENIED_NETWORKS"))
    session.mount("https://", GuardedAdapter("REQUEST_DENIED_NETWORKS"))
    session.mount("file://", FileAdapter())
    session.mount("data:", DataAdapter())
    return session


def _session() -> requests.Session:
    """The shared session: the module's ``REQUEST_SESSION`` once it exists (also one a test put
    there), made by the first caller otherwise."""
    session = globals().get("REQUEST_SESSION")
    if session is None:
        with _SESSION_LOCK:
            session = globals().get("REQUEST_SESSION")
            if session is None:
                session = globals()["REQUEST_SESSION"] = _make_session()
    return session


def __getattr__(name: str) -> Any:
    if name == "REQUEST_SESSION":
        return _session()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_T = TypeVar("_T")
_Timeout = float | tuple[float, float] | None


def rewrite_url(url: str) -> str:
    """Apply ``URL_REWRITE_RULES`` (``(pattern, replacement)`` pairs) in order."""
    if not has_app_context():
        return url
    for pattern, replacement in current_app.config.get("URL_REWRITE_RULES") or []:
        url = re.sub(pattern, replacement, url)
    return url


def _default_timeout() -> _Timeout:
    """``REQUEST_TIMEOUT`` from the app config (seconds or ``(connect, read)``), else 30 s."""
    value = current_app.config.get("REQUEST_TIMEOUT") if has_app_context() else None
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        if isinstance(value, (list, tuple)):
            connect, read = value
            return (float(connect), float(read))
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError("REQUEST_TIMEOUT", value, "expected seconds or [connect, read]") from None


def open_url(url: str, raise_on_error_status: bool = True, **kwargs: Any) -> requests.Response:
    """GET ``url`` through the shared session, after applying the URL rewrite rules.

    Use the response as a context manager so its connection or file is released, and pass
    ``stream=True`` for large inputs. ``kwargs`` go to ``requests.Session.get``; a missing
    ``timeout`` gets the default (an explicit ``timeout=None`` waits forever).

    Raises:
        requests.HTTPError: for 4xx/5xx answers (also from the file and data adapters),
            unless ``raise_on_error_status`` is false. The response is closed first.
    """
    kwargs.setdefault("timeout", _default_timeout())
    response = _session().get(rewrite_url(url), **kwargs)
    if raise_on_error_status and not response.ok:
        response.close()
        response.raise_for_status()
    return response


def _readable_raw(response: requests.Response) -> IO[bytes]:
    """``response.raw`` that yields the body as sent, not gzip-compressed on the wire."""
    raw = response.raw
    if hasattr(raw, "decode_content"):  # urllib3 response, not one of our adapters' files
        raw.decode_content = True
    return raw


@contextmanager
def open_url_as_file_like(
    url: str, raise_on_error_status: bool = True, **kwargs: Any
) -> Iterator[tuple[str, IO[bytes], str | None]]:
    """Open ``url`` as a binary stream and yield ``(filename, raw, content_type)``.

    The filename comes from the path of ``file://`` URLs, otherwise from Content-Disposition
    or the URL path; it is always passed through ``secure_filename``.
    """
    kwargs["stream"] = True
    with open_url(url, raise_on_error_status, **kwargs) as response:
        yield _filename(response), _readable_raw(response), get_mimetype(response)


@contextmanager
def open_url_as_file_like_simple(
    url: str, raise_on_error_status: bool = True, **kwargs: Any
) -> Iterator[IO[bytes]]:
    """Open ``url`` as a binary stream (``response.raw``), closed when the block ends."""
    kwargs["stream"] = True
    with open_url(url, raise_on_error_status, **kwargs) as response:
        yield _readable_raw(response)


def get_mimetype(response: requests.Response, default: str | None = None) -> str | None:
    """The media type of ``response`` without parameters, else a guess from its URL.

    Parameters such as ``charset`` are dropped so the result can be compared with plain
    media types (``"application/json"``). The case is kept: QHAna spells one of its types
    ``application/X-lines+json`` and plugins compare with that spelling.
    """
    content_type = response.headers.get("Content-Type")
    if content_type:
        return content_type.split(";", 1)[0].strip()
    guessed, _ = mimetypes.guess_type(urlsplit(response.url).path)
    return guessed or default


def _filename(response: requests.Response) -> str:
    """Safe file name for ``response``: the local name, Content-Disposition or URL path."""
    parts = urlsplit(response.url)
    if parts.scheme == "file":
        return secure_filename(Path(url2pathname(parts.path)).name) or _unknown_name()
    if parts.scheme == "data" and "Content-Disposition" not in response.headers:
        return _unknown_name()  # the "path" of a data URL is its payload, not a name
    # pyrfc6266 builds pyparsing grammars on import (~20 ms): only when a name is needed
    from pyrfc6266 import requests_response_to_filename

    return requests_response_to_filename(response)


def _unknown_name() -> str:
    return f"unknown-{uuid.uuid4()}"


def _with_response(
    url_or_response: str | requests.Response, read: Callable[[requests.Response], _T]
) -> _T:
    """Apply ``read`` to the response (opened without reading the body) and close it."""
    if isinstance(url_or_response, str):
        url_or_response = open_url(url_or_response, stream=True)
    with url_or_response as response:
        return read(response)


def retrieve_filename(url_or_response: str | requests.Response) -> str:
    """File name of a URL's content without its extension (``"data.csv"`` → ``"data"``).

    Taken from the Content-Disposition header, else from the last URL path segment. The
    response is closed afterwards.
    """
    return _with_response(url_or_response, lambda response: Path(_filename(response)).stem)


def retrieve_data_type(url_or_response: str | requests.Response) -> str | None:
    """The QHAna data type the server declares in ``X-Data-Type``; closes the response."""
    return _with_response(url_or_response, lambda response: response.headers.get("X-Data-Type"))


def retrieve_attribute_metadata_url(url_or_response: str | requests.Response) -> str | None:
    """URL of the attribute metadata declared in ``X-Attribute-Metadata``; closes the response."""
    return _with_response(
        url_or_response, lambda response: response.headers.get("X-Attribute-Metadata")
    )
