"""The Redis broker: a message a worker holds keeps a fresh delivery time (so it is not handed
to a second worker while its task runs), and one whose worker died comes back after the
visibility timeout."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import redis
from kombu import Connection
from kombu.transport.redis import Mutex

import qhana_plugin_runner.celery  # noqa: F401  (registers the runner's transport for redis://)
from qhana_plugin_runner.broker_redis import redis_transport_options, renew_deliveries
from qhana_plugin_runner.broker_redis_transport import Channel

pytestmark = pytest.mark.redis


def _connection(url: str, timeout: float) -> Connection:
    return Connection(url, transport_options=redis_transport_options({}, timeout))


def _scores(url: str) -> dict[str, float]:
    with redis.Redis.from_url(url) as client:
        return {tag.decode(): score for tag, score in client.zrange("unacked_index", 0, -1, withscores=True)}


def test_held_messages_get_a_fresh_delivery_time(redis_url: str) -> None:
    with _connection(redis_url, 60) as conn:
        queue = conn.SimpleQueue("heartbeat")
        queue.put({"n": 1})
        message = queue.get(timeout=5)
        [(tag, delivered)] = _scores(redis_url).items()
        assert tag == message.delivery_tag
        time.sleep(0.05)
        assert renew_deliveries(queue.consumer.channel) == 1
        assert _scores(redis_url)[tag] > delivered
        message.ack()
        assert renew_deliveries(queue.consumer.channel) == 0
        assert _scores(redis_url) == {}, "an acknowledged message is not brought back"
        queue.close()


def test_renewing_skips_messages_put_back_meanwhile(redis_url: str) -> None:
    with _connection(redis_url, 60) as conn:
        queue = conn.SimpleQueue("heartbeat")
        queue.put({"n": 2})
        message = queue.get(timeout=5)
        with redis.Redis.from_url(redis_url) as client:
            client.zrem("unacked_index", message.delivery_tag)  # as a restore does
        renew_deliveries(queue.consumer.channel)
        assert _scores(redis_url) == {}
        message.ack()
        queue.close()


def test_a_message_of_a_dead_consumer_comes_back_after_the_timeout(redis_url: str) -> None:
    dead = _connection(redis_url, 1)
    queue = dead.SimpleQueue("orphaned")
    queue.put({"n": 3})
    assert queue.get(timeout=5).payload == {"n": 3}
    # the consumer "dies": no ack, no close, no heartbeat
    with _connection(redis_url, 1) as conn:
        other = conn.SimpleQueue("orphaned")
        with pytest.raises(other.Empty):
            other.get(timeout=0.2)
        time.sleep(1.2)
        conn.default_channel.qos.restore_visible(num=10, interval=1)
        again = other.get(timeout=5)
        assert again.payload == {"n": 3} and again.delivery_info.get("redelivered") is True
        again.ack()
        other.close()
    dead.release()


def test_a_restore_lock_left_by_a_dead_worker_expires_soon(redis_url: str) -> None:
    with _connection(redis_url, 8) as conn:
        channel = conn.default_channel
        assert (channel.visibility_timeout, channel.unacked_restore_interval, channel.unacked_mutex_expire) == (8, 2, 2)
        # a worker killed inside restore_visible leaves the lock behind: take it as kombu does
        # and never give it back
        with redis.Redis.from_url(redis_url) as client:
            held = Mutex(client, channel.unacked_mutex_key, channel.unacked_mutex_expire)
            held.__enter__()
            assert 0 < client.pttl(channel.unacked_mutex_key) <= 2000


def test_a_channel_closes_after_the_broker_went_away(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the broker connection breaks while the worker holds a message, Celery's consumer
    closes the channel, drops the transport's client and closes the channel again. kombu's
    channel stayed open when the first close met the broken connection, and the second close
    raised AttributeError ('NoneType' object has no attribute 'hostname'): the worker stopped
    with "Unrecoverable error" and never came back."""
    from fault_tools import RedisServer

    server = RedisServer(tmp_path).start()
    try:
        conn = Connection(server.url, transport_options=redis_transport_options({}, 60))
        channel = conn.default_channel
        assert isinstance(channel, Channel)
        queue = conn.SimpleQueue("lost-broker")
        queue.put({"n": 4})
        queue.get(timeout=5)  # held, not acknowledged
        server.stop()
        broken = [redis.exceptions.ConnectionError("Connection closed by server.")]
        real_disconnect = type(channel)._disconnect_pools

        def disconnect_once_broken(self: Any) -> None:
            if broken:
                raise broken.pop()
            real_disconnect(self)

        monkeypatch.setattr(type(channel), "_disconnect_pools", disconnect_once_broken)
        with pytest.raises(redis.exceptions.ConnectionError):
            channel.close()  # the held message cannot be put back: the broker is away
        assert channel.closed
        conn.transport.client = None  # what Connection.collect() does next
        channel.close()
        conn.release()
    finally:
        server.stop()


def test_one_client_serves_every_operation_until_the_pool_is_replaced(redis_url: str) -> None:
    with _connection(redis_url, 60) as conn:
        channel = conn.default_channel
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
            assert first.connection_pool is channel.pool
        given = redis.Redis.from_url(redis_url)
        with channel.conn_or_acquire(given) as client:
            assert client is given
        given.close()
        queue = conn.SimpleQueue("shared-client")
        queue.put({"n": 5})
        message = queue.get(timeout=5)
        assert message.payload == {"n": 5}
        message.ack()
        assert _scores(redis_url) == {}, "the acknowledgement went through the shared client"
        channel._disconnect_pools()  # what a connection error leads to
        with channel.conn_or_acquire() as third:
            assert third is not first
            assert third.connection_pool is channel.pool
            assert third.ping()
        queue.close()
