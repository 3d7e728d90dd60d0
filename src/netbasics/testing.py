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

Example test::

    import netbasics

    def test_echo(tcp_echo_server):
        with netbasics.connect_tcp(tcp_echo_server.endpoint, timeout=5) as conn:
            conn.send_all(b"ping")
            assert conn.recv_exactly(4) == b"ping"

This module imports pytest, so import it only from test code.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from .stream import StreamConnection
from .tcp import TCPServer

__all__ = [
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


# --- UDP fixtures -------------------------------------------------------------------
# Defined beside the UDP code and re-exported here, so one plugin provides both transports.
from ._udp_fixtures import udp_echo_handler as udp_echo_handler  # noqa: E402
from ._udp_fixtures import udp_echo_server as udp_echo_server  # noqa: E402
from ._udp_fixtures import udp_echo_server_v6 as udp_echo_server_v6  # noqa: E402
