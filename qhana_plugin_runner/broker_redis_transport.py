# SPDX-License-Identifier: Apache-2.0
"""Internal: kombu's Redis transport with the runner's channel (see :mod:`.broker_redis`).

Registered for ``redis://`` and ``rediss://`` by :mod:`qhana_plugin_runner.celery` as a name,
so kombu imports this module (and redis-py) when a process first connects to the broker.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis

__all__ = ["Channel", "Transport"]


class Channel(redis.Channel):
    """kombu's Redis channel, closed completely also when the broker has gone away.

    kombu's ``close`` first reads the pending BRPOP answer; on a dead connection that raises and
    leaves the channel open. Celery's consumer then drops the transport's connection and closes
    the channel again, which fails with ``AttributeError`` (the transport has no client any
    more) while putting back held messages, and the worker stops for good ("Unrecoverable
    error"). Trying again at once, while the transport still has its client, closes it; the
    held messages then come back through the visibility timeout.
    """

    _shared_client: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        """A Redis client for one operation (publish, acknowledge, fanout, restore).

        kombu builds a new ``redis.Redis`` on the channel's connection pool for each of these,
        about 55 µs apiece (its response callbacks table), several times per task in the
        worker and once per process request in the API. A client object is thread-safe (it
        takes a connection from the pool per command), so one per pool serves them all; a
        replaced pool (after a connection error) gets a new one.
        """
        if client:
            yield client
            return
        pool = self.pool
        shared = self._shared_client
        if shared is None or shared.connection_pool is not pool:
            shared = self._shared_client = self._create_client()
        yield shared

    def close(self) -> None:
        for attempt in range(3):
            try:
                super().close()
                return
            except self.connection_errors:
                if self.closed or attempt == 2:
                    raise


class Transport(redis.Transport):
    """kombu's Redis transport with :class:`Channel`; registered for ``redis://`` and
    ``rediss://`` by :mod:`qhana_plugin_runner.celery`."""

    Channel = Channel
