"""The Redis event bus: each task change is published on the task's channel, and a finished task
(a status and a details signal) is one message, not one per signal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask

from qhana_plugin_runner.db.models.tasks import ProcessingTask
from qhana_plugin_runner.tasks.bookkeeping import finish_task
from qhana_plugin_runner.tasks.event_bus import channel_name, one_publish_per_task
from qhana_plugin_runner.tasks.signals import TASK_DETAILS_CHANGED, TASK_STATUS_CHANGED


@pytest.fixture
def runner_config(runner_config: dict[str, Any], redis_url: str) -> dict[str, Any]:
    return {**runner_config, "EVENT_BUS_URL": redis_url}


@pytest.fixture
def task_id(app: Flask) -> int:
    task = ProcessingTask("bus")
    task.save(commit=True)
    return int(task.id)


@pytest.fixture
def messages(app: Flask, redis_url: str, task_id: int) -> Iterator[Any]:
    """A function returning the messages published on the task's channel so far."""
    pubsub = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel_name(task_id))
    assert pubsub.get_message(timeout=2) is None  # the subscription confirmation, ignored

    def received(wait: float = 0.3) -> list[bytes]:
        found, end = [], time.monotonic() + wait
        while time.monotonic() < end:
            message = pubsub.get_message(timeout=0.05)
            if message is not None:
                found.append(message["data"])
        return found

    yield received
    pubsub.close()
    app.extensions["qhana_event_bus"].close()


def test_each_signal_outside_a_batch_is_published(app: Flask, task_id: int, messages: Any) -> None:
    TASK_STATUS_CHANGED.send(app, task_id=task_id)
    TASK_DETAILS_CHANGED.send(app, task_id=task_id)
    assert messages() == [b"changed", b"changed"]


def test_a_batch_publishes_once_per_task_when_it_ends(app: Flask, task_id: int, messages: Any) -> None:
    with one_publish_per_task():
        with one_publish_per_task():  # nested: the outer block publishes
            TASK_STATUS_CHANGED.send(app, task_id=task_id)
        TASK_DETAILS_CHANGED.send(app, task_id=task_id)
        assert messages(0.2) == [], "nothing is published before the block ends"
    assert messages() == [b"changed"]


def test_finishing_a_task_is_one_message(app: Flask, task_id: int, messages: Any) -> None:
    assert finish_task(task_id, "SUCCESS", "done")
    assert messages() == [b"changed"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:6379/0", "redis://"),
        ("redis://127.0.0.1:port/0", "port"),
        ("redis://127.0.0.1:6379/zero", "database"),
    ],
)
def test_an_event_bus_url_redis_would_refuse_stops_the_start(runner_config: dict[str, Any], url: str, reason: str) -> None:
    from qhana_plugin_runner.errors import ConfigError
    from qhana_plugin_runner.testing import build_app

    with pytest.raises(ConfigError) as info:
        build_app({**runner_config, "EVENT_BUS_URL": url})
    assert "EVENT_BUS_URL" in str(info.value) and reason in str(info.value)


def test_an_api_with_a_redis_broker_starts_without_redis_py(tmp_path: Any, redis_url: str, postgres_url: str) -> None:
    """redis-py and kombu's Redis transport are imported when the broker or the bus is first
    used (a task sent, a change published, a stream opened), not while the app is built."""
    import os
    import subprocess
    import sys

    code = (
        "import sys, qhana_plugin_runner\n"
        "app = qhana_plugin_runner.create_app()\n"
        "print(sorted(m for m in ('redis', 'kombu.transport.redis', 'qhana_plugin_runner.broker_redis_transport') if m in sys.modules))\n"
        "from qhana_plugin_runner.tasks.signals import TASK_STATUS_CHANGED\n"
        "TASK_STATUS_CHANGED.send(app, task_id=1)\n"
        "print('redis' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QHANA_PLUGIN_RUNNER_", "SQLALCHEMY_", "BROKER_URL", "EVENT_BUS_URL", "PLUGIN_FOLDERS"))}
    env.update(QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER=str(tmp_path), SQLALCHEMY_DATABASE_URI=postgres_url, BROKER_URL=redis_url, PLUGIN_FOLDERS="", DEFAULT_LOG_LEVEL="WARNING")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    built, published = done.stdout.split("\n")[:2]
    assert built == "[]", done.stdout
    assert published == "True", "publishing a change made the client (and imported redis-py)"
