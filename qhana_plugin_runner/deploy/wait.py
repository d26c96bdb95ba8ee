# SPDX-License-Identifier: Apache-2.0
"""Wait until TCP services accept connections (``WAIT_HOSTS=postgres:5432,redis:6379``).

The same variables as the docker-compose-wait tool the original image used: ``WAIT_HOSTS``,
``WAIT_TIMEOUT`` (seconds, default 30), ``WAIT_SLEEP_INTERVAL`` (default 1), ``WAIT_BEFORE`` and
``WAIT_AFTER`` (extra seconds to sleep before and after), and ``WAIT_HOST_CONNECT_TIMEOUT``.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["WaitSettings", "parse_hosts", "wait_for_hosts", "WaitTimeout"]


class WaitTimeout(RuntimeError):
    """A service did not accept connections in time."""


@dataclass(frozen=True)
class WaitSettings:
    hosts: tuple[tuple[str, int], ...]
    timeout: float = 30.0
    interval: float = 1.0
    before: float = 0.0
    after: float = 0.0
    connect_timeout: float = 5.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> WaitSettings:
        def number(name: str, default: float) -> float:
            raw = environ.get(name, "").strip()
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"{name}={raw!r}: expected a number of seconds") from None
            if value < 0:
                raise ValueError(f"{name}={raw!r}: expected a non-negative number")
            return value

        return cls(
            hosts=parse_hosts(environ.get("WAIT_HOSTS", "")),
            timeout=number("WAIT_TIMEOUT", 30.0),
            interval=number("WAIT_SLEEP_INTERVAL", 1.0),
            before=number("WAIT_BEFORE", 0.0),
            after=number("WAIT_AFTER", 0.0),
            connect_timeout=number("WAIT_HOST_CONNECT_TIMEOUT", 5.0),
        )


def parse_hosts(value: str) -> tuple[tuple[str, int], ...]:
    """``"db:5432, [::1]:6379"`` → ``(("db", 5432), ("::1", 6379))``; a bad entry is a ValueError."""
    hosts: list[tuple[str, int]] = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        host, sep, port_text = entry.rpartition(":")
        if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"WAIT_HOSTS entry {entry!r}: expected host:port")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        hosts.append((host, int(port_text)))
    return tuple(hosts)


def _accepts(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_hosts(settings: WaitSettings, log: Callable[[str], None] = print, *, sleep: Callable[[float], None] = time.sleep) -> None:
    """Return once every host accepts a TCP connection; raise WaitTimeout after ``timeout``."""
    if not settings.hosts:
        return
    sleep(settings.before)
    deadline = time.monotonic() + settings.timeout
    for host, port in settings.hosts:
        while not _accepts(host, port, settings.connect_timeout):
            if time.monotonic() >= deadline:
                raise WaitTimeout(f"{host}:{port} did not accept connections within {settings.timeout:g} s")
            log(f"waiting for {host}:{port} ...")
            sleep(settings.interval)
        log(f"{host}:{port} is up")
    sleep(settings.after)
