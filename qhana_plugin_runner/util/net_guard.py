# SPDX-License-Identifier: Apache-2.0
"""Internal: outgoing HTTP requests never reach denied networks (cloud metadata, link-local).

Plugins fetch URLs that arrive over the API, and the runner calls webhook URLs that clients
hand it; either could point the server at an address only the server can reach. A session
with :class:`GuardedAdapter` mounted for ``http://`` and ``https://`` refuses such requests
with :class:`~qhana_plugin_runner.errors.DeniedTarget` in two places:

* before anything happens, when the URL's host is a literal address in a denied network;
* right after each new TCP connection, by the address it actually reached, before a byte
  is sent. So a host name that resolves (or re-resolves: DNS rebinding) into a denied network
  is refused too, and so is every redirect, because requests sends redirects through the
  same adapter.

IPv4-mapped (``::ffff:169.254.169.254``) and 6to4 IPv6 addresses are checked as the IPv4
address they carry. Requests sent through an HTTP proxy get the first check only: the proxy
resolves host names and has to enforce its own rules.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, Final
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ..errors import ConfigError, DeniedTarget

__all__ = [
    "DEFAULT_DENIED_NETWORKS",
    "GuardedAdapter",
    "address_refusal",
    "denied_networks",
    "is_ip_literal",
    "parse_networks",
    "url_refusal",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Denied unless the config key (``REQUEST_DENIED_NETWORKS``, ``WEBHOOK_DENIED_NETWORKS``)
#: says otherwise. Loopback and private networks stay allowed: plugins read the runner's own
#: ``/files/`` URLs and call each other on internal hosts.
DEFAULT_DENIED_NETWORKS: Final = (
    "169.254.0.0/16",  # IPv4 link-local, cloud metadata services (169.254.169.254)
    "fe80::/10",  # IPv6 link-local
    "fd00:ec2::254/128",  # AWS metadata over IPv6
    "100.100.100.200/32",  # Alibaba Cloud metadata
)

_NETWORKS: ContextVar[tuple[Network, ...] | None] = ContextVar("qhana_denied_networks", default=None)


@lru_cache(maxsize=32)
def parse_networks(key: str, values: tuple[str, ...]) -> tuple[Network, ...]:
    """The networks of a config value; a bad entry raises ConfigError naming ``key``."""
    try:
        return tuple(ipaddress.ip_network(str(value), strict=False) for value in values)
    except ValueError as err:
        raise ConfigError(key, list(values), f"expected CIDR networks: {err}") from None


def denied_networks(config_key: str, config: Mapping[str, Any] | None = None) -> tuple[Network, ...]:
    """The value of ``config_key`` in ``config`` or the current app's config.

    Unset (None), or outside an app without ``config``: :data:`DEFAULT_DENIED_NETWORKS`.
    """
    if config is None and has_app_context():
        config = current_app.config
    configured = config.get(config_key) if config is not None else None
    values: Iterable[str] = DEFAULT_DENIED_NETWORKS if configured is None else configured
    if isinstance(values, str):
        values = [part.strip() for part in values.split(",") if part.strip()]
    return parse_networks(config_key, tuple(values))


def is_ip_literal(host: str) -> bool:
    """Whether ``host`` is an IPv4 or IPv6 address (optionally with ``%zone``), not a name."""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def address_refusal(address: str, networks: Iterable[Network]) -> str | None:
    """Why ``address`` (an IP literal, optionally with ``%zone``) is denied, or None."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        # the IPv4 address inside reaches the same host as the IPv4 address itself
        candidates.extend(embedded for embedded in (ip.ipv4_mapped, ip.sixtofour) if embedded)
    for candidate in candidates:
        for network in networks:
            if candidate.version == network.version and candidate in network:
                return f"{address} lies in the denied network {network}"
    return None


def url_refusal(url: str, networks: Iterable[Network]) -> str | None:
    """Why ``url`` is denied when its host is a literal address; host names give None here."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    reason = address_refusal(host, networks) if host else None
    return f"{host}: {reason}" if reason else None


class _Refused(Exception):
    """Raised inside urllib3; not an OSError, so urllib3 neither retries nor wraps it."""


def _check_peer(sock: socket.socket, host: str) -> None:
    networks = _NETWORKS.get()
    if networks is None:
        networks = parse_networks("DEFAULT_DENIED_NETWORKS", DEFAULT_DENIED_NETWORKS)
    try:
        peer = str(sock.getpeername()[0])
    except OSError:
        return  # not connected (any more): nothing was reached
    reason = address_refusal(peer, networks)
    if reason:
        sock.close()
        raise _Refused(f"{host} resolves to {reason}")


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_peer(sock, self.host)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # checked before the TLS handshake sends anything
        _check_peer(sock, self.host)
        return sock


class _RecheckKeptAlive:
    """A kept-alive connection was checked against the networks of its day; check again."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        sock = getattr(conn, "sock", None)
        if sock is not None:
            try:
                _check_peer(sock, conn.host)
            except _Refused:
                conn.close()
                raise
        return conn


class _GuardedHTTPPool(_RecheckKeptAlive, HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(_RecheckKeptAlive, HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """``HTTPAdapter`` that refuses targets in the networks of the app config ``config_key``."""

    __attrs__ = [*HTTPAdapter.__attrs__, "config_key"]

    def __init__(self, config_key: str = "REQUEST_DENIED_NETWORKS", **kwargs: Any) -> None:
        self.config_key = config_key
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        """Send ``request`` unless its target is denied (raises DeniedTarget, never retried)."""
        networks = denied_networks(self.config_key)
        reason = url_refusal(request.url or "", networks)
        if reason:
            raise DeniedTarget(f"refused to connect to {reason}", request=request)
        token = _NETWORKS.set(networks)
        try:
            return super().send(request, *args, **kwargs)
        except _Refused as err:
            raise DeniedTarget(f"refused to connect: {err}", request=request) from None
        finally:
            _NETWORKS.reset(token)
