# SPDX-License-Identifier: Apache-2.0
"""A small per-process cache of response bodies that cannot change any more.

A finished task never changes again (its status, log and outputs are frozen, see
``bookkeeping.finish_task``), so its ``GET /tasks/<id>/`` body is built once and then served
without touching the database. Entries expire after ``ttl`` seconds, so a task the cleanup job
removed answers 404 again soon after; the cache holds at most ``size`` bodies (least recently
used go first).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable

__all__ = ["ResponseCache", "request_host_key"]


def request_host_key() -> tuple[str, str, str]:
    """What the absolute URLs of this request's answer depend on: scheme, host and script root.

    Read from the WSGI environ (after ProxyFix), which is cheaper than ``request.host_url``; the
    host was already checked against ``TRUSTED_HOSTS`` when Flask matched the request's URL.
    """
    from flask import request

    wsgi_env = request.environ
    host = wsgi_env.get("HTTP_HOST") or f"{wsgi_env.get('SERVER_NAME', '')}:{wsgi_env.get('SERVER_PORT', '')}"
    return wsgi_env.get("wsgi.url_scheme", "http"), host, wsgi_env.get("SCRIPT_NAME", "")


class ResponseCache:
    def __init__(self, size: int = 4096, ttl: float = 60.0) -> None:
        self.size = size
        self.ttl = ttl
        self._entries: OrderedDict[Hashable, tuple[float, bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bytes, str] | None:
        """The body and ETag stored under ``key``, if still fresh."""
        if self.size <= 0:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1], entry[2]

    def holds(self, key: Hashable, body: bytes) -> bool:
        """Whether ``body`` (this very object) is still the fresh entry under ``key``."""
        entry = self.get(key)
        return entry is not None and entry[0] is body

    def put(self, key: Hashable, body: bytes, etag: str) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._entries[key] = (time.monotonic() + self.ttl, body, etag)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def discard(self, match: Hashable) -> None:
        """Forget every entry whose key starts with ``match`` (keys are tuples)."""
        with self._lock:
            for key in [key for key in self._entries if isinstance(key, tuple) and key[:1] == (match,)]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
