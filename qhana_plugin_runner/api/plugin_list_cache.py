# SPDX-License-Identifier: Apache-2.0
"""The ``GET /plugins/`` body, built once and served from memory until the virtual plugins change.

The loaded plugins are fixed at start-up; only the ``VirtualPlugin`` table changes. Reading it
(a session, a pool checkout and, on PostgreSQL, a liveness ping) cost more than the rest of the
request, so the finished body is kept per host name and rebuilt when:

- this process commits a change to ``VirtualPlugin`` (ORM objects added, changed or deleted, or
  an ``insert``/``update``/``delete`` statement on the model): the next request reads the table
  again, so a plugin's own request that created a virtual plugin sees it listed at once;
- ``PLUGIN_LIST_CACHE_SECONDS`` (default 1 s) have passed: changes made by other processes
  (another gunicorn worker, a Celery task, another host) are listed within that time.
  ``0`` reads the table on every request, as before.

Writes with raw SQL text are not seen by the first rule, only by the second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

__all__ = ["PluginListCache", "virtual_plugins_generation"]

_FLAG = "qhana_virtual_plugins_changed"
_generation = 0
_generation_lock = threading.Lock()


def virtual_plugins_generation() -> int:
    """A number that changes whenever this process committed a change to ``VirtualPlugin``."""
    return _generation


def _bump() -> None:
    global _generation
    with _generation_lock:
        _generation += 1


def _is_virtual_plugin(obj: Any) -> bool:
    from ..db.models.virtual_plugins import VirtualPlugin

    return isinstance(obj, VirtualPlugin)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    if any(_is_virtual_plugin(obj) for group in (session.new, session.dirty, session.deleted) for obj in group):
        session.info[_FLAG] = True
        _bump()  # readers during the transaction may cache the old rows: commit bumps again


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: Any) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    from ..db.models.virtual_plugins import VirtualPlugin

    table = getattr(state.statement, "table", None)  # an annotated copy for ORM statements
    if getattr(table, "name", None) == VirtualPlugin.__tablename__:
        state.session.info[_FLAG] = True
        _bump()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_FLAG, False):
        _bump()


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous: SessionTransaction) -> None:
    if session.info.pop(_FLAG, False):
        _bump()


class PluginListCache:
    """Bodies of ``GET /plugins/`` by host URL, valid for ``ttl`` seconds and one generation."""

    def __init__(self, ttl: float, size: int = 64) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[Hashable, tuple[int, float, bytes]] = {}

    def get(self, host: Hashable) -> bytes | None:
        entry = self._entries.get(host)
        if entry is None:
            return None
        generation, expires, body = entry
        if generation != _generation or expires < time.monotonic():
            return None
        return body

    def holds(self, host: Hashable, body: bytes) -> bool:
        """Whether ``body`` (this very object) is still the valid entry for ``host``."""
        return self.get(host) is body

    def put(self, host: Hashable, generation: int, body: bytes) -> None:
        """Store ``body`` read at ``generation`` (not stored if a change was committed since)."""
        if self.ttl <= 0 or generation != _generation:
            return
        if host not in self._entries and len(self._entries) >= self.size:
            self._entries.clear()  # many host names (Host header is the client's): start over
        self._entries[host] = (generation, time.monotonic() + self.ttl, body)
