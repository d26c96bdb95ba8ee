# SPDX-License-Identifier: Apache-2.0
"""Wakes event streams when a task changes, across processes and hosts.

With a Redis URL (``EVENT_BUS_URL``, or the Celery broker when it is Redis) every task signal is
published on the channel ``qhana-plugin-runner:task:<id>`` and an event stream waits on that
channel instead of re-reading its task on a timer. Without Redis (the embedded mode) streams
just re-read the task every ``EVENT_STREAM_POLL_INTERVAL`` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol
from urllib.parse import urlsplit

from flask import Flask

from ..errors import ConfigError
from .signals import TASK_DETAILS_CHANGED, TASK_STATUS_CHANGED, TASK_STEPS_CHANGED

__all__ = ["init_event_bus", "change_waiter", "channel_name", "one_publish_per_task"]

_LOG = logging.getLogger(__name__)
_EXTENSION = "qhana_event_bus"
_BATCH = threading.local()  # .pending: {(client, channel)} while one_publish_per_task() runs


def channel_name(task_id: int) -> str:
    return f"qhana-plugin-runner:task:{task_id}"


class Waiter(Protocol):
    def __call__(self, timeout: float) -> None: ...


def _bus_url(app: Flask) -> str | None:
    url = app.config.get("EVENT_BUS_URL")
    if url:
        return str(url)
    broker = str((app.config.get("CELERY") or {}).get("broker_url") or "")
    return broker if broker.startswith(("redis://", "rediss://")) else None


class _BusClient:
    """The event bus's Redis client, made when first used: importing redis-py costs a process
    about 35 ms of its start, which an API that has not run or streamed a task yet need not
    pay. Thread-safe; ``close`` closes the client if there is one."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    import redis

                    self._client = redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)
                client = self._client
        return client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


def _url_problem(url: str) -> str | None:
    """What redis-py would refuse in ``url`` (scheme, port, database number), or None."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return "expected a redis://, rediss:// or unix:// URL"
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        return "the port is not a number"
    database = parts.path.strip("/") if parts.scheme != "unix" else ""
    if database and not database.isdigit():
        return "the database (the URL's path) is not a number"
    return None


def init_event_bus(app: Flask) -> None:
    """Publish this app's task signals on Redis, if a Redis URL is configured."""
    url = _bus_url(app)
    if url is None:
        return
    reason = _url_problem(url)  # checked here: the client is made at the first use
    if reason:
        raise ConfigError("EVENT_BUS_URL", url, reason)
    client = _BusClient(url)
    app.extensions[_EXTENSION] = client

    def publish(sender: Flask, task_id: int | None = None, **kwargs: Any) -> None:
        if task_id is None:
            return
        pending = getattr(_BATCH, "pending", None)
        if pending is not None:
            pending[(client, channel_name(int(task_id)))] = None
            return
        _publish(client, channel_name(int(task_id)))

    app.extensions[_EXTENSION + "_listener"] = publish
    for signal in (TASK_STATUS_CHANGED, TASK_STEPS_CHANGED, TASK_DETAILS_CHANGED):
        signal.connect(publish, sender=app, weak=False)


def _publish(client: _BusClient, channel: str) -> None:
    import redis

    try:
        client.get().publish(channel, "changed")
    except (redis.RedisError, ValueError):  # streams fall back to their timer; never fail the task
        _LOG.warning("Could not publish the change on %s", channel, exc_info=True)


@contextmanager
def one_publish_per_task() -> Iterator[None]:
    """Signals sent inside are published once per task when the block ends.

    A finished task sends a status and a details signal; each was a message (a round trip to
    Redis) saying the same thing, "task changed", to the same streams. Nested blocks publish
    when the outermost ends.
    """
    if getattr(_BATCH, "pending", None) is not None:
        yield
        return
    pending: dict[tuple[Any, str], None] = {}
    _BATCH.pending = pending
    try:
        yield
    finally:
        _BATCH.pending = None
        for client, channel in pending:
            _publish(client, channel)


@contextmanager
def change_waiter(app: Flask, task_id: int) -> Iterator[Waiter]:
    """A function that returns when task ``task_id`` may have changed, or after ``timeout``."""
    client = app.extensions.get(_EXTENSION)
    if client is None:
        yield time.sleep
        return
    import redis

    try:
        pubsub = client.get().pubsub(ignore_subscribe_messages=True)
    except ValueError:  # a URL redis-py refuses: the stream polls, as when Redis is away
        _LOG.warning("Event bus URL refused; the stream of task %s polls instead", task_id, exc_info=True)
        yield time.sleep
        return
    try:
        pubsub.subscribe(channel_name(task_id))
    except redis.RedisError:
        _LOG.warning("Event bus unreachable; the stream of task %s polls instead", task_id, exc_info=True)
        pubsub.close()
        yield time.sleep
        return

    def wait(timeout: float) -> None:
        try:
            pubsub.get_message(timeout=timeout)
        except redis.RedisError:
            time.sleep(timeout)

    try:
        yield wait
    finally:
        pubsub.close()
