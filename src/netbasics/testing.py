"""A pytest plugin: loopback servers and free ports for your tests, in one line.

Installed with netbasics and loaded automatically (the ``pytest11`` entry point
``netbasics.testing``; disable it with ``-p no:netbasics.testing``). Fixtures:

* ``loopback_host``: ``"127.0.0.1"`` and ``"::1"`` in turn (a test using it runs once per
  family); the IPv6 run is skipped, with the reason, where ``::1`` cannot be bound.
* ``free_port``: a TCP port number that was free on the loopback address(es) a moment
  ago. Only a hint (another process may take it before you bind): prefer binding port 0
  and reading the port back, as :class:`~netbasics.TCPServer` does.
* ``tcp_echo_server``: a running :class:`~netbasics.TCPServer` on ``loopback_host``, port 0,
  that echoes every byte back; stopped after the test. Its address is ``.endpoint``.
* ``aio_tcp_echo_server``: the same echo served by :class:`netbasics.aio.TCPServer`, on an
  event loop of its own in a background thread (no pytest-asyncio needed): connect to
  ``.endpoint`` from a test that runs its own loop (``asyncio.run``), from any other
  loop, or with the blocking client. Stopped, and its loop closed, after the test.

Example test::

    import netbasics

    def test_echo(tcp_echo_server):
        with netbasics.connect_tcp(tcp_echo_server.endpoint, timeout=5) as conn:
            conn.send_all(b"ping")
            assert conn.recv_exactly(4) == b"ping"

This module imports pytest, so import it only from test code.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

from .stream import StreamConnection
from .tcp import TCPServer

if TYPE_CHECKING:
    from . import aio

__all__ = [
    "aio_echo_handler",
    "aio_tcp_echo_server",
    "echo_handler",
    "free_port",
    "ipv6_loopback_available",
    "loopback_host",
    "tcp_echo_server",
    "udp_echo_handler",
    "udp_echo_server",
    "udp_echo_server_v6",
]

_IPV6_SKIP = "IPv6 loopback ::1 cannot be bound on this machine"


def ipv6_loopback_available() -> bool:
    """True if a socket can be bound to ``::1`` here (containers often lack IPv6)."""
    from ._udp_fixtures import ipv6_loopback_problem  # the one probe; imported below for the fixtures too

    return ipv6_loopback_problem() is None


def echo_handler(conn: StreamConnection) -> None:
    """A :class:`TCPServer` handler that sends every byte back until the client closes."""
    while True:
        data = conn.recv()
        if not data:
            return
        conn.send_all(data)


@pytest.fixture(params=["127.0.0.1", "::1"], ids=["ipv4", "ipv6"])
def loopback_host(request: pytest.FixtureRequest) -> str:
    """A loopback address: each test using this runs on IPv4 and on IPv6 (skipped without ::1)."""
    host: str = request.param
    if host == "::1" and not ipv6_loopback_available():
        pytest.skip(_IPV6_SKIP)
    return host


@pytest.fixture
def free_port() -> int:
    """A TCP port free on 127.0.0.1 (and on ::1 where IPv6 works) when the test starts; a hint, not a lease."""
    both = ipv6_loopback_available()
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as v4:
            v4.bind(("127.0.0.1", 0))
            port: int = v4.getsockname()[1]
            if not both:
                return port
            try:
                with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as v6:
                    v6.bind(("::1", port))
            except OSError:
                continue  # taken on ::1; try another
            return port
    raise RuntimeError("no TCP port free on both loopback addresses after 50 tries")  # pragma: no cover


@pytest.fixture
def tcp_echo_server(loopback_host: str) -> Iterator[TCPServer]:
    """A running echo :class:`TCPServer` on the loopback address, port 0; stopped after the test."""
    with TCPServer((loopback_host, 0), echo_handler, idle_timeout=30.0, name="tcp_echo_server") as server:
        yield server


async def aio_echo_handler(conn: aio.StreamConnection) -> None:
    """A :class:`netbasics.aio.TCPServer` handler that sends every byte back until the client closes."""
    while True:
        data = await conn.recv()
        if not data:
            return
        await conn.send_all(data)


@pytest.fixture
def aio_tcp_echo_server(loopback_host: str) -> Iterator[aio.TCPServer]:
    """A running echo :class:`netbasics.aio.TCPServer` on the loopback address, port 0, on its own loop.

    The server runs on a new event loop in a daemon thread, so the test needs no async
    plugin: it connects to ``.endpoint`` from its own loop (``asyncio.run(...)``) or
    with the blocking client. After the test the server is stopped (1 s of grace), the
    thread ends and the loop is closed. Do not call the server's coroutines from another
    loop; ``.endpoint`` and ``.name`` are safe to read.
    """
    with _aio_echo_server(loopback_host) as server:
        yield server


@contextmanager
def _aio_echo_server(host: str) -> Iterator[aio.TCPServer]:
    """The fixture's work: an aio echo server on its own loop and thread, all gone on leaving."""
    from .aio import TCPServer as AsyncTCPServer  # only for the tests that use it

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="aio_tcp_echo_server", daemon=True)
    thread.start()

    async def start() -> AsyncTCPServer:
        server = AsyncTCPServer((host, 0), aio_echo_handler, idle_timeout=30.0, name="aio_tcp_echo_server")
        return await server.start()

    try:
        server = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
        try:
            yield server
        finally:
            asyncio.run_coroutine_threadsafe(server.stop(1.0), loop).result(10)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


# --- UDP fixtures -------------------------------------------------------------------
# Defined beside the UDP code and re-exported here, so one plugin provides both transports.
from ._udp_fixtures import udp_echo_handler as udp_echo_handler  # noqa: E402
from ._udp_fixtures import udp_echo_server as udp_echo_server  # noqa: E402
from ._udp_fixtures import udp_echo_server_v6 as udp_echo_server_v6  # noqa: E402
