"""The netbasics.testing pytest plugin, loaded through its entry point."""

from __future__ import annotations

import asyncio
import socket
import threading

import netbasics
import netbasics.aio as aio
from netbasics import TCPServer, UDPServer
from netbasics.testing import _aio_echo_server


def test_plugin_provides_udp_fixtures(udp_echo_server: UDPServer) -> None:
    """The netbasics.testing plugin (an entry point) gives UDP fixtures as well as TCP ones."""
    assert isinstance(udp_echo_server, UDPServer)
    reply = netbasics.udp_request(udp_echo_server.endpoint, b"ping", timeout=2.0, retries=2)
    assert reply.data == b"ping"


def test_plugin_provides_tcp_fixtures(tcp_echo_server: TCPServer) -> None:
    with netbasics.connect_tcp(tcp_echo_server.endpoint, timeout=5.0) as conn:
        conn.send_all(b"hello\n")
        assert conn.recv_until(b"\n") == b"hello\n"


def test_plugin_provides_an_asyncio_echo_server(aio_tcp_echo_server: aio.TCPServer) -> None:
    """The server runs on its own loop in a thread: a test with its own loop talks to it."""
    assert isinstance(aio_tcp_echo_server, aio.TCPServer)
    assert aio_tcp_echo_server.serving

    async def main() -> bytes:
        async with await aio.connect_tcp(aio_tcp_echo_server.endpoint, timeout=5.0) as conn:
            await conn.send_all(b"hello\n")
            return await conn.recv_until(b"\n")

    assert asyncio.run(main()) == b"hello\n"
    with netbasics.connect_tcp(aio_tcp_echo_server.endpoint, timeout=5.0) as conn:  # and a blocking client
        conn.send_all(b"ping")
        assert conn.recv_exactly(4) == b"ping"


def test_the_asyncio_echo_server_fixture_cleans_up() -> None:
    """After the test the server is stopped, its port closed, its thread gone and its loop closed."""
    with _aio_echo_server("127.0.0.1") as server:
        endpoint = server.endpoint
        assert any(t.name == "aio_tcp_echo_server" for t in threading.enumerate())
    assert not server.serving
    assert not any(t.name == "aio_tcp_echo_server" for t in threading.enumerate())
    with socket.socket() as probe:
        assert probe.connect_ex((str(endpoint.address), endpoint.port)) != 0
