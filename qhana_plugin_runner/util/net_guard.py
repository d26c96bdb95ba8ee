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

The adapter and its connection classes live in :mod:`.guarded_http`, which imports requests
and urllib3; this module (the networks and the checks, used while validating webhook URLs and
configuration) does not, and hands out ``GuardedAdapter`` from there when first asked for it.
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

from ..errors import ConfigError

__all__ = [
    "DEFAULT_DENIED_NETWORKS",
    "address_refusal",
    "denied_networks",
    "is_ip_literal",
    "parse_networks",
    "peer_refusal",
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


def peer_refusal(sock: socket.socket, networks: Iterable[Network]) -> str | None:
    """Why the address a connected socket reached is denied, or None (also for a socket that
    is not connected any more: nothing was reached)."""
    try:
        peer = str(sock.getpeername()[0])
    except OSError:
        return None
    return address_refusal(peer, networks)


def url_refusal(url: str, networks: Iterable[Network]) -> str | None:
    """Why ``url`` is denied when its host is a literal address; host names give None here."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    reason = address_refusal(host, networks) if host else None
    return f"{host}: {reason}" if reason else None


def __getattr__(name: str) -> Any:
    if name == "GuardedAdapter":
        from .guarded_http import GuardedAdapter

        return GuardedAdapter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

