"""The SSRF guard for urllib3 2.x: a pool manager whose connections go through the guard.

>>> from netbasics import DestinationPolicy
>>> from netbasics.http_guard.urllib3 import GuardedPoolManager
>>> http = GuardedPoolManager(DestinationPolicy())
>>> http.request("GET", "http://127.0.0.1:1/")
Traceback (most recent call last):
...
netbasics.UnsafeDestination: 127.0.0.1...

Every new connection, for the first request and for each redirect hop that urllib3's own
redirect handling follows, resolves its host once (through ``resolver``), checks every
answer with the policy and connects only to the checked addresses; TLS still uses the host
name for SNI and certificate checks. Refusals raise :class:`~netbasics.UnsafeDestination`
(a ``ValueError``, so urllib3 does not retry them) after ``on_refusal`` has seen them.
Supports urllib3 2.x; importing this module imports urllib3.
"""

from __future__ import annotations

import socket
import sys
from typing import Any, Final

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from ..errors import ResolveError
from ..safety import DestinationPolicy
from ._adapters import Guard, GuardedClient, OnRefusal, Resolver, require, uses

__all__ = ["GuardedPoolManager", "guarded_pool_classes"]

SUPPORTED: Final = "urllib3 2.x (tested with 2.8)"

# urllib3 2.x's HTTPConnection keeps the host to resolve (trailing dot kept) in _dns_host
# and opens its socket in _new_conn(), which HTTPSConnection.connect() wraps in TLS with
# the host name; the pool builds its connections from the ConnectionCls class attribute.
require(
    "urllib3",
    SUPPORTED,
    [
        ("urllib3 2.x", str(getattr(urllib3, "__version__", "")).split(".")[0] == "2"),
        ("HTTPConnection._new_conn", callable(getattr(HTTPConnection, "_new_conn", None))),
        ("HTTPConnection._dns_host", uses(HTTPConnection, "_new_conn", "_dns_host")),
        ("HTTPSConnection.connect calling _new_conn", uses(HTTPSConnection, "connect", "_new_conn")),
        ("HTTPConnectionPool.ConnectionCls", hasattr(HTTPConnectionPool, "ConnectionCls")),
        ("PoolManager.pool_classes_by_scheme", uses(urllib3.PoolManager, "__init__", "pool_classes_by_scheme")),
    ],
)


def _timeout(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return socket.getdefaulttimeout()  # urllib3's _DEFAULT_TIMEOUT: the socket default


def _guarded_new_conn(conn: HTTPConnection, guard: Guard) -> socket.socket:
    """``_new_conn`` through the guard, with urllib3's own error translation."""
    host: str = conn._dns_host
    try:
        sock = guard.connect(host, conn.port, _timeout(conn.timeout), conn.source_address)
    except ResolveError as exc:
        raise NameResolutionError(conn.host, conn, socket.gaierror(str(exc))) from exc
    except TimeoutError as exc:
        raise ConnectTimeoutError(
            conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})"
        ) from exc
    except OSError as exc:
        raise NewConnectionError(conn, f"Failed to establish a new connection: {exc}") from exc
    # urllib3 sets its socket options (TCP_NODELAY by default) before connecting; here the
    # connection comes from the guard, so they are set right after.
    for option in conn.socket_options or ():
        sock.setsockopt(*option)
    sys.audit("http.client.connect", conn, conn.host, conn.port)
    return sock


def guarded_pool_classes(
    policy: DestinationPolicy, *, resolver: Resolver | None = None, on_refusal: OnRefusal | None = None
) -> dict[str, type[HTTPConnectionPool]]:
    """Pool classes for ``PoolManager.pool_classes_by_scheme`` whose connections are guarded.

    Assign them to any pool manager, a ``ProxyManager`` included (then the connection to the
    proxy is the one checked: the proxy, not the guard, resolves the target)::

        manager.pool_classes_by_scheme = guarded_pool_classes(policy)
    """
    guard = Guard(policy, resolver, on_refusal)

    class _HTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return _guarded_new_conn(self, guard)

    class _HTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return _guarded_new_conn(self, guard)

    class _HTTPConnectionPool(HTTPConnectionPool):
        ConnectionCls = _HTTPConnection

    class _HTTPSConnectionPool(HTTPSConnectionPool):
        ConnectionCls = _HTTPSConnection

    return {"http": _HTTPConnectionPool, "https": _HTTPSConnectionPool}


class GuardedPoolManager(GuardedClient, urllib3.PoolManager):
    """A urllib3 ``PoolManager`` that connects only to destinations ``policy`` accepts.

    Takes the ``PoolManager`` arguments after the guard's own (``policy``, and optionally a
    ``resolver`` with ``socket.getaddrinfo``'s signature and an ``on_refusal`` callback).
    Requests and redirects to a scheme other than http and https raise
    :class:`~netbasics.UnsafeDestination`. urllib3 drops ``Authorization``, ``Cookie`` and
    ``Proxy-Authorization`` on a redirect to another host (``Retry.remove_headers_on_redirect``).
    """

    def _netbasics_install(self) -> None:
        # After PoolManager.__init__, which sets the default pool classes.
        guard = self._netbasics_guard
        self.pool_classes_by_scheme = guarded_pool_classes(
            guard.policy, resolver=guard.resolver, on_refusal=guard.on_refusal
        )

    def connection_from_host(
        self,
        host: str | None,
        port: int | None = None,
        scheme: str | None = "http",
        pool_kwargs: dict[str, Any] | None = None,
    ) -> HTTPConnectionPool:
        # Every request and every redirect hop comes here with its scheme.
        self._netbasics_guard.check_scheme(scheme or "http", f"{scheme}://{host}")
        return super().connection_from_host(host, port, scheme, pool_kwargs)
