"""TCPServer message mode (``TCPServer.for_messages``): one event-loop thread, framed request/response.

Unit tests for the arguments, then loopback integration tests on 127.0.0.1 and ::1 (the
``loopback_host`` fixture skips ::1 where it cannot be bound) with well-behaved and
hostile clients. Every test is bounded in time and leaves no thread or descriptor behind.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netbasics
from leaks import fd_count, settle
from netbasics import Endpoint, FrameTooLarge, LengthPrefixFramer, LineFramer, TCPServer
from netbasics._io.message_loop import _CHUNK, _HIGH_WATER, MessageLoop
from netbasics.framing import Framer
from test_tcp_integration import out_of_descriptors

pytestmark = pytest.mark.integration


def client(endpoint: Endpoint, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection(endpoint.sockaddr[:2], timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_all(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def closed_by_server(sock: socket.socket, timeout: float = 3.0) -> bool:
    """True once the server has closed ``sock`` (end of stream or reset)."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        return False
    return True


def echo(message: bytes, peer: Endpoint) -> bytes:
    return message


def message_loop(server: TCPServer) -> MessageLoop[Endpoint]:
    loop = server._engine
    assert isinstance(loop, MessageLoop)
    return loop


FRAMERS = [pytest.param(LineFramer, id="lines"), pytest.param(LengthPrefixFramer, id="length-prefix")]


# --- arguments ----------------------------------------------------------------------


def test_bad_arguments_raise_before_binding(baseline: None) -> None:
    with pytest.raises(TypeError, match="respond must be callable"):
        TCPServer.for_messages("127.0.0.1:0", b"not callable", framer=LineFramer())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="framer must have feed"):
        TCPServer.for_messages("127.0.0.1:0", echo, framer="lines")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_connections"):
        TCPServer.for_messages("127.0.0.1:0", echo, framer=LineFramer(), max_connections=0)


def test_unstarted_server_is_a_tcpserver_and_stop_closes_it(baseline: None) -> None:
    server = TCPServer.for_messages("127.0.0.1:0", echo, framer=LineFramer(), name="msgs")
    assert isinstance(server, TCPServer)
    assert server.endpoint.port != 0
    assert server.active_connections == 0
    assert not server.serving
    assert "ready" in repr(server)
    server.stop()
    server.stop()  # twice is fine
    with pytest.raises(RuntimeError):
        server.serve_forever()


def test_each_connection_gets_its_own_framer(loopback_host: str, baseline: None) -> None:
    with (
        TCPServer.for_messages((loopback_host, 0), echo, framer=LineFramer()) as server,
        client(server.endpoint) as a,
        client(server.endpoint) as b,
    ):
        a.sendall(b"first half of a")
        b.sendall(b"b\n")  # b's message must not be glued to a's partial one
        assert recv_all(b, 2) == b"b\n"
        a.sendall(b"\n")
        assert recv_all(a, 16) == b"first half of a\n"


# --- echo ---------------------------------------------------------------------------


@pytest.mark.parametrize("make", FRAMERS)
def test_echo_and_peer(loopback_host: str, baseline: None, make: type[Framer]) -> None:
    peers: list[Endpoint] = []

    def respond(message: bytes, peer: Endpoint) -> bytes:
        peers.append(peer)
        return message[::-1]

    framer = make()
    with (
        TCPServer.for_messages((loopback_host, 0), respond, framer=framer) as server,
        netbasics.connect_tcp(server.endpoint, timeout=5) as conn,
    ):
        assert server.serving
        for message in (b"hello", b"", b"x" * 5000):
            conn.send_message(message, framer)
            assert conn.recv_message(framer) == message[::-1]
        assert server.active_connections == 1
        assert peers == [conn.local] * 3


def test_no_reply_when_respond_returns_none(loopback_host: str, baseline: None) -> None:
    def respond(message: bytes, peer: Endpoint) -> bytes | None:
        return None if message.startswith(b"quiet") else message

    with (
        TCPServer.for_messages((loopback_host, 0), respond, framer=LineFramer()) as server,
        netbasics.connect_tcp(server.endpoint, timeout=5) as conn,
    ):
        conn.send_all(b"quiet 1\nloud 1\nquiet 2\n")
        conn.send_all(b"loud 2\n")
        assert conn.recv_until(b"\n") == b"loud 1\n"
        assert conn.recv_until(b"\n") == b"loud 2\n"
        conn.send_all(b"quiet 3\n")
        with pytest.raises(TimeoutError):
            conn.recv(timeout=0.2)


def test_200_concurrent_clients(loopback_host: str, baseline: None) -> None:
    errors: list[BaseException] = []

    def run(endpoint: Endpoint, n: int) -> None:
        try:
            framer = LengthPrefixFramer()
            with netbasics.connect_tcp(endpoint, timeout=20) as conn:
                for i in range(10):
                    message = f"client {n} message {i}".encode()
                    conn.send_message(message, framer)
                    assert conn.recv_message(framer) == message
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    with TCPServer.for_messages((loopback_host, 0), echo, framer=LengthPrefixFramer()) as server:
        threads = [threading.Thread(target=run, args=(server.endpoint, n)) for n in range(200)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in threads)
    assert errors == []


@pytest.mark.parametrize("make", FRAMERS)
def test_pipelined_messages_in_one_packet(loopback_host: str, baseline: None, make: type[Framer]) -> None:
    framer = make()
    messages = [f"message {i}".encode() for i in range(500)]
    with TCPServer.for_messages((loopback_host, 0), echo, framer=framer) as server, client(server.endpoint) as sock:
        wire = b"".join(framer.encode(m) for m in messages)
        sock.sendall(wire)
        assert recv_all(sock, len(wire)) == wire  # every reply, in order


@pytest.mark.parametrize("make", FRAMERS)
def test_messages_split_byte_by_byte(loopback_host: str, baseline: None, make: type[Framer]) -> None:
    framer = make()
    wire = framer.encode(b"abc") + framer.encode(b"defgh")
    with TCPServer.for_messages((loopback_host, 0), echo, framer=framer) as server, client(server.endpoint) as sock:
        for i in range(len(wire)):
            sock.sendall(wire[i : i + 1])
            time.sleep(0.002)  # separate segments, not coalesced by our side
        assert recv_all(sock, len(wire)) == wire


def test_any_split_of_the_stream_gives_the_same_replies() -> None:
    # Property: however the client's bytes are cut into segments, the server sees the
    # same messages and answers each, in order. One server for all examples.
    framer = LengthPrefixFramer()
    with TCPServer.for_messages("127.0.0.1:0", echo, framer=framer) as server:

        @settings(max_examples=100, deadline=None)
        @given(st.lists(st.binary(max_size=300), max_size=12), st.lists(st.integers(min_value=0), max_size=8))
        def check(messages: list[bytes], cuts: list[int]) -> None:
            wire = b"".join(framer.encode(m) for m in messages)
            points = sorted({c % (len(wire) + 1) for c in cuts} | {len(wire)})
            with client(server.endpoint) as sock:
                start = 0
                for point in points:
                    if point > start:
                        sock.sendall(wire[start:point])
                        start = point
                assert recv_all(sock, len(wire)) == wire

        check()


def test_half_closed_client_still_gets_its_replies(loopback_host: str, baseline: None) -> None:
    # Like `printf 'a\nb\n' | nc host port`: the client's write side ends before the replies come.
    wire = b"".join(b"line %d\n" % i for i in range(2000))
    with (
        TCPServer.for_messages((loopback_host, 0), echo, framer=LineFramer()) as server,
        client(server.endpoint) as sock,
    ):
        sock.sendall(wire)
        sock.shutdown(socket.SHUT_WR)
        assert recv_all(sock, len(wire) + 1) == wire
        assert settle(lambda: server.active_connections == 0)


# --- hostile clients and failing respond() ------------------------------------------


def test_oversized_frame_closes_only_that_client(
    loopback_host: str, baseline: None, caplog: pytest.LogCaptureFixture
) -> None:
    framer = LengthPrefixFramer(max_size=100)
    with (
        caplog.at_level(logging.DEBUG, logger="netbasics"),
        TCPServer.for_messages((loopback_host, 0), echo, framer=framer) as server,
        client(server.endpoint) as bad,
        client(server.endpoint) as good,
    ):
        good.sendall(framer.encode(b"before"))
        assert recv_all(good, 10) == framer.encode(b"before")
        started = time.monotonic()
        bad.sendall(b"\xff\xff\xff\xff")  # announces 4 GiB: refused at the header
        assert closed_by_server(bad)
        assert time.monotonic() - started < 1.0
        good.sendall(framer.encode(b"after"))
        assert recv_all(good, 9) == framer.encode(b"after")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "4294967295" in warnings[0].getMessage()
    assert warnings[0].exc_info is None


def test_long_line_closes_only_that_client(
    loopback_host: str, baseline: None, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="netbasics"),
        TCPServer.for_messages((loopback_host, 0), echo, framer=LineFramer(max_size=1000)) as server,
        client(server.endpoint) as bad,
        client(server.endpoint) as good,
    ):
        bad.sendall(b"x" * 1500)
        assert closed_by_server(bad)
        good.sendall(b"ok\n")
        assert recv_all(good, 3) == b"ok\n"
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


def test_long_line_after_good_ones_is_refused_while_the_client_waits(
    loopback_host: str, baseline: None, caplog: pytest.LogCaptureFixture
) -> None:
    # One read brings complete lines and then an oversized one: LineFramer returns the
    # lines and holds FrameTooLarge back (error_pending). The loop must raise it at once,
    # not at the next read, which never comes from a client waiting for the server.
    with (
        caplog.at_level(logging.WARNING, logger="netbasics"),
        TCPServer.for_messages((loopback_host, 0), echo, framer=LineFramer(max_size=100), idle_timeout=None) as server,
        client(server.endpoint) as bad,
    ):
        bad.sendall(b"one\ntwo\n" + b"x" * 500)
        assert recv_all(bad, 8) == b"one\ntwo\n"
        assert closed_by_server(bad, timeout=5.0)
        assert settle(lambda: server.active_connections == 0)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "is longer than max_size=100" in warnings[0]


class _BrokenPromise:
    """A framer whose error_pending says an error is held back, and whose feed(b"") raises none."""

    def __init__(self) -> None:
        self.inner = LineFramer()
        self.error_pending = False

    def feed(self, data: bytes) -> list[bytes]:
        messages = self.inner.feed(data)
        self.error_pending = b"promise" in messages
        return messages

    def encode(self, message: bytes) -> bytes:
        return self.inner.encode(message)

    @property
    def partial(self) -> bytes:
        return self.inner.partial

    def reset(self) -> None:
        self.inner.reset()


def test_framer_that_breaks_its_error_pending_promise_is_closed(
    baseline: None, caplog: pytest.LogCaptureFixture
) -> None:
    framer: Framer = _BrokenPromise()
    with (
        caplog.at_level(logging.WARNING, logger="netbasics"),
        TCPServer.for_messages(("127.0.0.1", 0), echo, framer=framer, idle_timeout=None) as server,
        client(server.endpoint) as sock,
    ):
        sock.sendall(b"fine\n")
        assert recv_all(sock, 5) == b"fine\n"
        sock.sendall(b"promise\n")
        assert recv_all(sock, 8) == b"promise\n"
        assert closed_by_server(sock, timeout=5.0)
    assert any("raised nothing" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "bad_reply", [pytest.param(None, id="raises"), pytest.param(b"two\nlines", id="unencodable-reply")]
)
def test_respond_exception_closes_only_that_client_and_is_logged(
    loopback_host: str,
    baseline: None,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    bad_reply: bytes | None,
) -> None:
    def respond(message: bytes, peer: Endpoint) -> bytes:
        if message == b"boom":
            if bad_reply is None:
                raise RuntimeError("respond blew up")
            return bad_reply
        return message

    with (
        caplog.at_level(logging.DEBUG, logger="netbasics"),
        TCPServer.for_messages((loopback_host, 0), respond, framer=LineFramer()) as server,
        client(server.endpoint) as bad,
        client(server.endpoint) as good,
    ):
        bad.sendall(b"boom\n")
        assert closed_by_server(bad)
        good.sendall(b"fine\n")
        assert recv_all(good, 5) == b"fine\n"
        assert server.serving
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].name == "netbasics"
    assert "respond() failed" in errors[0].getMessage()
    assert errors[0].exc_info is not None
    assert "Traceback" not in capfd.readouterr().err  # logged, not printed by a dying thread


def test_resets_are_quiet(
    loopback_host: str, baseline: None, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    with (
        caplog.at_level(logging.DEBUG, logger="netbasics"),
        TCPServer.for_messages((loopback_host, 0), echo, framer=LineFramer()) as server,
    ):
        for _ in range(20):
            sock = client(server.endpoint)
            sock.sendall(b"partial message")
            time.sleep(0.002)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.close()  # RST
        assert settle(lambda: server.active_connections == 0)
        with client(server.endpoint) as sock:
            sock.sendall(b"still here\n")
            assert recv_all(sock, 11) == b"still here\n"
    assert [r for r in caplog.records if r.levelno > logging.DEBUG] == []
    assert "Traceback" not in capfd.readouterr().err


def test_silent_and_trickling_clients_are_cut_at_idle_timeout(loopback_host: str, baseline: None) -> None:
    with TCPServer.for_messages((loopback_host, 0), echo, framer=LineFramer(), idle_timeout=0.4) as server:
        silent = client(server.endpoint)
        trickler = client(server.endpoint)
        busy = client(server.endpoint)
        started = time.monotonic()
        stop = threading.Event()
        busy_ok: list[bool] = []

        def trickle() -> None:
            while not stop.is_set():
                try:
                    trickler.send(b"a")  # never a whole line
                except OSError:
                    return
                time.sleep(0.05)

        def keep_busy() -> None:
            # A whole message every 0.15 s keeps pushing its deadline out.
            for _ in range(8):
                busy.sendall(b"ping\n")
                busy_ok.append(recv_all(busy, 5) == b"ping\n")
                time.sleep(0.15)

        threads = [threading.Thread(target=trickle), threading.Thread(target=keep_busy)]
        for thread in threads:
            thread.start()
        try:
            assert closed_by_server(silent)
            assert 0.3 < time.monotonic() - started < 1.5
            assert closed_by_server(trickler)
            assert 0.3 < time.monotonic() - started < 1.5  # one byte every 50 ms does not extend it
            threads[1].join(5)
            assert busy_ok == [True] * 8  # 1.2 s of regular messages: never cut
        finally:
            stop.set()
            for thread in threads:
                thread.join(5)
            for sock in (silent, trickler, busy):
                sock.close()


def test_client_that_never_reads_is_not_read_either(loopback_host: str, baseline: None) -> None:
    # Backpressure: the client floods requests and reads no replies. Once its output
    # buffer is full the server stops reading it, so the client's sends block in the
    # kernel and the server's buffer stays bounded instead of holding every reply.
    framer = LengthPrefixFramer()
    message = framer.encode(b"x" * 65532)  # 64 KiB on the wire
    with TCPServer.for_messages((loopback_host, 0), echo, framer=framer, idle_timeout=None) as server:
        flooder = socket.socket(socket.AF_INET if ":" not in loopback_host else socket.AF_INET6)
        flooder.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        flooder.connect(server.endpoint.sockaddr[:2])
        flooder.settimeout(0.5)
        sent = 0
        try:
            while sent < 256 * 1024 * 1024:
                flooder.sendall(message)
                sent += len(message)
        except TimeoutError:
            pass
        assert sent < 256 * 1024 * 1024, "the server kept reading a client that does not read"
        assert server.pending_output > 0  # replies did queue up on the server
        assert server.pending_output <= _HIGH_WATER + _CHUNK + len(message)
        with client(server.endpoint) as other:  # the loop still serves everybody else
            other.sendall(framer.encode(b"hi"))
            assert recv_all(other, 6) == framer.encode(b"hi")
        flooder.close()


def test_clients_wait_in_backlog_at_max_connections(loopback_host: str, baseline: None) -> None:
    with TCPServer.for_messages((loopback_host, 0), echo, framer=LineFramer(), max_connections=2) as server:
        socks = [client(server.endpoint) for _ in range(4)]
        try:
            for sock in socks:
                sock.sendall(b"hi\n")
            assert recv_all(socks[0], 3) == b"hi\n"
            assert recv_all(socks[1], 3) == b"hi\n"
            assert server.active_connections == 2
            socks[2].settimeout(0.3)
            with pytest.raises(TimeoutError):
                socks[2].recv(3)  # connected by the kernel, waiting in the backlog
            socks[0].close()
            socks[2].settimeout(5)
            assert recv_all(socks[2], 3) == b"hi\n"  # served once a slot freed
            socks[1].close()
            assert recv_all(socks[3], 3) == b"hi\n"
            assert server.active_connections == 2
        finally:
            for sock in socks:
                sock.close()


# --- stopping -----------------------------------------------------------------------


def test_stop_returns_promptly_with_idle_and_flooded_clients(loopback_host: str, baseline: None) -> None:
    framer = LengthPrefixFramer()
    big = framer.encode(b"x" * 60000)
    server = TCPServer.for_messages((loopback_host, 0), echo, framer=framer, idle_timeout=None).start()
    idle = [client(server.endpoint) for _ in range(10)]
    flooder = client(server.endpoint, timeout=0.3)
    try:
        try:  # fill the server's output buffer for a client that does not read
            for _ in range(2000):
                flooder.sendall(big)
        except TimeoutError:
            pass
        assert settle(lambda: server.active_connections == 11)
        assert server.pending_output > 0
        started = time.monotonic()
        server.stop(timeout=0.3)
        elapsed = time.monotonic() - started
        assert 0.25 < elapsed < 0.3 + 0.1, elapsed  # the grace period for the stuck replies, + 100 ms at most
        assert server.active_connections == 0
        assert not server.serving
        for sock in idle:
            assert closed_by_server(sock, timeout=1)
        with pytest.raises(ConnectionRefusedError):
            client(server.endpoint, timeout=1)  # the listener is closed
    finally:
        server.stop(timeout=0)
        for sock in [*idle, flooder]:
            sock.close()


def test_stop_lets_queued_replies_drain(loopback_host: str, baseline: None) -> None:
    wire = b"".join(b"%099d\n" % i for i in range(60_000))  # 6 MB of requests, as many replies
    server = TCPServer.for_messages((loopback_host, 0), echo, framer=LineFramer(), idle_timeout=None).start()
    sock = socket.socket(socket.AF_INET if ":" not in loopback_host else socket.AF_INET6)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.connect(server.endpoint.sockaddr[:2])
    received: list[bytes] = []

    def send() -> None:
        try:
            sock.sendall(wire)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server closed first

    def read() -> None:
        try:
            while chunk := sock.recv(65536):
                received.append(chunk)
        except OSError:
            received.append(b"<reset>")

    sender, reader = threading.Thread(target=send), threading.Thread(target=read)
    try:
        sender.start()
        assert settle(lambda: server.pending_output > 0)  # replies are queued on the server
        queued = server.pending_output
        reader.start()
        started = time.monotonic()
        server.stop(timeout=5)
        assert time.monotonic() - started < 4.0  # returned once the queue drained, not at the deadline
        reader.join(5)
        data = b"".join(received)
        assert len(data) >= queued
        assert data == wire[: len(data)]  # in order, nothing lost in the middle
        assert data.endswith(b"\n")  # whole replies, no reset: the stream was not cut mid-message
    finally:
        server.stop(timeout=0)
        sock.close()
        sender.join(5)
        reader.join(5)


@pytest.mark.parametrize("blocking", [False, True], ids=["start", "serve_forever"])
def test_stop_from_respond_does_not_deadlock(loopback_host: str, baseline: None, blocking: bool) -> None:
    stopped = threading.Event()

    def respond(message: bytes, peer: Endpoint) -> bytes:
        if message == b"stop":
            server.stop(timeout=1)
            stopped.set()
            return b"bye"
        return message

    server = TCPServer.for_messages((loopback_host, 0), respond, framer=LineFramer())
    thread = threading.Thread(target=server.serve_forever) if blocking else None
    if thread is not None:
        thread.start()
    else:
        server.start()
    try:
        idle = client(server.endpoint)
        with client(server.endpoint) as sock:
            started = time.monotonic()
            sock.sendall(b"stop\n")
            assert recv_all(sock, 4) == b"bye\n"  # the reply made before the stop still leaves
            assert stopped.wait(5)
            assert time.monotonic() - started < 1.0
        assert closed_by_server(idle)
        idle.close()
        if thread is not None:
            thread.join(5)
            assert not thread.is_alive()
    finally:
        server.stop(timeout=1)
        if thread is not None:
            thread.join(5)


def test_no_thread_or_fd_leak_after_1000_connections() -> None:
    threads, fds = threading.active_count(), fd_count()
    peak = [0]

    def respond(message: bytes, peer: Endpoint) -> bytes:
        peak[0] = max(peak[0], threading.active_count())
        return message

    def churn(endpoint: Endpoint, n: int) -> None:
        for _ in range(n):
            with client(endpoint) as sock:
                sock.sendall(b"p\n")
                assert recv_all(sock, 2) == b"p\n"

    with TCPServer.for_messages("127.0.0.1:0", respond, framer=LineFramer(), max_connections=64) as server:
        workers = [threading.Thread(target=churn, args=(server.endpoint, 125)) for _ in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert not any(worker.is_alive() for worker in workers)
    assert peak[0] <= threads + 1 + 8  # the loop thread and the client threads: no workers
    assert settle(lambda: threading.active_count() == threads)
    assert settle(lambda: fd_count() == fds), f"{fd_count() - fds} fds leaked"


def test_accept_out_of_descriptors_logs_once_and_backs_off() -> None:
    # In a child process with a tiny descriptor limit, accept() hits EMFILE while the
    # clients are connected: the loop must log once, not spin, and recover.
    def still_served(clients: list[socket.socket]) -> None:
        clients[0].sendall(b"served\n")  # accepted before the limit: still served
        assert recv_all(clients[0], 7) == b"served\n"

    err = out_of_descriptors(
        'server = TCPServer.for_messages("127.0.0.1:0", lambda m, p: m, framer=LineFramer(), idle_timeout=None)\n'
        "server.start()",
        still_served,
    )
    assert err.count("accept failed") == 1, err
    assert "Too many open files" in err
    assert "Traceback" not in err


def test_frame_too_large_is_the_framers_error() -> None:
    # The server relies on the framer raising before buffering; pin that contract here.
    with pytest.raises(FrameTooLarge):
        LengthPrefixFramer(max_size=10).feed(b"\x00\x00\x00\x0b")
