# SPDX-License-Identifier: Apache-2.0
"""Internal: kombu's filesystem transport with atomic publishing and claiming.

kombu's own channel writes a message file in place and lets a reader move it away while it is
still being written, so under load a worker can read an empty message and stop with
``JSONDecodeError``. Here a message is written under a hidden temporary name and renamed into
the queue folder (rename is atomic), and a reader claims a message by renaming it into a
``claimed`` folder beside the queue (only one reader can win), reads it and deletes it. A
message put back (the worker stopped while holding it, or rejected it with ``requeue``) is
marked redelivered, as the Redis transport marks it.

Between two empty polls kombu sleeps ``polling_interval``; here a consumer on Linux waits on an
inotify watch of its queue folder instead, for at most that long, so a message is picked up as
soon as it is renamed into the folder rather than up to one interval later. Where inotify is
missing (another OS, a full watch limit) it sleeps as kombu does.

:mod:`qhana_plugin_runner.celery` registers this class for the ``filesystem://`` scheme.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import logging
import os
import select
import sys
import time
import uuid
from collections import deque
from functools import cached_property
from pathlib import Path
from queue import Empty
from time import monotonic_ns
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

__all__ = ["Channel", "Transport", "FolderWatch"]

_LOG = logging.getLogger(__name__)
_IN_MOVED_TO = 0x80
_IN_CLOSE_WRITE = 0x08
_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000


class FolderWatch:
    """Waits until a file is renamed into (or written in) a folder, or a timeout passes.

    Linux inotify through libc; :meth:`create` answers None elsewhere or when the kernel refuses
    a watch, and the caller sleeps instead. Events between two waits are kept by the kernel, so
    a message that arrives while the consumer is busy still ends the next wait at once.

    ``arrivals`` counts the times events were taken in (by :meth:`wait` or :meth:`poll`): a
    channel that listed a queue folder when the count was n knows nothing arrived since while
    it is still n, however many channels share the watch.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self.arrivals = 0

    @classmethod
    def create(cls, folder: str) -> FolderWatch | None:
        if not sys.platform.startswith("linux"):
            return None
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
            fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
            if fd < 0:
                raise OSError(ctypes.get_errno(), "inotify_init1")
            if libc.inotify_add_watch(fd, os.fsencode(folder), _IN_MOVED_TO | _IN_CLOSE_WRITE) < 0:
                error = ctypes.get_errno()
                os.close(fd)
                raise OSError(error, f"inotify_add_watch {folder}")
        except (OSError, AttributeError) as err:
            _LOG.info("Filesystem broker: no inotify watch on %s (%s); polling instead", folder, err)
            return None
        return cls(fd)

    def wait(self, timeout: float) -> bool:
        """True when something arrived within ``timeout`` seconds (the events are consumed)."""
        try:
            ready, _, _ = select.select([self._fd], [], [], max(timeout, 0.0))
        except InterruptedError:
            return False
        if not ready:
            return False
        self._drain()
        return True

    def poll(self) -> int:
        """``arrivals``, after taking in the events that came meanwhile (never waits)."""
        self._drain()
        return self.arrivals

    def _drain(self) -> None:
        """Read every queued event (the caller looks at the folder anyway)."""
        found = False
        while True:
            try:
                if not os.read(self._fd, 65536):
                    break
                found = True
            except BlockingIOError:
                break
            except OSError as err:
                if err.errno == errno.EINTR:
                    continue
                raise
        if found:
            self.arrivals += 1

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class Channel(filesystem.Channel):
    """Filesystem channel whose messages appear and disappear atomically.

    A listing of the queue folder is kept and claimed from, oldest first, until it is used up:
    listing (and sorting) the folder for every message made reading a queue of n messages cost
    n listings of up to n names.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        #: per queue, the names of its last listing not claimed yet, oldest first
        self._listed: dict[str, deque[str]] = {}
        #: per queue, the folder watch and its arrivals when the queue was last listed empty
        self._empty_at: dict[str, tuple[FolderWatch, int]] = {}
        super().__init__(*args, **kwargs)

    @cached_property
    def _claim_folder(self) -> Path:
        folder = Path(self.data_folder_in).resolve().parent / "claimed"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        # nanoseconds (system-wide clock): messages are read in the order they were sent, also
        # several within one millisecond (a burst of submissions); the uuid keeps names unique
        name = f"{monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg"
        folder = Path(self.data_folder_out)
        temp = folder / f".{name}.tmp"
        try:
            with open(temp, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(temp, folder / name)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise ChannelError(f"Cannot add message {name!r} to {folder}") from exc

    def _get(self, queue: str) -> Any:
        folder = Path(self.data_folder_in)
        pending = self._listed.setdefault(queue, deque())
        listed = False
        while True:
            if not pending:
                if listed:  # everything this call listed was claimed by other readers
                    raise Empty()
                self._list(folder, queue, pending)
                listed = True
                if not pending:
                    raise Empty()
            payload = self._claim(folder, pending.popleft())
            if payload is not None:
                return loads(bytes_to_str(payload))

    def _list(self, folder: Path, queue: str, pending: deque[str]) -> None:
        """Fill ``pending`` from the folder, unless the queue was empty at its last listing
        and nothing arrived in the folder since (the worker polls its control queue, which is
        almost always empty, between any two messages of its task queue)."""
        watch = self.connection._folder_watch() if isinstance(self.connection, Transport) else None
        if watch is None:
            pending.extend(_queue_names(folder, queue))
            return
        arrivals = watch.poll()  # before listing: what arrives while listing counts as new
        if self._empty_at.get(queue) == (watch, arrivals):
            return
        pending.extend(_queue_names(folder, queue))
        if pending:
            self._empty_at.pop(queue, None)
        else:
            self._empty_at[queue] = (watch, arrivals)

    def _claim(self, folder: Path, name: str) -> bytes | None:
        """The message's content, or None when another reader claimed it first."""
        claimed = self._claim_folder / name
        try:
            os.rename(folder / name, claimed)  # whoever renames first owns the message
        except FileNotFoundError:
            if self._claim_folder.is_dir() or not (folder / name).exists():
                return None
            self._claim_folder.mkdir(parents=True, exist_ok=True)  # removed while running
            return self._claim(folder, name)
        try:
            payload = claimed.read_bytes()
            if self.store_processed:
                os.replace(claimed, Path(self.processed_folder) / name)
            else:
                claimed.unlink()
        except OSError as exc:
            raise ChannelError(f"Cannot read message {name!r}") from exc
        return payload

    def _restore(self, message: Any) -> None:
        """Put back a message the worker held unacknowledged (at shutdown, or rejected with
        ``requeue``), marked redelivered where Celery reads it.

        kombu's virtual channel writes the mark at the top of the payload, which its Message
        never reads: the task would run again looking like a first run (``delivery_info`` has
        no ``redelivered``), and a run that repeats must replace the files the earlier one
        wrote (see ``TaskRun.repeated``). Redis (``_do_restore_message``) and RabbitMQ set it.
        """
        delivery_info = message.delivery_info
        payload = message.serializable()
        properties = dict(payload["properties"])
        properties["delivery_info"] = {**properties.get("delivery_info", {}), "redelivered": True}
        payload.update(properties=properties, redelivered=True)
        payload["headers"]["redelivered"] = True  # as kombu's Redis transport marks it
        for queue in self._lookup(delivery_info["exchange"], delivery_info["routing_key"]):
            self._put(queue, payload)


def _queue_names(folder: Path, queue: str) -> list[str]:
    """The messages of ``queue`` in ``folder``, oldest first (names start with the send time)."""
    suffix = f"{queue}.msg"
    return sorted(name for name in os.listdir(folder) if not name.startswith(".") and name.partition(".")[2] == suffix)


class Transport(filesystem.Transport):
    Channel = Channel

    #: longest wait on the folder watch between two looks at the queues: an arrival ends the
    #: wait at once, so this only bounds how long a missed event could go unnoticed
    WATCHED_WAIT = 1.0

    def drain_events(self, connection: Any, timeout: float | None = None) -> None:
        """kombu's loop, with the sleep between empty polls spent waiting on the queue folder.

        With a folder watch an idle consumer waits up to :attr:`WATCHED_WAIT` (within
        ``timeout``) instead of ``polling_interval``: waking every 5 ms to find nothing cost an
        idle worker about 2 % of a core, taken from the API on a small machine. A consumer at
        its prefetch limit still looks every ``polling_interval`` (see :meth:`_all_can_consume`).
        """
        started = time.monotonic()
        interval = self.polling_interval
        if timeout and interval and interval > timeout:
            interval = timeout
        watch = self._folder_watch()
        while True:
            try:
                self.cycle.get(self._deliver, timeout=timeout)
            except Empty:
                elapsed = time.monotonic() - started
                if timeout is not None and elapsed >= timeout:
                    raise TimeoutError() from None
                if watch is not None and self._all_can_consume():
                    left = self.WATCHED_WAIT if timeout is None else timeout - elapsed
                    watch.wait(min(max(interval or 0.0, self.WATCHED_WAIT), left))
                elif watch is not None and interval is not None:
                    watch.wait(interval)
                elif interval is not None:
                    time.sleep(interval)
            else:
                return

    def _all_can_consume(self) -> bool:
        """Whether every consuming channel may take a message now. A channel at its prefetch
        limit gets nothing until the worker acknowledges a message, and an acknowledgement
        writes no file the watch would see: then the consumer looks again every
        ``polling_interval``, as before."""
        return all(channel.qos.can_consume() for channel in self.channels if getattr(channel, "_consumers", None))

    #: the queue folder's watch; False until the first drain looked for one
    _watch: FolderWatch | None | bool = False

    def _folder_watch(self) -> FolderWatch | None:
        if self._watch is False:
            folder = self.client.transport_options.get("data_folder_in") if self.client else None
            self._watch = FolderWatch.create(folder) if folder else None
        return self._watch if isinstance(self._watch, FolderWatch) else None

    def close_connection(self, connection: Any) -> None:
        if isinstance(self._watch, FolderWatch):
            self._watch.close()
        self._watch = False
        super().close_connection(connection)
