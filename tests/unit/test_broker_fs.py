"""The embedded broker: every message published is consumed exactly once and never half-read,
also while publishers and consumers race (kombu's own filesystem channel fails that)."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path
from queue import Empty
from typing import Any

import pytest
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


def test_a_waiting_consumer_wakes_when_a_message_arrives(tmp_path: Path) -> None:
    """With a polling interval of 5 s, a message sent while the consumer waits is received at
    once: the wait ends on the folder's inotify event, not after the interval."""
    from qhana_plugin_runner.broker_fs import FolderWatch

    queue_folder = tmp_path / "queue"
    queue_folder.mkdir()
    if FolderWatch.create(str(queue_folder)) is None:
        pytest.skip("no inotify here: the consumer polls")
    options = {"data_folder_in": str(queue_folder), "data_folder_out": str(queue_folder), "control_folder": str(tmp_path / "control"), "polling_interval": 5.0}
    with Connection("filesystem://localhost/", transport_options=options) as consumer_conn, _connection(tmp_path) as producer_conn:
        queue = consumer_conn.SimpleQueue("wake")
        sent_at: list[float] = []

        def send_later() -> None:
            time.sleep(0.3)
            sent_at.append(time.monotonic())
            producer_conn.SimpleQueue("wake").put({"n": 1})

        sender = threading.Thread(target=send_later)
        sender.start()
        started = time.monotonic()
        message = queue.get(timeout=20)
        received = time.monotonic()
        sender.join()
        message.ack()
        queue.close()
    assert message.payload == {"n": 1}
    assert received - sent_at[0] < 1.0, f"woke {received - sent_at[0]:.2f} s after the send"
    assert received - started < 2.0


def test_without_inotify_the_consumer_polls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qhana_plugin_runner import broker_fs

    monkeypatch.setattr(broker_fs.FolderWatch, "create", classmethod(lambda cls, folder: None))
    with _connection(tmp_path) as conn:
        queue = conn.SimpleQueue("poll")
        queue.put({"n": 2})
        message = queue.get(timeout=5)
        message.ack()
        queue.close()
    assert message.payload == {"n": 2}


def test_a_message_put_back_is_marked_redelivered(tmp_path: Path) -> None:
    """Celery reads ``delivery_info["redelivered"]``; a task run again after its message came
    back replaces the files of its earlier run only when that flag is set (kombu's own
    filesystem channel drops it on the way back)."""
    with _connection(tmp_path) as conn:
        queue = conn.SimpleQueue("back")
        queue.put({"n": 1})
        first = queue.get(timeout=5)
        assert not first.delivery_info.get("redelivered")
        first.reject(requeue=True)
        again = queue.get(timeout=5)
        assert again.payload == {"n": 1} and again.delivery_info.get("redelivered") is True
        again.ack()
        queue.put({"n": 2})
        held = queue.get(timeout=5)
        assert not held.delivery_info.get("redelivered")
        queue.close()  # closing the channel puts back what it holds unacknowledged
    with _connection(tmp_path) as conn:
        queue = conn.SimpleQueue("back")
        restored = queue.get(timeout=5)
        assert restored.payload == {"n": 2} and restored.delivery_info.get("redelivered") is True
        restored.ack()
        queue.close()


def test_a_queue_is_listed_once_per_batch_not_once_per_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qhana_plugin_runner import broker_fs

    listings: list[str] = []
    real_listdir = broker_fs.os.listdir

    def listdir(path: Any) -> list[str]:
        listings.append(str(path))
        return real_listdir(path)

    with _connection(tmp_path) as conn:
        queue = conn.SimpleQueue("batch")
        for number in range(50):
            queue.put({"n": number})
        monkeypatch.setattr(broker_fs.os, "listdir", listdir)
        received = []
        for _ in range(50):
            message = queue.get(timeout=5)
            received.append(message.payload["n"])
            message.ack()
        queue.put({"n": 50})  # sent after the listing was used up: found by the next one
        late = queue.get(timeout=5)
        late.ack()
        queue.close()
    assert received == list(range(50)) and late.payload == {"n": 50}
    assert len(listings) <= 3, listings


def test_a_claim_folder_removed_while_running_is_made_again(tmp_path: Path) -> None:
    import shutil

    with _connection(tmp_path) as conn:
        queue = conn.SimpleQueue("claims")
        queue.put({"n": 1})
        queue.get(timeout=5).ack()
        shutil.rmtree(tmp_path / "claimed")
        queue.put({"n": 2})
        message = queue.get(timeout=5)
        message.ack()
        queue.close()
    assert message.payload == {"n": 2}


def test_an_empty_queue_is_listed_again_only_after_something_arrived(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker also consumes its (almost always empty) control queue: between two task
    messages it would list the whole folder for it, a burst of n messages costing n listings."""
    from kombu import Consumer, Producer, Queue

    from qhana_plugin_runner import broker_fs

    if broker_fs.FolderWatch.create(str(tmp_path)) is None:
        pytest.skip("no inotify here: every poll lists the folder")
    listings: list[str] = []
    real_names = broker_fs._queue_names

    def names(folder: Path, queue: str) -> list[str]:
        listings.append(queue)
        return real_names(folder, queue)

    received: list[tuple[str, Any]] = []

    def on_message(body: Any, message: Any) -> None:
        received.append((message.delivery_info["routing_key"], body["n"]))
        message.ack()

    with _connection(tmp_path) as conn:
        busy, idle = Queue("busy", routing_key="busy"), Queue("idle", routing_key="idle")
        producer = Producer(conn.channel())
        with Consumer(conn.channel(), [busy, idle], callbacks=[on_message]):
            for number in range(50):
                producer.publish({"n": number}, routing_key="busy", declare=[busy])
            monkeypatch.setattr(broker_fs, "_queue_names", names)
            while len(received) < 50:
                conn.drain_events(timeout=5)
            assert received == [("busy", number) for number in range(50)]
            assert 0 < listings.count("idle") <= 3, listings
            producer.publish({"n": "control"}, routing_key="idle", declare=[idle])
            conn.drain_events(timeout=5)
    assert received[-1] == ("idle", "control")


def test_an_idle_consumer_with_a_watch_waits_long_and_still_wakes_at_once(tmp_path: Path) -> None:
    """With the default 5 ms polling interval an idle worker looked at its queues 200 times a
    second; with the folder watch it waits until something arrives (at most WATCHED_WAIT)."""
    from kombu import Consumer, Producer, Queue

    from qhana_plugin_runner import broker_fs

    if broker_fs.FolderWatch.create(str(tmp_path)) is None:
        pytest.skip("no inotify here: the consumer polls")
    options = {"data_folder_in": str(tmp_path / "queue"), "data_folder_out": str(tmp_path / "queue"), "control_folder": str(tmp_path / "control"), "polling_interval": 0.005}
    (tmp_path / "queue").mkdir()
    received: list[float] = []
    with Connection("filesystem://localhost/", transport_options=options) as conn:
        queue = Queue("idle-wait", routing_key="idle-wait")
        looks = 0
        with Consumer(conn.channel(), [queue], callbacks=[lambda body, message: (received.append(time.monotonic()), message.ack())]):
            real_get = conn.transport.cycle.get

            def counting_get(*args: Any, **kwargs: Any) -> Any:
                nonlocal looks
                looks += 1
                return real_get(*args, **kwargs)

            conn.transport.cycle.get = counting_get  # type: ignore[method-assign]
            with pytest.raises(TimeoutError):
                conn.drain_events(timeout=0.5)
            assert looks <= 3, f"{looks} looks at the queues in 0.5 s while nothing arrived"

            def send_later() -> None:
                time.sleep(0.2)
                sent.append(time.monotonic())
                Producer(conn.channel()).publish({"n": 1}, routing_key="idle-wait", declare=[queue])

            sent: list[float] = []
            sender = threading.Thread(target=send_later)
            sender.start()
            conn.drain_events(timeout=5)
            sender.join()
    assert received and received[0] - sent[0] < 0.2, "the arrival ended the wait"


def test_a_consumer_at_its_prefetch_limit_takes_the_next_message_soon_after_an_ack(tmp_path: Path) -> None:
    """An acknowledgement writes no file: a worker whose slots were all busy must not wait for
    an arrival before it takes the next waiting message (a burst would crawl at one per wait)."""
    from kombu import Consumer, Producer, Queue

    from qhana_plugin_runner import broker_fs

    if broker_fs.FolderWatch.create(str(tmp_path)) is None:
        pytest.skip("no inotify here: the consumer polls")
    (tmp_path / "queue").mkdir()
    options = {"data_folder_in": str(tmp_path / "queue"), "data_folder_out": str(tmp_path / "queue"), "control_folder": str(tmp_path / "control"), "polling_interval": 0.005}
    received: list[tuple[float, Any]] = []
    with Connection("filesystem://localhost/", transport_options=options) as conn:
        queue = Queue("limited", routing_key="limited")
        channel = conn.channel()
        channel.basic_qos(0, 1, False)
        producer = Producer(conn.channel())
        for number in range(2):
            producer.publish({"n": number}, routing_key="limited", declare=[queue])
        with Consumer(channel, [queue], callbacks=[lambda body, message: received.append((time.monotonic(), message))]):
            conn.drain_events(timeout=5)
            assert [message.payload["n"] for _, message in received] == [0]
            acked: list[float] = []

            def ack_later() -> None:
                time.sleep(0.2)
                acked.append(time.monotonic())
                received[0][1].ack()

            acker = threading.Thread(target=ack_later)
            acker.start()
            conn.drain_events(timeout=5)
            acker.join()
            received[1][1].ack()
    assert [message.payload["n"] for _, message in received] == [0, 1]
    assert received[1][0] - acked[0] < 0.2, f"the next message came {received[1][0] - acked[0]:.2f} s after the ack"
