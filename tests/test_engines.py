"""Faults of the server engines found under abuse (issue 19), each with the test that failed before its fix.

* a Unix socket bound with ``mode=`` names its own path, and removes it on close;
* a message-mode framer is copied (and checked) when the server is built, and a failure
  setting up one connection closes only that connection, logged;
* a threaded ``stop(timeout)`` under load returns within ``timeout`` + 0.1 s, with every
  handler thread joined;
* message-mode backpressure bounds what a client that never reads costs;
* user ids are 32-bit; a Unix handler failure names its peer.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from netbasics import (
    LineFramer,
    StreamConnection,
    TCPServer,
    UnixAddress,
    UnixServer,
    connect_tcp,
    connect_unix,
    open_unix_datagram,
)


@pytest.fixture
def sockdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="nb", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


# --- 19.2: mode= and the socket's own name --------------------------------------------


def test_datagram_socket_bound_with_mode_names_its_path_and_removes_it(sockdir: Path, baseline: None) -> None:
    path = sockdir / "x.sock"
    server = open_unix_datagram(bind=f"unix:{path}", mode=0o600, timeout=5)
    try:
        assert server.local == UnixAddress(str(path))
        with open_unix_datagram(connect=f"unix:{path}", timeout=5) as client:
            client.send(b"ping")
            got = server.recv_from()
            server.send_to(b"pong", got.sender)
            assert client.recv() == b"pong"
        with open_unix_datagram(bind=f"unix:{sockdir / 'y.sock'}", timeout=5) as peer:
            peer.send_to(b"who", server.local)
            sender = server.recv_from().sender
            assert sender == peer.local == UnixAddress(str(sockdir / "y.sock"))
            server.send_to(b"you", sender)  # the reply reaches the peer's real path
            assert peer.recv() == b"you"
        with open_unix_datagram(bind=f"unix:{sockdir / 'z.sock'}", mode=0o600, timeout=5) as moded:
            moded.send_to(b"from a moded socket", server.local)
            assert server.recv_from().sender == UnixAddress(str(sockdir / "z.sock"))
    finally:
        server.close()
    assert not path.exists()
    assert sorted(p.name for p in sockdir.iterdir()) == []


def test_datagram_socket_bound_with_relative_path_is_removed_after_chdir(sockdir: Path, baseline: None) -> None:
    old = os.getcwd()
    os.chdir(sockdir)
    try:
        sock = open_unix_datagram(bind="unix:./rel.sock", mode=0o600)
        os.chdir(old)
        sock.close()
    finally:
        os.chdir(old)
    assert not (sockdir / "rel.sock").exists()


@pytest.mark.parametrize("messages", [False, True], ids=["threaded", "messages"])
def test_stream_server_bound_with_mode_names_its_path(sockdir: Path, baseline: None, messages: bool) -> None:
    path = sockdir / "s.sock"
    seen: list[object] = []

    def handler(conn: StreamConnection) -> None:
        seen.append(conn.local)
        conn.send_all(b"hi")

    def respond(message: bytes, peer: UnixAddress) -> bytes:
        return message

    if messages:
        server = UnixServer.for_messages(f"unix:{path}", respond, framer=LineFramer(), mode=0o600)
    else:
        server = UnixServer(f"unix:{path}", handler, mode=0o600)
    with server, connect_unix(f"unix:{path}", timeout=5) as conn:
        assert conn.remote == UnixAddress(str(path))
        if messages:
            conn.send_all(b"hi\n")
            assert conn.recv_until(b"\n") == b"hi\n"
        else:
            assert conn.recv_exactly(2) == b"hi"
            assert seen == [UnixAddress(str(path))]
    assert not path.exists()
