# SPDX-License-Identifier: Apache-2.0
"""Answer a repeated ``GET`` again without running Flask, while its answer cannot have changed.

Some answers stay the same for a while and are asked for many times a second: the plugin list
(until a virtual plugin changes, see :mod:`.plugin_list_cache`) and a finished task (never
again, see :mod:`.response_cache`). Their views already build the body once, but Flask's
request handling around it (URL matching, hooks, CORS, the response object) still cost several
times the work of sending it. A view can therefore *offer* its answer for replay
(:func:`offer_replay`) together with the condition under which it still holds (the view's own
cache still holding the same body). This WSGI
middleware, the outermost layer of the app, stores the finished response (status, every header
as the hooks left them, body) under the whole request: method, path, query string and every
request header (``Host``, ``Origin``, ``X-Forwarded-*``, ``Cookie``, ``Authorization``,
``If-None-Match``, ...). The next identical request, while the condition holds, is answered from
memory; any other request runs through Flask as before.

An answer that changes while its headers do not (a task that has not finished: its status,
log, progress and steps come from the database) can be offered with a ``refresh`` function
instead: an identical request then gets the stored status and headers with the body the
function builds from the database now (``Content-Length`` set to match), and whatever the
function cannot answer that way (the task finished, vanished, the database failed: it returns
None) runs through Flask again.

Only ``200`` answers without ``Set-Cookie`` whose body is the offered one are stored, so a
request-specific answer (an error, a 304, a fresh session) is never sent to anyone else. Side
effects of hooks are not repeated: views offer only answers whose requests have none (the
webhook subscription hook acts on ``303`` answers only). ``RESPONSE_REPLAY_ENTRIES`` bounds the
number of stored answers per process (``0`` turns replay off); an answer over 1 MiB is not
stored, and the stored bodies are dropped together when they reach 32 MiB.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

__all__ = ["ReplayMiddleware", "offer_replay"]

_OFFERS = "qhana_plugin_runner.replay_offers"
# request facts outside the HTTP_* headers that an answer may depend on (``wsgi_env`` is the
# WSGI environ throughout: the docs' scan for environment variables reads mappings named environ)
_REQUEST_FACTS = ("PATH_INFO", "QUERY_STRING", "SCRIPT_NAME", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "wsgi.url_scheme")


class _Offer(NamedTuple):
    body: bytes
    valid: Callable[[], bool]
    refresh: Callable[[], bytes | None] | None = None


class _Entry(NamedTuple):
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    valid: Callable[[], bool]
    refresh: Callable[[], bytes | None] | None = None


def _always() -> bool:
    return True


def offer_replay(wsgi_env: dict[str, Any], body: bytes, valid: Callable[[], bool] = _always, refresh: Callable[[], bytes | None] | None = None) -> None:
    """Let the same request be answered with this view's response again as long as ``valid()``
    is true (it is asked before every replay, from any thread, without an app context; it
    should be a dictionary lookup, not a query). ``body`` must be the response's whole body.

    With ``refresh``, a replay sends the body ``refresh()`` returns instead of ``body`` (called
    like ``valid``, without an app context, after it; it may read the database), or runs the
    request through Flask when it returns None. Does nothing when the request did not pass the
    middleware."""
    offers = wsgi_env.get(_OFFERS)
    if offers is not None:
        offers.append(_Offer(body, valid, refresh))


def _with_length(headers: list[tuple[str, str]], length: int) -> list[tuple[str, str]]:
    return [(name, str(length)) if name.lower() == "content-length" else (name, value) for name, value in headers]


def _request_key(wsgi_env: dict[str, Any]) -> tuple[Any, ...] | None:
    """Everything of the request an answer can depend on; None for requests never replayed."""
    if wsgi_env.get("REQUEST_METHOD") != "GET" or wsgi_env.get("CONTENT_LENGTH") not in (None, "", "0") or "HTTP_TRANSFER_ENCODING" in wsgi_env:
        return None
    headers = sorted((name, value) for name, value in wsgi_env.items() if name.startswith("HTTP_"))
    return (*(wsgi_env.get(fact) for fact in _REQUEST_FACTS), wsgi_env.get("CONTENT_TYPE"), *headers)


class ReplayMiddleware:
    """The WSGI layer that stores offered answers and replays them (see the module doc)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], entries: int = 512, max_bytes: int = 1 << 20, max_total_bytes: int = 32 << 20) -> None:
        self.app = app
        self.entries = entries
        self.max_bytes = max_bytes
        self.max_total_bytes = max_total_bytes
        self._stored: dict[tuple[Any, ...], _Entry] = {}
        self._bytes = 0  # of the stored bodies (a body a view's cache also holds is counted too)
        self._lock = threading.Lock()  # for changes; a replay only reads

    def __call__(self, wsgi_env: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        key = _request_key(wsgi_env) if self.entries > 0 else None
        if key is None:
            return self.app(wsgi_env, start_response)
        entry = self._stored.get(key)
        if entry is not None:
            if entry.valid():
                if entry.refresh is None:
                    start_response(entry.status, list(entry.headers))
                    return [entry.body]
                body = entry.refresh()
                if body is not None:
                    start_response(entry.status, _with_length(entry.headers, len(body)))
                    return [body]
            self._forget(key)
        offers: list[_Offer] = []
        wsgi_env[_OFFERS] = offers
        answer: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer[:] = [status, headers]
            return start_response(status, headers, exc_info) if exc_info is not None else start_response(status, headers)

        result = self.app(wsgi_env, capture)
        if not (offers and answer and answer[0].startswith("200 ") and len(offers[-1].body) <= self.max_bytes):
            return result
        try:  # the offered body is in memory anyway: read the answer to compare it
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        self._keep(key, answer[0], answer[1], offers[-1], body)
        return [body]

    def _keep(self, key: tuple[Any, ...], status: str, headers: list[tuple[str, str]], offer: _Offer, body: bytes) -> None:
        if body != offer.body or any(name.lower() == "set-cookie" for name, _ in headers):
            return  # a session cookie is one client's; a body other than the offered one is not known
        with self._lock:
            earlier = self._stored.pop(key, None)
            if earlier is not None:
                self._bytes -= len(earlier.body)
            if len(self._stored) >= self.entries or self._bytes + len(body) > self.max_total_bytes:
                self._stored.clear()  # many distinct requests (headers are the clients'): start over
                self._bytes = 0
            self._stored[key] = _Entry(status, list(headers), offer.body, offer.valid, offer.refresh)
            self._bytes += len(body)

    def _forget(self, key: tuple[Any, ...]) -> None:
        with self._lock:
            entry = self._stored.pop(key, None)
            if entry is not None:
                self._bytes -= len(entry.body)

    def clear(self) -> None:
        with self._lock:
            self._stored.clear()
            self._bytes = 0
