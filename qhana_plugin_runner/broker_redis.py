# SPDX-License-Identifier: Apache-2.0
"""Internal: how a Redis broker gets the messages of a dead worker back, and why a long task
is not delivered twice.

kombu emulates acknowledgements on Redis: a delivered message waits in the ``unacked`` hash,
scored by its delivery time in ``unacked_index``, until the worker acknowledges it (after the
task, ``task_acks_late``). Workers periodically put back every message older than the
``visibility_timeout``. Celery's default of one hour means a task of a worker killed with
SIGKILL (or by the OOM killer) stays PENDING for an hour. The runner therefore uses a short
timeout (``BROKER_VISIBILITY_TIMEOUT``) and lets every worker renew the delivery time of the
messages it still holds (:class:`VisibilityHeartbeat`), so a task that runs, or waits for its
ETA, longer than the timeout is not handed to a second worker while its own worker lives.

:func:`redis_transport_options` gives the transport options; :func:`init_celery` adds the
heartbeat step to every worker. :class:`Transport` (in :mod:`.broker_redis_transport`, which
kombu imports when it first connects: redis-py and kombu's transport cost the API about 40 ms
of its start otherwise) fixes how a channel closes after the broker went away and shares one
Redis client per connection pool.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from celery import bootsteps

from .config import REDIS_BROKER_SCHEMES

__all__ = ["REDIS_SCHEMES", "redis_transport_options", "VisibilityHeartbeat", "renew_deliveries"]

_LOG = logging.getLogger(__name__)

REDIS_SCHEMES = REDIS_BROKER_SCHEMES


def redis_transport_options(options: Mapping[str, Any], visibility_timeout: float) -> dict[str, Any]:
    """``options`` with the runner's defaults for the Redis transport filled in.

    Unacknowledged messages older than the timeout are looked for every quarter of it (at most
    every 10 s), on every such tick (kombu would otherwise scan only every tenth tick). The lock
    a worker takes for that look expires after a quarter of the timeout too, not after kombu's
    five minutes: a worker killed while holding it would otherwise stop every restore for that
    long (restoring is a transaction per message, so an expired lock cannot restore twice).
    """
    merged = dict(options)
    merged.setdefault("visibility_timeout", visibility_timeout)
    timeout = float(merged["visibility_timeout"])
    merged.setdefault("unacked_restore_interval", max(1, min(10, int(timeout / 4))))
    merged.setdefault("unacked_restore_throttle", 1)
    merged.setdefault("unacked_mutex_expire", max(1, min(300, int(timeout / 4))))
    return merged


class VisibilityHeartbeat(bootsteps.StartStopStep):
    """Consumer step: renews the delivery time of the messages this worker holds, every
    quarter of the visibility timeout, from a thread of its own (so a pool that blocks the
    event loop, like ``solo``, does not stop it)."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, parent: Any) -> None:
        channel = _task_channel(parent)
        if channel is None or not hasattr(channel, "unacked_index_key"):
            return  # not the Redis transport
        if self._thread is not None and self._thread.is_alive():
            return  # started before this reconnect; it follows the consumer's new channel
        interval = max(0.5, float(channel.visibility_timeout) / 4)
        self._thread = threading.Thread(target=self._run, args=(parent, interval), name="qhana-visibility-heartbeat", daemon=True)
        self._thread.start()

    def shutdown(self, parent: Any) -> None:
        self._stop.set()

    def _run(self, consumer: Any, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                renew_deliveries(_task_channel(consumer))
            except Exception:  # noqa: BLE001  (broker away or reconnecting: try again next time)
                _LOG.debug("Could not renew the delivery time of held messages", exc_info=True)


def _task_channel(consumer: Any) -> Any:
    task_consumer = getattr(consumer, "task_consumer", None)
    return getattr(task_consumer, "channel", None)


def renew_deliveries(channel: Any) -> int:
    """Set the delivery time of every message the channel holds unacknowledged to now.

    Only entries still in ``unacked_index`` are touched (``XX``): a message acknowledged or put
    back meanwhile is not brought back. Returns how many messages were renewed.
    """
    qos = getattr(channel, "qos", None)
    if qos is None:
        return 0
    for _ in range(3):  # the worker's threads change the dict while it is copied
        try:
            tags = [tag for tag in list(qos._delivered) if tag not in qos._dirty]
            break
        except RuntimeError:
            continue
    else:
        return 0
    if not tags:
        return 0
    now = time.time()
    with channel.conn_or_acquire() as client:
        client.zadd(channel.unacked_index_key, dict.fromkeys(tags, now), xx=True)
    return len(tags)
