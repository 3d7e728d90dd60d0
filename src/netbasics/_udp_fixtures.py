"""pytest fixtures for a UDP echo server on loopback; re-exported by ``netbasics.testing``.

This module imports pytest, so it is only imported by test code, never by the library.

* ``udp_echo_server``: a running :class:`~netbasics.UDPServer` on ``127.0.0.1`` (port 0)
  that sends every datagram back to its sender unchanged.
* ``udp_echo_server_v6``: the same on ``::1``; the test is skipped, with the reason, if
  IPv6 loopback cannot be bound here.

Both are stopped (threads joined, socket closed) when the test ends.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from .udp import Datagram, Reply, UDPServer

__all__ = ["ipv6_loopback_problem", "udp_echo_handler", "udp_echo_server", "udp_echo_server_v6"]


def udp_echo_handler(datagram: Datagram, reply: Reply) -> None:
    """A :class:`~netbasics.UDPServer` handler that returns each datagram to its sender."""
    reply(datagram.data)


def ipv6_loopback_problem() -> str | None:
    """Why ``::1`` cannot be bound here, or ``None`` if it can (the one probe; ``ipv6_loopback_available`` asks it)."""
    if not socket.has_ipv6:
        return "Python was built without IPv6 support"
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError as exc:
        return f"cannot bind UDP on ::1: {exc}"
    return None


@pytest.fixture
def udp_echo_server() -> Iterator[UDPServer]:
    """A running UDP echo server on ``127.0.0.1``; its address is ``server.endpoint``."""
    with UDPServer("127.0.0.1:0", udp_echo_handler) as server:
        yield server


@pytest.fixture
def udp_echo_server_v6() -> Iterator[UDPServer]:
    """A running UDP echo server on ``::1``; skipped with the reason when IPv6 loopback is unavailable."""
    problem = ipv6_loopback_problem()
    if problem is not None:
        pytest.skip(problem)
    with UDPServer("[::1]:0", udp_echo_handler) as server:
        yield server
