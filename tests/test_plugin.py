"""The netbasics.testing pytest plugin, loaded through its entry point."""

from __future__ import annotations

import netbasics
from netbasics import TCPServer, UDPServer


def test_plugin_provides_udp_fixtures(udp_echo_server: UDPServer) -> None:
    """The netbasics.testing plugin (an entry point) gives UDP fixtures as well as TCP ones."""
    assert isinstance(udp_echo_server, UDPServer)
    reply = netbasics.udp_request(udp_echo_server.endpoint, b"ping", timeout=2.0, retries=2)
    assert reply.data == b"ping"


def test_plugin_provides_tcp_fixtures(tcp_echo_server: TCPServer) -> None:
    with netbasics.connect_tcp(tcp_echo_server.endpoint, timeout=5.0) as conn:
        conn.send_all(b"hello\n")
        assert conn.recv_until(b"\n") == b"hello\n"
