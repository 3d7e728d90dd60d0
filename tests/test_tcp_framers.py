"""User-defined framers (plain classes) through the client and both server modes, on loopback."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest

import netbasics
from netbasics import ConnectionClosed, Endpoint, Framer, FrameTooLarge, StreamConnection, TCPServer
from user_framers import Netstrings


def test_netstrings_is_a_framer() -> None:
    framer: Framer = Netstrings()  # mypy checks the protocol here
    assert framer.feed(b"5:hello,0:,3:ab") == [b"hello", b""]
    assert framer.partial == b"3:ab"


MESSAGES = [b"hello", b"", b"with: colons, and commas,", b"x" * 200_000]


def handler_echo(conn: StreamConnection) -> None:
    framer = Netstrings()
    for message in conn.messages(framer):
        conn.send_message(message[::-1], framer)


def respond_echo(message: bytes, peer: Endpoint) -> bytes:
    return message[::-1]


@pytest.fixture(params=["threaded", "messages"])
def server(request: pytest.FixtureRequest) -> Iterator[TCPServer]:
    if request.param == "threaded":
        made = TCPServer("127.0.0.1:0", handler_echo, idle_timeout=10)
    else:
        made = TCPServer.for_messages("127.0.0.1:0", respond_echo, framer=Netstrings(), idle_timeout=10)
    with made:
        yield made


def test_user_framer_through_server_and_client(server: TCPServer) -> None:
    framer = Netstrings()
    with netbasics.connect_tcp(server.endpoint, timeout=10) as conn:
        for message in MESSAGES:
            conn.send_message(message, framer)
            assert conn.recv_message(framer) == message[::-1]
        # Several messages in one write, and one message cut across writes.
        conn.send_all(framer.encode(b"one") + framer.encode(b"two") + b"5:thr")
        conn.send_all(b"ee,")
        assert [conn.recv_message(framer) for _ in range(3)] == [b"eno", b"owt", b"eerht"]
        conn.shutdown_write()
        assert list(conn.messages(framer)) == []


def test_each_connection_gets_its_own_user_framer(server: TCPServer) -> None:
    framer = Netstrings()
    with (
        netbasics.connect_tcp(server.endpoint, timeout=10) as a,
        netbasics.connect_tcp(server.endpoint, timeout=10) as b,
    ):
        a.send_all(b"7:first ")
        b.send_all(framer.encode(b"b"))
        assert b.recv_message(framer) == b"b"
        a.send_all(b"a,")
        assert a.recv_message(framer) == b"a tsrif"


def test_user_framer_errors_reach_the_client() -> None:
    with (
        TCPServer("127.0.0.1:0", lambda conn: conn.send_all(b"9:abc")) as server,
        netbasics.connect_tcp(server.endpoint, timeout=10) as conn,
    ):
        with pytest.raises(ConnectionClosed, match="middle of a message") as info:
            conn.recv_message(Netstrings())
        assert info.value.partial == b"9:abc"
    with (
        TCPServer("127.0.0.1:0", lambda conn: conn.send_all(b"99:")) as server,
        netbasics.connect_tcp(server.endpoint, timeout=10) as conn,
        pytest.raises(FrameTooLarge, match="max_size=10"),
    ):
        conn.recv_message(Netstrings(max_size=10))


def test_plain_reads_after_a_framer_get_the_buffered_bytes() -> None:
    with (
        TCPServer("127.0.0.1:0", lambda conn: conn.send_all(b"first\nsecond\nrest")) as server,
        netbasics.connect_tcp(server.endpoint, timeout=10) as conn,
    ):
        assert conn.recv_until(b"\n") == b"first\n"
        assert conn.recv_exactly(7) == b"second\n"  # buffered by the line framer, given back
        assert conn.recv_exactly(4) == b"rest"


def test_bad_framer_is_refused_before_binding() -> None:
    with pytest.raises(TypeError, match="framer must have"):
        TCPServer.for_messages("127.0.0.1:0", respond_echo, framer=object())  # type: ignore[arg-type]


class Records:
    """Records ending in ``;``, at most ``max_size`` bytes each, written against the Framer protocol only.

    Like LineFramer, it returns the records before an oversized one and raises
    FrameTooLarge at the next feed, saying so with the optional ``error_pending``.
    """

    def __init__(self, max_size: int = 8) -> None:
        self.max_size = max_size
        self.buffer = b""
        self.error_pending = False

    def feed(self, data: bytes) -> list[bytes]:
        if self.error_pending:
            self.error_pending = False
            raise FrameTooLarge(f"record longer than max_size={self.max_size}")
        *records, self.buffer = (self.buffer + data).split(b";")
        good: list[bytes] = []
        for record in records:
            if len(record) > self.max_size:
                break
            good.append(record)
        if len(good) < len(records) or len(self.buffer) > self.max_size:
            self.buffer = b""
            if not good:
                raise FrameTooLarge(f"record longer than max_size={self.max_size}")
            self.error_pending = True
        return good

    def encode(self, message: bytes) -> bytes:
        return message + b";"

    @property
    def partial(self) -> bytes:
        return self.buffer

    def reset(self) -> None:
        self.buffer = b""
        self.error_pending = False


def test_records_hold_the_error_back() -> None:
    framer: Framer = Records()
    assert framer.feed(b"ok;fine;" + b"x" * 9) == [b"ok", b"fine"]
    with pytest.raises(FrameTooLarge):
        framer.feed(b"")
    assert framer.feed(b"again;") == [b"again"]


def test_client_raises_a_held_back_error_without_waiting_for_more_bytes() -> None:
    # The peer sends a good record and an oversized one, then waits for us to close: the
    # client must raise FrameTooLarge now, not after its 10 s timeout.
    def handler(conn: StreamConnection) -> None:
        conn.send_all(b"ok;" + b"x" * 50)
        conn.recv()  # until the client closes

    with (
        TCPServer("127.0.0.1:0", handler, idle_timeout=10) as server,
        netbasics.connect_tcp(server.endpoint, timeout=10) as conn,
    ):
        framer = Records()
        assert conn.recv_message(framer) == b"ok"
        with pytest.raises(FrameTooLarge, match="max_size=8"):
            conn.recv_message(framer)


def test_message_server_raises_a_held_back_error_while_the_client_waits(caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="netbasics"),
        TCPServer.for_messages("127.0.0.1:0", respond_echo, framer=Records(), idle_timeout=None) as server,
        socket.create_connection(server.endpoint.sockaddr[:2], timeout=10) as sock,
    ):
        sock.sendall(b"ok;" + b"x" * 50)
        received = b""
        while chunk := sock.recv(100):  # the reply, then the end of the stream
            received += chunk
        assert received == b"ko;"
    assert any("max_size=8" in record.getMessage() for record in caplog.records)


def test_a_framer_error_closes_only_that_connection_of_a_message_server(caplog: pytest.LogCaptureFixture) -> None:
    # Netstrings refuses a netstring without its comma with ValueError: the message server
    # must close that client and go on serving the others.
    with (
        caplog.at_level(logging.ERROR, logger="netbasics"),
        TCPServer.for_messages("127.0.0.1:0", respond_echo, framer=Netstrings(), idle_timeout=10) as server,
        socket.create_connection(server.endpoint.sockaddr[:2], timeout=10) as bad,
        netbasics.connect_tcp(server.endpoint, timeout=10) as good,
    ):
        bad.sendall(b"3:abcX")
        assert bad.recv(100) == b""  # closed
        framer = Netstrings()
        good.send_message(b"still served", framer)
        assert good.recv_message(framer) == b"devres llits"
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 1
    assert "feed() of the framer failed" in failures[0].getMessage()
    assert failures[0].exc_info is not None
