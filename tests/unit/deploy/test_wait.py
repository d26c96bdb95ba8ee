"""WAIT_HOSTS: parsing, waiting for a port that opens late, and giving up on one that never does."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from qhana_plugin_runner.deploy.wait import WaitSettings, WaitTimeout, parse_hosts, wait_for_hosts


def test_parse_hosts() -> None:
    assert parse_hosts(" db:5432, redis:6379 ,") == (("db", 5432), ("redis", 6379))
    assert parse_hosts("[::1]:80") == (("::1", 80),)
    assert parse_hosts("") == ()


@pytest.mark.parametrize("bad", ["db", "db:", ":80", "db:http", "db:0", "db:70000"])
def test_bad_entries_are_named(bad: str) -> None:
    with pytest.raises(ValueError, match="WAIT_HOSTS entry"):
        parse_hosts(bad)


def test_settings_from_env() -> None:
    settings = WaitSettings.from_env({"WAIT_HOSTS": "a:1", "WAIT_TIMEOUT": "2.5", "WAIT_SLEEP_INTERVAL": "0.1"})
    assert settings.hosts == (("a", 1),) and settings.timeout == 2.5 and settings.interval == 0.1
    with pytest.raises(ValueError, match="WAIT_TIMEOUT"):
        WaitSettings.from_env({"WAIT_TIMEOUT": "soon"})
    with pytest.raises(ValueError, match="WAIT_AFTER"):
        WaitSettings.from_env({"WAIT_AFTER": "-1"})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_waits_until_the_port_opens() -> None:
    port = _free_port()
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    def open_later() -> None:
        time.sleep(0.5)
        server.bind(("127.0.0.1", port))
        server.listen()

    opener = threading.Thread(target=open_later)
    opener.start()
    messages: list[str] = []
    try:
        started = time.monotonic()
        wait_for_hosts(WaitSettings(hosts=(("127.0.0.1", port),), timeout=10, interval=0.05), log=messages.append)
        assert time.monotonic() - started >= 0.4
        assert messages[-1] == f"127.0.0.1:{port} is up"
        assert any(message.startswith("waiting for") for message in messages)
    finally:
        opener.join()
        server.close()


def test_gives_up_after_the_timeout() -> None:
    port = _free_port()
    with pytest.raises(WaitTimeout, match=f"127.0.0.1:{port} did not accept connections within 0.3 s"):
        wait_for_hosts(WaitSettings(hosts=(("127.0.0.1", port),), timeout=0.3, interval=0.05), log=lambda _m: None)
