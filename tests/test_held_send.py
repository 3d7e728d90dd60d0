"""Tests for netbasics._io.held_send: small sends that keep the GIL in a crowded threaded server.

The held send must behave exactly like the socket module's send as far as a user can
see: every byte arrives in order, a full buffer falls back to the timed loop (and its
deadline), a reset or closed connection raises the library's errors. These tests drive a
connection whose crowd flag is up over real socket pairs and loopback TCP, and check that
the threaded server raises and lowers the flag with its connection count.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netbasics import ConnectionClosed, NetTimeoutError, StreamConnection, TCPServer, connect_tcp
from netbasics._io import held_send
from netbasics._io.peers import INET_PEERS
from netbasics._io.threaded import ThreadedEngine
from netbasics.stream import accepted_connection

pytestmark = pytest.mark.skipif(held_send.load() is None, reason="no held send on this platform")


def crowded(sock: socket.socket, timeout: float | None = 5) -> StreamConnection:
    """A connection as a busy threaded server makes it: its small sends keep the GIL."""
    send = held_send.load()
    assert send is not None
    crowd = held_send.Crowd(send)
    crowd.busy = True
    return accepted_connection(sock, "peer", timeout, crowd)


def send_repeatedly(conn: StreamConnection, data: bytes, times: int) -> None:
    for _ in range(times):
        conn.send_all(data)


@pytest.fixture
def pair() -> Iterator[tuple[StreamConnection, socket.socket]]:
    a, b = socket.socketpair()
    conn = crowded(a)
    with conn, b:
        b.settimeout(5)
        yield conn, b


def test_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(held_send.ENV_SWITCH, raising=False)
    assert held_send.load() is not None
    for off in ("1", "yes"):
        monkeypatch.setenv(held_send.ENV_SWITCH, off)
        assert held_send.load() is None
        assert held_send.server_crowd() is None
    monkeypatch.setenv(held_send.ENV_SWITCH, "0")
    assert held_send.load() is not None


def test_tcp_servers_hold_sends_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(held_send.ENV_SWITCH, raising=False)
    monkeypatch.delenv(held_send.TCP_SWITCH, raising=False)
    monkeypatch.setattr(held_send, "several_cpus", lambda: True)
    assert held_send.server_crowd() is not None  # Unix stream servers: on by default
    assert held_send.server_crowd(tcp=True) is None  # TCP: off by default
    with TCPServer("127.0.0.1:0", lambda conn: None) as server:
        assert server._engine._crowd is None  # type: ignore[attr-defined]  # the engine's flag, as the test above
    monkeypatch.setenv(held_send.TCP_SWITCH, "1")
    assert held_send.server_crowd(tcp=True) is not None
    monkeypatch.setenv(held_send.ENV_SWITCH, "1")  # releasing wins over holding
    assert held_send.server_crowd(tcp=True) is None


def test_server_crowd_needs_several_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(held_send.ENV_SWITCH, raising=False)
    monkeypatch.setattr(held_send, "several_cpus", lambda: False)
    assert held_send.server_crowd() is None  # on one CPU the GIL is not handed across cores
    monkeypatch.setattr(held_send, "several_cpus", lambda: True)
    crowd = held_send.server_crowd()
    assert crowd is not None
    assert not crowd.busy


def test_several_cpus_follows_affinity() -> None:
    if hasattr(os, "sched_getaffinity"):
        assert held_send.several_cpus() == (len(os.sched_getaffinity(0)) > 1)


@settings(max_examples=60, deadline=None)
@given(chunks=st.lists(st.binary(max_size=40_000), max_size=12), kind=st.sampled_from([bytes, bytearray, memoryview]))
def test_every_byte_arrives_in_order(chunks: list[bytes], kind: type) -> None:
    a, b = socket.socketpair()
    received = bytearray()
    with crowded(a) as conn, b:

        def read() -> None:
            while True:
                data = b.recv(65536)
                if not data:
                    return
                received.extend(data)

        reader = threading.Thread(target=read)
        reader.start()
        for chunk in chunks:
            conn.send_all(kind(chunk))
        conn.shutdown_write()
        reader.join(10)
    assert bytes(received) == b"".join(chunks)


def test_full_buffer_falls_back_to_the_deadline(pair: tuple[StreamConnection, socket.socket]) -> None:
    conn, _ = pair  # nobody reads: the buffer fills, the held send meets EAGAIN
    conn.timeout = 0.05
    with pytest.raises(NetTimeoutError):
        send_repeatedly(conn, b"x" * 4096, 100_000)


def test_peer_gone_is_connection_closed(pair: tuple[StreamConnection, socket.socket]) -> None:
    conn, peer = pair
    peer.close()
    with pytest.raises(ConnectionClosed):
        send_repeatedly(conn, b"x", 3)  # EPIPE from the held send, as from socket.send


def test_reset_over_tcp_is_connection_closed() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client = socket.create_connection(listener.getsockname(), timeout=5)
        accepted, _ = listener.accept()
        with crowded(accepted) as conn:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()  # RST
            with pytest.raises(ConnectionClosed):
                send_repeatedly(conn, b"after the reset", 3)


def test_closed_connection_is_connection_closed(pair: tuple[StreamConnection, socket.socket]) -> None:
    conn, _ = pair
    conn.close()
    with pytest.raises(ConnectionClosed, match="closed on this side"):
        conn.send_all(b"x")  # fileno() is -1: EBADF, never another file's descriptor


def test_engine_raises_the_flag_with_two_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(held_send.ENV_SWITCH, raising=False)
    monkeypatch.setattr(held_send, "several_cpus", lambda: True)
    engine = ThreadedEngine(lambda conn: None, 10, None, accept=accepted_connection, peers=INET_PEERS)
    crowd = engine._crowd
    assert crowd is not None
    seen = []
    for delta in (1, 1, 1, -1, -1, -1):
        engine._count(delta)
        seen.append(crowd.busy)
    assert seen == [False, True, True, True, False, False]


@pytest.mark.skipif(not held_send.several_cpus(), reason="one CPU: the server keeps no crowd flag")
def test_crowded_server_echoes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(held_send.ENV_SWITCH, raising=False)
    monkeypatch.setenv(held_send.TCP_SWITCH, "1")  # TCP servers hold sends only when asked

    def echo(conn: StreamConnection) -> None:
        for line in conn.lines():
            conn.send_all(line + b"\n")

    with TCPServer("127.0.0.1:0", echo, idle_timeout=5) as server:
        clients = [connect_tcp(server.endpoint, timeout=5) for _ in range(8)]
        try:
            for round_ in range(50):
                for i, client in enumerate(clients):
                    client.send_all(b"%d %d\n" % (i, round_))
                for i, client in enumerate(clients):
                    assert client.recv_until(b"\n") == b"%d %d\n" % (i, round_)
        finally:
            for client in clients:
                client.close()


def test_failed_held_send_reports_its_errno() -> None:
    send = held_send.load()
    assert send is not None
    assert send(-1, b"x", 1, socket.MSG_DONTWAIT) == -1
    with pytest.raises(OSError, match=os.strerror(errno.EBADF)) as caught:
        held_send.held_send_failed()
    assert caught.value.errno == errno.EBADF
    a, b = socket.socketpair()
    with a, b:
        a.setblocking(False)
        while send(a.fileno(), b"y" * 65536, 65536, socket.MSG_DONTWAIT) > 0:
            pass  # fill the buffer
        assert held_send.held_send_failed() == 0  # EAGAIN: the timed loop takes over
