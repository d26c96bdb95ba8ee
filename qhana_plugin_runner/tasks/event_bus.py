# SPDX-License-Identifier: Apache-2.0
"""Wakes event streams when a task changes, across processes and hosts.

With a Redis URL (``EVENT_BUS_URL``, or the Celery broker when it is Redis) every task signal is
published on the channel ``qhana-plugin-runner:task:<id>`` and an event stream waits on that
channel instead of re-reading its task on a timer. Without Redis (the embedded mode) streams
just re-read the task every ``EVENT_STREAM_POLL_INTERVAL`` seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from flask import Flask

from .signals import TASK_DETAILS_CHANGED, TASK_STATUS_CHANGED, TASK_STEPS_CHANGED

__all__ = ["init_event_bus", "change_waiter", "channel_name"]

_LOG = logging.getLogger(__name__)
_EXTENSION = "qhana_event_bus"


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


def init_event_bus(app: Flask) -> None:
    """Publish this app's task signals on Redis, if a Redis URL is configured."""
    url = _bus_url(app)
    if url is None:
        return
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    app.extensions[_EXTENSION] = client

    def publish(sender: Flask, task_id: int | None = None, **kwargs: Any) -> None:
        if task_id is None:
            return
        try:
            client.publish(channel_name(int(task_id)), "changed")
        except redis.RedisError:  # streams fall back to their timer; never fail the task
            _LOG.warning("Could not publish the change of task %s", task_id, exc_info=True)

    app.extensions[_EXTENSION + "_listener"] = publish
    for signal in (TASK_STATUS_CHANGED, TASK_STEPS_CHANGED, TASK_DETAILS_CHANGED):
        signal.connect(publish, sender=app, weak=False)


@contextmanager
def change_waiter(app: Flask, task_id: int) -> Iterator[Waiter]:
    """A function that returns when task ``task_id`` may have changed, or after ``timeout``."""
    client = app.extensions.get(_EXTENSION)
    if client is None:
        yield time.sleep
        return
    import redis

    pubsub = client.pubsub(ignore_subscribe_messages=True)
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
