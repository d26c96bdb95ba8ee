# SPDX-License-Identifier: Apache-2.0
"""Internal: the requests adapter of :mod:`.net_guard`, which refuses denied targets before
a request is sent and by the address each new connection reached (imported at the first
outgoing request, with requests and urllib3)."""

from __future__ import annotations

import socket
from typing import Any

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ..errors import DeniedTarget
from .net_guard import (
    _NETWORKS,
    DEFAULT_DENIED_NETWORKS,
    denied_networks,
    parse_networks,
    peer_refusal,
    url_refusal,
)

__all__ = ["GuardedAdapter"]


class _Refused(Exception):
    """Raised inside urllib3; not an OSError, so urllib3 neither retries nor wraps it."""


def _check_peer(sock: socket.socket, host: str) -> None:
    networks = _NETWORKS.get()
    if networks is None:
        networks = parse_networks("DEFAULT_DENIED_NETWORKS", DEFAULT_DENIED_NETWORKS)
    reason = peer_refusal(sock, networks)
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
