"""One lifecycle for every server: TCPServer (both modes) and UDPServer behave alike, on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Union

import pytest

from netbasics import Datagram, Endpoint, LineFramer, Reply, StreamConnection, TCPServer, UDPServer, UnixAddress
from netbasics._io.message_loop import MessageLoop
from netbasics._io.server_core import ServerCore
from netbasics._io.threaded import ThreadedEngine
from netbasics._io.unix_sockets import UNIX_PEERS
from netbasics.stream import accepted_connection

Server = Union[TCPServer, UDPServer]


def _handler(conn: StreamConnection) -> None:
    conn.recv()


def _respond(message: bytes, peer: Endpoint) -> bytes:
    return message


def _datagrams(datagram: Datagram, reply: Reply) -> None:
    reply(datagram.data)


MAKERS: dict[str, Callable[..., Server]] = {
    "threaded": lambda **kw: TCPServer("127.0.0.1:0", _handler, **kw),
    "messages": lambda **kw: TCPServer.for_messages("127.0.0.1:0", _respond, framer=LineFramer(), **kw),
    "udp": lambda **kw: UDPServer("127.0.0.1:0", _datagrams, **kw),
}


@pytest.fixture(params=sorted(MAKERS))
def make(request: pytest.FixtureRequest) -> Callable[..., Server]:
    return MAKERS[request.param]


def _serving(server: Server) -> bool:
    return server.serving  # read through a call: mypy would keep an earlier narrowing


def _wait(condition: Callable[[], bool], seconds: float = 2.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_states_and_errors_are_the_same(make: Callable[..., Server]) -> None:
    server = make()
    assert "ready" in repr(server)
    assert not _serving(server)
    assert server.start() is server
    assert _serving(server)  # from start() on, not only once the thread runs
    assert "serving" in repr(server)
    with pytest.raises(RuntimeError, match="already running"):
        server.start()
    with pytest.raises(RuntimeError, match="already running"):
        server.serve_forever()
    server.stop()
    server.stop()  # twice is fine
    assert not _serving(server)
    assert "stopped" in repr(server)
    with pytest.raises(RuntimeError, match="was stopped"):
        server.start()


def test_name_names_the_threads(make: Callable[..., Server]) -> None:
    with make(name="lifecycle-test") as server:
        assert server.name == "lifecycle-test"
        assert _wait(lambda: any(t.name == "lifecycle-test" for t in threading.enumerate()))
    assert _wait(lambda: not any(t.name.startswith("lifecycle-test") for t in threading.enumerate()))


def test_default_name_is_kind_and_endpoint(make: Callable[..., Server]) -> None:
    server = make()
    try:
        assert server.name == f"{type(server).__name__} {server.endpoint}"
    finally:
        server.stop()


def test_serve_forever_on_the_calling_thread(make: Callable[..., Server]) -> None:
    server = make()
    runner = threading.Thread(target=server.serve_forever)
    runner.start()
    try:
        assert _wait(lambda: _serving(server))
    finally:
        server.stop(timeout=1)
        runner.join(2)
    assert not runner.is_alive()
    assert not _serving(server)


def test_stop_before_start_releases_the_socket(make: Callable[..., Server]) -> None:
    server = make()
    server.stop()
    with pytest.raises(RuntimeError, match="was stopped"):
        server.serve_forever()


@pytest.mark.parametrize(("value", "error"), [("1", TypeError), (-1, ValueError), (float("nan"), ValueError)])
def test_stop_timeout_is_checked(make: Callable[..., Server], value: object, error: type[Exception]) -> None:
    server = make()
    try:
        with pytest.raises(error, match="timeout"):
            server.stop(value)  # type: ignore[arg-type]
    finally:
        server.stop()


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix-domain sockets here")
@pytest.mark.parametrize("mode", ["threaded", "messages"])
def test_the_core_serves_any_listening_stream_socket(tmp_path: Path, mode: str) -> None:
    # The core takes a bound socket, so a Unix-domain server is the same server with
    # another endpoint; StreamConnection works over it too.
    path = str(tmp_path / "core.sock")
    engine: ThreadedEngine[StreamConnection] | MessageLoop[UnixAddress]
    if mode == "threaded":
        engine = ThreadedEngine(
            lambda conn: conn.send_all(conn.recv_until().upper()), 4, 5.0, accept=accepted_connection, peers=UNIX_PEERS
        )
    else:
        engine = MessageLoop(lambda m, p: m.upper(), LineFramer(), 4, 5.0, peers=UNIX_PEERS, nodelay=False)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()
    listener.setblocking(False)
    core = ServerCore(listener, engine, kind="UnixServer", label=path, name=None)
    core.start()
    try:
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(path)
        with StreamConnection(client, timeout=5) as conn:
            conn.send_all(b"hello\n")
            assert conn.recv_until() == b"HELLO\n"
    finally:
        core.stop(timeout=1)
    assert listener.fileno() == -1
