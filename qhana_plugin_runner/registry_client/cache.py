# SPDX-License-Identifier: Apache-2.0
"""``TtlCache``: the registry client's response cache, safe to share between threads.

Every entry expires on its own, ``ttl`` seconds after it was stored; expired entries are
dropped when read and purged before the cache would grow past ``max_entries`` (then the oldest
entries make room). Entries are copied in and out, so a caller changing an answer it got
cannot change what the next caller gets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .types import ApiResponse

__all__ = ["TtlCache"]


class TtlCache:
    """A thread-safe map of URL to response where every entry expires on its own."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_entries: int = 512) -> None:
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[str, tuple[float, ApiResponse]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> ApiResponse | None:
        """A copy of the live entry for ``key``; an expired entry is dropped."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[key]
                return None
            return entry[1].copy()

    def put(self, key: str, value: ApiResponse, ttl: float) -> None:
        """Keep ``value`` for ``ttl`` seconds (not at all when ``ttl`` is not positive)."""
        if ttl <= 0:
            return
        with self._lock:
            now = self._clock()
            if len(self._entries) >= self._max_entries:
                self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
            while len(self._entries) >= self._max_entries:
                del self._entries[next(iter(self._entries))]  # the oldest entry
            self._entries.pop(key, None)
            self._entries[key] = (now + ttl, value.copy())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
