"""The SSRF guard for httpx: sync and async transports whose network backend is guarded.

>>> from netbasics import DestinationPolicy
>>> from netbasics.http_guard.httpx import guarded_client
>>> with guarded_client(DestinationPolicy()) as client:
...     client.get("http://127.0.0.1:1/")
Traceback (most recent call last):
...
netbasics.UnsafeDestination: 127.0.0.1...

httpx opens every connection through httpcore's network backend; these transports give
their connection pool a backend whose ``connect_tcp`` resolves the host once, checks every
answer with the policy and connects only to checked addresses (the sync one with Happy
Eyeballs, the async one in order; the async one resolves in a worker thread). TLS stays with
httpcore, which uses the host name for SNI and the certificate. Each request and redirect
hop (httpx's own redirect handling, ``follow_redirects=True``) passes the transport, which
refuses schemes other than http and https. A client given a transport reads no proxy from
the environment; pass ``proxy=`` to use one, and it is checked like any destination.
Supports httpx 0.27 and later with httpcore 1.x.
"""

from __future__ import annotations

import inspect
import socket
from collections.abc import Iterable
from typing import Any, Final

import anyio
import anyio.abc
import httpcore
import httpx
from httpcore._backends.anyio import AnyIOStream
from httpcore._backends.sync import SyncStream

from ..errors import ResolveError
from ..safety import DestinationPolicy, UnsafeDestination
from ._adapters import Guard, GuardedClient, OnRefusal, Resolver, require, uses

__all__ = [
    "GuardedAsyncBackend",
    "GuardedAsyncTransport",
    "GuardedBackend",
    "GuardedTransport",
    "guarded_async_client",
    "guarded_client",
]

SUPPORTED: Final = "httpx 0.27 and later with httpcore 1.x (tested with httpx 0.29, httpcore 1.0)"


def _params(cls: type) -> list[str]:
    init = getattr(cls, "__init__", None)
    return list(inspect.signature(init).parameters) if init is not None else []


# httpx's transports keep their httpcore pool in _pool; the pool hands _network_backend to
# every connection it creates; SyncStream and AnyIOStream wrap a connected socket/stream.
require(
    "httpx",
    SUPPORTED,
    [
        ("httpcore 1.x", httpcore.__version__.split(".")[0] == "1"),
        ("HTTPTransport._pool", uses(httpx.HTTPTransport, "handle_request", "_pool")),
        ("AsyncHTTPTransport._pool", uses(httpx.AsyncHTTPTransport, "handle_async_request", "_pool")),
        ("ConnectionPool._network_backend", uses(httpcore.ConnectionPool, "create_connection", "_network_backend")),
        (
            "AsyncConnectionPool._network_backend",
            uses(httpcore.AsyncConnectionPool, "create_connection", "_network_backend"),
        ),
        ("httpcore SyncStream(sock)", _params(SyncStream)[:2] == ["self", "sock"]),
        ("httpcore AnyIOStream(stream)", _params(AnyIOStream)[:2] == ["self", "stream"]),
    ],
)

_SocketOptions = Iterable[Any] | None


def _set_options(sock: socket.socket, socket_options: _SocketOptions) -> None:
    for option in socket_options or ():
        sock.setsockopt(*option)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class GuardedBackend(httpcore.NetworkBackend):
    """An httpcore network backend whose TCP connections go through the guard."""

    def __init__(self, guard: Guard) -> None:
        self._guard = guard
        self._plain = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: _SocketOptions = None,
    ) -> httpcore.NetworkStream:
        source = None if local_address is None else (local_address, 0)
        try:
            sock = self._guard.connect(host, port, timeout, source)
        except UnsafeDestination:
            raise
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        _set_options(sock, socket_options)
        return SyncStream(sock)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: _SocketOptions = None
    ) -> httpcore.NetworkStream:
        # A Unix socket is configured by the program (uds=), never taken from a URL.
        return self._plain.connect_unix_socket(path, timeout, socket_options)

    def sleep(self, seconds: float) -> None:
        self._plain.sleep(seconds)


class GuardedAsyncBackend(httpcore.AsyncNetworkBackend):
    """The async backend: resolve and check in a worker thread, then connect with anyio."""

    def __init__(self, guard: Guard) -> None:
        self._guard = guard

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: _SocketOptions = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                endpoints = await anyio.to_thread.run_sync(
                    self._guard.checked_endpoints, host, port, abandon_on_cancel=True
                )
                errors: list[str] = []
                for endpoint in endpoints:
                    try:
                        stream = await anyio.connect_tcp(str(endpoint.address), endpoint.port, local_host=local_address)
                    except OSError as exc:
                        errors.append(f"{endpoint}: {exc}")
                        continue
                    _set_options(stream.extra(anyio.abc.SocketAttribute.raw_socket), socket_options)
                    return AnyIOStream(stream)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"connect to {host}:{port} timed out") from exc
        except ResolveError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        raise httpcore.ConnectError(f"connect to {host}:{port}: " + "; ".join(errors))

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: _SocketOptions = None
    ) -> httpcore.AsyncNetworkStream:
        return await httpcore.AnyIOBackend().connect_unix_socket(path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


class GuardedTransport(GuardedClient, httpx.HTTPTransport):
    """An ``httpx.HTTPTransport`` that connects only where ``policy`` allows.

    Takes the ``HTTPTransport`` arguments (``verify``, ``http2``, ``limits``, ``proxy``, ...)
    after the guard's own. With ``proxy=``, the connection to the proxy is the one checked.
    """

    def _netbasics_install(self) -> None:
        self._pool._network_backend = GuardedBackend(self._netbasics_guard)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._netbasics_guard.check_scheme(request.url.scheme, request.url)
        return super().handle_request(request)


class GuardedAsyncTransport(GuardedClient, httpx.AsyncHTTPTransport):
    """An ``httpx.AsyncHTTPTransport`` that connects only where ``policy`` allows."""

    def _netbasics_install(self) -> None:
        self._pool._network_backend = GuardedAsyncBackend(self._netbasics_guard)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._netbasics_guard.check_scheme(request.url.scheme, request.url)
        return await super().handle_async_request(request)


_TRANSPORT_ARGS: Final = ("verify", "cert", "trust_env", "http1", "http2", "limits", "proxy", "retries")


def _split(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {key: kwargs.pop(key) for key in _TRANSPORT_ARGS if key in kwargs}


# guarded_client and guarded_async_client spell out the same arguments on purpose: each is a
# public signature (what help(), the docs and type checkers show), with its own return type.
def guarded_client(
    policy: DestinationPolicy,
    *,
    resolver: Resolver | None = None,
    on_refusal: OnRefusal | None = None,
    follow_redirects: bool = True,
    **kwargs: Any,
) -> httpx.Client:
    """An ``httpx.Client`` on a :class:`GuardedTransport`, following redirects by default.

    Transport arguments (``verify``, ``cert``, ``http2``, ``limits``, ``proxy``, ``retries``)
    go to the transport, the rest to the client.
    """
    transport = GuardedTransport(policy, resolver=resolver, on_refusal=on_refusal, **_split(kwargs))
    return httpx.Client(transport=transport, follow_redirects=follow_redirects, **kwargs)


def guarded_async_client(
    policy: DestinationPolicy,
    *,
    resolver: Resolver | None = None,
    on_refusal: OnRefusal | None = None,
    follow_redirects: bool = True,
    **kwargs: Any,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` on a :class:`GuardedAsyncTransport` (see :func:`guarded_client`)."""
    transport = GuardedAsyncTransport(policy, resolver=resolver, on_refusal=on_refusal, **_split(kwargs))
    return httpx.AsyncClient(transport=transport, follow_redirects=follow_redirects, **kwargs)
