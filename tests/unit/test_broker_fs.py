"""The embedded broker: every message published is consumed exactly once and never half-read,
also while publishers and consumers race (kombu's own filesystem channel fails that)."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path
from queue import Empty

from kombu import Connection

import qhana_plugin_runner.celery  # noqa: F401  (registers the transport for filesystem://)
from qhana_plugin_runner.broker_fs import Channel


def _connection(folder: Path) -> Connection:
    queue = folder / "queue"
    queue.mkdir(parents=True, exist_ok=True)
    options = {"data_folder_in": str(queue), "data_folder_out": str(queue), "control_folder": str(folder / "control"), "polling_interval": 0.001}
    return Connection("filesystem://localhost/", transport_options=options)


def _publish(folder: str, start: int, count: int) -> None:
    with _connection(Path(folder)) as conn:
        queue = conn.SimpleQueue("race")
        for number in range(start, start + count):
            queue.put({"n": number, "pad": "x" * 4096})
        queue.close()


def test_filesystem_scheme_uses_the_atomic_channel(tmp_path: Path) -> None:
    with _connection(tmp_path) as conn:
        assert isinstance(conn.default_channel, Channel)


def test_racing_publishers_and_consumers_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    producers = [multiprocessing.get_context("spawn").Process(target=_publish, args=(str(tmp_path), i * 150, 150)) for i in range(3)]
    received: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def consume() -> None:
        try:
            with _connection(tmp_path) as conn:
                queue = conn.SimpleQueue("race")
                while True:
                    try:
                        message = queue.get(timeout=1)
                    except Empty:
                        # spawned producers may take seconds to start on a busy machine:
                        # only an empty queue after every producer has exited means done
                        if any(process.is_alive() for process in producers):
                            continue
                        break
                    assert len(message.payload["pad"]) == 4096
                    message.ack()
                    with lock:
                        received.append(message.payload["n"])
                queue.close()
        except BaseException as err:  # surfaced below
            errors.append(err)

    consumers = [threading.Thread(target=consume) for _ in range(3)]
    for process in producers:
        process.start()
    for thread in consumers:
        thread.start()
    for process in producers:
        process.join(60)
    for thread in consumers:
        thread.join(60)
    assert [process.exitcode for process in producers] == [0, 0, 0]
    assert not errors, errors
    assert sorted(received) == list(range(450))
    assert not [p for p in (tmp_path / "queue").iterdir()], "no message or temp file left behind"


def test_messages_come_out_in_the_order_they_were_sent(tmp_path: Path) -> None:
    # a burst puts many messages into one millisecond; they must still be read in order
    with _connection(tmp_path) as conn:
        queue = conn.SimpleQueue("order")
        for number in range(300):
            queue.put({"n": number})
        received = []
        for _ in range(300):
            message = queue.get(timeout=5)
            received.append(message.payload["n"])
            message.ack()
        queue.close()
    assert received == list(range(300))
