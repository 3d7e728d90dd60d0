"""TCP unit tests: StreamConnection reads, writes, deadlines and errors; Happy Eyeballs; socket plumbing.

Everything runs on 127.0.0.1 with our own code at both ends (real peers are in
test_tcp_integration.py) and finishes in well under a second per test.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import netbasics
from netbasics import (
    BindError,
    ConnectError,
    ConnectionClosed,
    Endpoint,
    EndpointError,
    FrameTooLarge,
    LengthPrefixFramer,
    LineFramer,
    NetTimeoutError,
    PeerClosed,
    ResolveError,
    StreamConnection,
    TCPServer,
    port_open,
)
from netbasics._io.happy_eyeballs import interleave, open_tcp_socket
from netbasics._io.sockets import bind_socket, connect_failure, listen_socket, set_io_timeout, translate_os_error


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock
    sock.close()


@pytest.fixture
def pair(listener: socket.socket) -> Iterator[tuple[StreamConnection, socket.socket]]:
    """A client StreamConnection and the raw server-side socket of the same connection."""
    conn = netbasics.connect_tcp(listener.getsockname(), timeout=5)
    peer, _ = listener.accept()
    peer.settimeout(5)
    yield conn, peer
    conn.close()
    peer.close()


def later(delay: float, action: Callable[[], object]) -> threading.Thread:
    def run() -> None:
        time.sleep(delay)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def blackhole() -> Iterator[Endpoint]:
    """A loopback endpoint whose SYNs go unanswered: a listener with a full accept queue."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(0)
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(sock.getsockname())
        fillers.append(filler)
    time.sleep(0.05)
    probe = socket.socket()
    probe.settimeout(0.2)
    try:
        probe.connect(sock.getsockname())
        pytest.skip("this kernel answers SYNs beyond a full accept queue; no loopback blackhole")
    except OSError:
        pass
    finally:
        probe.close()
    yield Endpoint.from_sockaddr(sock.getsockname())
    for filler in fillers:
        filler.close()
    sock.close()


# --- reading and writing ------------------------------------------------------------


def test_recv_and_send(pair: tuple[StreamConnection, socket.socket]) -> None:
    conn, peer = pair
    conn.send_all(b"hello")
    assert peer.recv(100) == b"hello"
    peer.sendall(b"world")
    assert conn.recv() == b"world"
    conn.send_all(bytearray(b"ab"))
    conn.send_all(memoryview(b"cd"))
    assert peer.recv(100) == b"abcd"
    peer.close()
    assert conn.recv() == b""  # end of stream is not an error for recv


def test_recv_exactly_and_buffering(pair: tuple[StreamConnection, socket.socket]) -> None:
    conn, peer = pair
    peer.sendall(b"0123456789")
    assert conn.recv_exactly(3) == b"012"
    assert conn.recv_exactly(0) == b""
    assert conn.recv(2) == b"34"  # buffered bytes come first
    assert conn.recv_exactly(5) == b"56789"
    big = os.urandom(300_000)
    later(0.01, lambda: peer.sendall(big))
    assert conn.recv_exactly(len(big)) == big
    with pytest.raises(ValueError, match="n must be"):
        conn.recv_exactly(-1)
    with pytest.raises(ValueError, match="max_bytes"):
        conn.recv(0)
    with pytest.raises(TypeError, match="n must be an int, got '4'"):
        conn.recv_exactly("4")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"max_bytes must be an int, got 1\.5"):
        conn.recv(1.5)  # type: ignore[arg-type]


def test_recv_exactly_peer_closes_mid_message(pair: tuple[StreamConnection, socket.socket]) -> None:
    conn, peer = pair
    peer.sendall(b"abc")
    peer.close()
    with pytest.raises(ConnectionClosed, match="after 3 of 10 bytes") as info:
        conn.recv_exactly(10)
    assert info.value.partial == b"abc"
    assert isinstance(info.value, ConnectionError)


def test_recv_until(pair: tuple[StreamConnection, socket.socket]) -> None:
    conn, peer = pair
    peer.sendall(b"one\r\ntwo\r")
    assert conn.recv_until(b"\r\n") == b"one\r\n"
    later(0.01, lambda: peer.sendall(b"\nthree"))
    assert conn.recv_until(b"\r\n") == b"two\r\n"
    peer.close()
    with pytest.raises(ConnectionClosed, match="before delimiter") as info:
        conn.recv_until(b"\r\n")
    assert info.value.partial == b"three"
    with pytest.raises(ValueError, match="delimiter"):
        conn.recv_until(b"")


def test_recv_until_max_size(pair: tuple[StreamConnection, socket.socket]) -> None:
    conn, peer = pair
    peer.sendall(b"1234\n12345\n")
    assert conn.recv_until(b"\n", max_size=4) == b"1234\n"
    with pytest.raises(FrameTooLarge, match="max_size=4"):
        conn.recv_until(b"\n", max_size=4)


def test_lines_and_iteration(pair: tuple[StreamConnection, socket.socket]) -> None:
    conn, peer = pair
    peer.sendall(b"a\nbb\n\nccc\n")
    peer.close()
    assert list(conn) == [b"a", b"bb", b"", b"ccc"]


def test_lines_partial_last_line(pair: tuple[StreamConnection, socket.socket]) -> None:
    conn, peer = pair
    peer.sendall(b"a\nunfinished")
    peer.close()
    lines = conn.lines()
    assert next(lines) == b"a"
    with pytest.raises(ConnectionClosed) as info:
        next(lines)
    assert info.value.partial == b"unfinished"


@pytest.mark.parametrize("framer", [LineFramer(), LengthPrefixFramer(), LengthPrefixFramer(1)], ids=repr)
def test_messages_round_trip(pair: tuple[StreamConnection, socket.socket], framer: LineFramer) -> None:
    conn, peer = pair
    server = StreamConnection(peer, timeout=5)
    sent = [b"x", b"", b"hello world", b"z" * 200]
    for message in sent:
        server.send_message(message, framer)
    server.shutdown_write()
    receiving = type(framer)() if isinstance(framer, LineFramer) else LengthPrefixFramer(framer.header_size)
    assert conn.recv_message(receiving) == b"x"
    assert list(conn.messages(receiving)) == sent[1:]


def test_recv_message_after_plain_reads_and_partial(pair: tuple[StreamConnection, socket.socket]) -> None:
    conn, peer = pair
    framer = LengthPrefixFramer()
    peer.sendall(b"HDR" + framer.encode(b"body") + b"\x00\x00\x00\x09part")
    assert conn.recv_exactly(3) == b"HDR"
    assert conn.recv_message(framer) == b"body"  # bytes buffered by recv_exactly are framed too
    peer.close()
    with pytest.raises(ConnectionClosed, match="middle of a message") as info:
        conn.recv_message(framer)
    assert info.value.partial == b"\x00\x00\x00\x09part"


def test_recv_message_refuses_huge_header_at_once(pair: tuple[StreamConnection, socket.socket]) -> None:
    conn, peer = pair
    peer.sendall(b"\xff\xff\xff\xff")  # announces 4 GiB; nothing else ever comes
    started = time.monotonic()
    with pytest.raises(FrameTooLarge, match="4294967295"):
        conn.recv_message(LengthPrefixFramer(max_size=1 << 20))
    assert time.monotonic() - started < 1


def test_switching_framers_with_buffered_messages(pair: tuple[StreamConnection, socket.socket]) -> None:
    # What one framer holds goes to the next, re-encoded (the receive buffer's rule, as
    # for plain reads): the stream stays whole, however it arrived.
    conn, peer = pair
    peer.sendall(b"a\nb\n" + LengthPrefixFramer().encode(b"c"))
    lines = LineFramer()
    assert conn.recv_message(lines) == b"a"
    assert conn.recv_message(LineFramer()) == b"b"
    assert conn.recv_message(LengthPrefixFramer()) == b"c"


def test_send_message_too_large(pair: tuple[StreamConnection, socket.socket]) -> None:
    conn, _ = pair
    with pytest.raises(FrameTooLarge):
        conn.send_message(b"x" * 11, LengthPrefixFramer(max_size=10))


# --- deadlines ----------------------------------------------------------------------


def test_recv_timeout_keeps_data(pair: tuple[StreamConnection, socket.socket]) -> None:
    conn, peer = pair
    peer.sendall(b"par")
    started = time.monotonic()
    with pytest.raises(NetTimeoutError, match=r"timed out after 0\.2 s") as info:
        conn.recv_exactly(6, timeout=0.2)
    assert 0.15 < time.monotonic() - started < 1.0
    assert isinstance(info.value, TimeoutError)
    peer.sendall(b"tial")
    assert conn.recv_exactly(7) == b"partial"


def test_deadline_covers_the_whole_call(pair: tuple[StreamConnection, socket.socket]) -> None:
    conn, peer = pair
    stop = threading.Event()

    def trickle() -> None:
        while not stop.is_set():
            try:
                peer.send(b"x")
            except OSError:
                return
            time.sleep(0.03)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        with pytest.raises(NetTimeoutError):
            conn.recv_until(b"\n", timeout=0.3)  # one byte every 30 ms never resets the clock
        assert time.monotonic() - started < 0.8
    finally:
        stop.set()
        thread.join()


def default_timeout(conn: StreamConnection) -> float | None:
    return conn.timeout


def test_default_timeout_and_per_call_override(pair: tuple[StreamConnection, socket.socket]) -> None:
    conn, peer = pair
    conn.timeout = 0.1
    assert conn.timeout == 0.1
    with pytest.raises(NetTimeoutError):
        conn.recv()
    later(0.2, lambda: peer.sendall(b"late"))
    assert conn.recv(timeout=5) == b"late"
    later(0.05, lambda: peer.sendall(b"nolimit"))
    assert conn.recv(timeout=None) == b"nolimit"
    conn.timeout = float("inf")
    assert default_timeout(conn) is None  # no limit
    with pytest.raises(NetTimeoutError):
        conn.recv(timeout=0)  # nothing there: zero means do not wait
    peer.sendall(b"now")
    time.sleep(0.05)
    assert conn.recv(timeout=0) == b"now"


def test_fast_read_path_follows_every_timeout_change(pair: tuple[StreamConnection, socket.socket]) -> None:
    # recv() skips its checks while SO_RCVTIMEO holds the default timeout: every way of
    # changing the socket's timeout, the default or the framer must be seen by it.
    conn, peer = pair
    conn.timeout = 5
    peer.sendall(b"a")
    assert conn.recv() == b"a"  # SO_RCVTIMEO now holds 5 s: the fast path from here
    conn.timeout = 0.05  # the default changed: the fast path must not wait 5 s
    with pytest.raises(NetTimeoutError):
        conn.recv()
    later(0.2, lambda: peer.sendall(b"b"))
    assert conn.recv(timeout=5) == b"b"  # an explicit timeout re-arms SO_RCVTIMEO...
    with pytest.raises(NetTimeoutError):
        conn.recv()  # ...and the next default read arms the default again
    with pytest.raises(NetTimeoutError):
        conn.recv(timeout=0.05)
    peer.sendall(b"one\ntwo\nrest")
    assert conn.recv_message(LineFramer()) == b"one"  # a framer holds "two\n" and "rest"
    assert conn.recv() == b"two\nrest"  # a plain read gets them back, in order
    conn.timeout = None
    later(0.2, lambda: peer.sendall(b"late"))
    assert conn.recv() == b"late"  # no limit: the read waits
    conn.timeout = 0.05
    with pytest.raises(NetTimeoutError):
        conn.recv(100)
    with pytest.raises(NetTimeoutError):
        conn.recv_exactly(1)


def test_fast_read_path_sees_what_a_framer_holds(pair: tuple[StreamConnection, socket.socket]) -> None:
    # A message read that re-arms SO_RCVTIMEO to the default (so recv()'s fast path
    # looks possible again) and then leaves bytes in the framer: recv() must return them.
    conn, peer = pair
    conn.timeout = 5
    peer.sendall(b"a")
    assert conn.recv(timeout=1) == b"a"  # SO_RCVTIMEO now holds 1 s, not the default
    peer.sendall(b"one\ntwo\n")
    time.sleep(0.05)  # both lines arrive in one read
    assert conn.recv_message(LineFramer()) == b"one"
    assert conn.recv() == b"two\n"  # with a stale fast path: NetTimeoutError after 5 s


@pytest.mark.parametrize(("value", "error"), [(-1, ValueError), (float("nan"), ValueError), ("1", TypeError)])
def test_bad_timeouts(pair: tuple[StreamConnection, socket.socket], value: object, error: type[Exception]) -> None:
    conn, _ = pair
    with pytest.raises(error):
        conn.recv(timeout=value)  # type: ignore[arg-type]
    with pytest.raises(error):
        conn.timeout = value  # type: ignore[assignment]
    with pytest.raises(error):
        netbasics.connect_tcp("127.0.0.1:1", connect_timeout=value)  # type: ignore[arg-type]


def test_send_timeout_when_peer_does_not_read(pair: tuple[StreamConnection, socket.socket]) -> None:
    conn, _ = pair
    started = time.monotonic()
    with pytest.raises(NetTimeoutError, match="send to"):
        conn.send_all(b"x" * 50_000_000, timeout=0.3)
    assert time.monotonic() - started < 1.5


def test_default_send_deadline_covers_the_whole_call(pair: tuple[StreamConnection, socket.socket]) -> None:
    # Large sends with the default timeout, once SO_SNDTIMEO holds it, go straight to one
    # blocking send; when that stops part-way, the rest must get only what is left.
    conn, peer = pair
    conn.timeout = 0.3
    conn.send_all(b"x" * 40_000)  # arms SO_SNDTIMEO with the default
    peer.recv(65536)
    started = time.monotonic()
    with pytest.raises(NetTimeoutError, match="send to"):
        conn.send_all(b"x" * 50_000_000)
    assert time.monotonic() - started < 1.5


# --- closing ------------------------------------------------------------------------


def test_send_to_reset_peer_is_connection_closed(pair: tuple[StreamConnection, socket.socket]) -> None:
    conn, peer = pair
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    peer.close()  # linger 0: RST
    time.sleep(0.05)

    def send_until_it_fails() -> None:
        for _ in range(10):
            conn.send_all(b"x" * 65536)

    with pytest.raises(ConnectionClosed, match="closed by peer"):
        send_until_it_fails()
    assert conn.recv() == b""  # the reset was reported once; now the stream is just over


def test_shutdown_write_and_close(pair: tuple[StreamConnection, socket.socket]) -> None:
    conn, peer = pair
    conn.send_all(b"request")
    conn.shutdown_write()
    assert peer.recv(100) == b"request"
    assert peer.recv(100) == b""  # the peer sees the end of our stream
    peer.sendall(b"reply")
    assert conn.recv() == b"reply"  # and we can still read
    local, remote = conn.local, conn.remote
    assert remote == Endpoint.from_sockaddr(peer.getsockname())
    assert local == Endpoint.from_sockaddr(peer.getpeername())
    assert repr(conn) == f"<StreamConnection {local} -> {remote}>"
    conn.close()
    conn.close()
    assert conn.closed
    assert repr(conn) == "<StreamConnection closed>"
    assert conn.fileno() == -1
    with pytest.raises(ConnectionClosed, match="closed on this side"):
        conn.recv()
    with pytest.raises(ConnectionClosed, match="closed on this side"):
        conn.send_all(b"x")


def test_options(listener: socket.socket) -> None:
    with netbasics.connect_tcp(listener.getsockname(), keepalive=True) as conn:
        sock = conn.socket
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
        assert sock.gettimeout() is None  # deadlines are SO_RCVTIMEO, not Python timeouts
    with netbasics.connect_tcp(listener.getsockname(), nodelay=False, keepalive=30) as conn:
        assert not conn.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        if hasattr(socket, "TCP_KEEPIDLE"):
            assert conn.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp_sock, pytest.raises(ValueError, match="SOCK_STREAM"):
        StreamConnection(udp_sock)


def test_wraps_socket_in_timeout_mode(listener: socket.socket) -> None:
    raw = socket.create_connection(listener.getsockname(), timeout=3)
    with StreamConnection(raw) as conn:
        assert raw.gettimeout() is None
        assert conn.timeout is None


# --- connect ------------------------------------------------------------------------


def test_connect_forms(listener: socket.socket) -> None:
    host, port = listener.getsockname()
    for target in (f"{host}:{port}", (host, port), Endpoint(host, port), ("localhost", port)):
        with netbasics.connect_tcp(target) as conn:
            assert conn.remote == Endpoint(host, port)
        listener.accept()[0].close()


def test_connect_refused_names_the_address() -> None:
    port = closed_port()
    with pytest.raises(ConnectError, match=f"127.0.0.1:{port} connection refused") as info:
        netbasics.connect_tcp(("127.0.0.1", port))
    assert info.value.errno == errno.ECONNREFUSED
    assert isinstance(info.value.__cause__, ConnectionRefusedError)


def test_connect_source(listener: socket.socket) -> None:
    with netbasics.connect_tcp(listener.getsockname(), source="127.0.0.1") as conn:
        assert str(conn.local).rpartition(":")[0] == "127.0.0.1"  # local is Endpoint | UnixAddress
    with pytest.raises(EndpointError, match="source must be an IP address"):
        netbasics.connect_tcp(listener.getsockname(), source="localhost:0")
    with pytest.raises(ConnectError, match="no IPv6 address"):
        netbasics.connect_tcp(listener.getsockname(), source="::1")


def test_connect_name_falls_back_across_families(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    dead = closed_port()
    infos = [
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", dead, 0, 0)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", dead)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
    ]

    def fake(
        host: str, port: int | None, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> list[tuple[int, int, int, str, tuple[Any, ...]]]:
        return [(f, t, p, c, (a[0], port, *tuple(a[2:]))) for f, t, p, c, a in infos]

    with pytest.raises(ConnectError, match=rf"connect to service.test:{dead} failed: \[::1\]:{dead} .*; 127.0.0.1"):
        netbasics.connect_tcp(f"service.test:{dead}", resolver=fake)

    def fixed(
        host: str, port: int | None, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> list[tuple[int, int, int, str, tuple[Any, ...]]]:
        return [(f, t, p, c, ad) for f, t, p, c, ad in infos]

    started = time.monotonic()
    with netbasics.connect_tcp(f"service.test:{port}", resolver=fixed) as conn:
        assert conn.remote == Endpoint("127.0.0.1", port)
    assert time.monotonic() - started < 0.2  # failures start the next attempt at once


def test_connect_unresolvable() -> None:
    def fail(
        host: str, port: int | None, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> list[tuple[int, int, int, str, tuple[Any, ...]]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(ResolveError):
        netbasics.connect_tcp("nothing.test:80", resolver=fail)
    with pytest.raises(ResolveError):
        port_open("nothing.test:80", resolver=fail)


def test_happy_eyeballs_staggers_past_a_silent_address(blackhole: Endpoint, listener: socket.socket) -> None:
    good = Endpoint.from_sockaddr(listener.getsockname())
    fds_before = len(os.listdir("/proc/self/fd"))
    started = time.monotonic()
    sock = open_tcp_socket([blackhole, good], target="test", timeout=5)
    elapsed = time.monotonic() - started
    try:
        assert Endpoint.from_sockaddr(sock.getpeername()) == good
        assert 0.2 <= elapsed < 1.0, elapsed  # RFC 8305: the next attempt after 250 ms
        assert len(os.listdir("/proc/self/fd")) == fds_before + 1  # the loser was closed
    finally:
        sock.close()


def test_connect_timeout_names_pending_addresses(blackhole: Endpoint) -> None:
    started = time.monotonic()
    with pytest.raises(NetTimeoutError, match=rf"timed out after 0.3 s: {blackhole} no answer"):
        netbasics.connect_tcp(blackhole, connect_timeout=0.3)
    assert time.monotonic() - started < 1.0
    assert not port_open(blackhole, timeout=0.1)


def test_interleave() -> None:
    v4 = [Endpoint("10.0.0.1", 1), Endpoint("10.0.0.2", 1)]
    v6 = [Endpoint("::1", 1), Endpoint("::2", 1), Endpoint("::3", 1)]
    assert interleave([*v6, *v4]) == [v6[0], v4[0], v6[1], v4[1], v6[2]]
    assert interleave([*v4, *v6]) == [v4[0], v6[0], v4[1], v6[1], v6[2]]
    assert interleave(v4) == v4
    assert interleave([]) == []


def test_port_open(listener: socket.socket) -> None:
    assert port_open(listener.getsockname())
    assert not port_open(("127.0.0.1", closed_port()))
    with pytest.raises(EndpointError):
        port_open("not an endpoint")


# --- socket plumbing ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "operation", "expected", "text"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "connect", ConnectError, "refused"),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "connect", ConnectError, "unreachable"),
        (OSError(errno.ETIMEDOUT, "Connection timed out"), "connect", NetTimeoutError, "timed out after 2 s"),
        (TimeoutError("timed out"), "recv from", NetTimeoutError, "timed out"),
        (BlockingIOError(errno.EAGAIN, "again"), "recv from", NetTimeoutError, "timed out after 2 s"),
        (ConnectionResetError(errno.ECONNRESET, "reset"), "recv from", PeerClosed, "closed by peer"),
        (BrokenPipeError(errno.EPIPE, "Broken pipe"), "send to", PeerClosed, "closed by peer"),
        (OSError(errno.EADDRINUSE, "Address already in use"), "bind", BindError, "in use"),
        (OSError(errno.EAFNOSUPPORT, "not supported"), "bind", BindError, "not supported"),
        (OSError(errno.EACCES, "Permission denied"), "listen", BindError, "Permission"),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "resolve", ResolveError, "not known"),
    ],
)
def test_translate_os_error(exc: OSError, operation: str, expected: type[Exception], text: str) -> None:
    err = translate_os_error(exc, operation, "1.2.3.4:5", timeout=2)
    assert type(err) is expected
    assert text in str(err)
    assert f"{operation} 1.2.3.4:5" in str(err)
    assert err.errno == exc.errno  # type: ignore[union-attr]


def test_translate_leaves_unknown_errors_and_nonblocking_eagain() -> None:
    weird = OSError(errno.EINVAL, "Invalid argument")
    assert translate_os_error(weird, "setsockopt") is weird
    eagain = BlockingIOError(errno.EAGAIN, "again")
    assert translate_os_error(eagain, "recv", timeout=0.0) is eagain
    already = ConnectError("x")
    assert translate_os_error(already, "connect") is already


def test_connect_failure_messages() -> None:
    a, b = Endpoint("10.0.0.1", 1), Endpoint("::1", 1)
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    unreachable = OSError(errno.ENETUNREACH, "Network is unreachable")
    err = connect_failure("x:1", [(a, refused), (b, unreachable)], 3)
    assert type(err) is ConnectError
    assert str(err) == "connect to x:1 failed: 10.0.0.1:1 connection refused; [::1]:1 network is unreachable"
    assert isinstance(err, ConnectError)
    assert err.attempts == ((a, refused), (b, unreachable))
    err = connect_failure("x:1", [(a, refused), (b, None)], 3)
    assert type(err) is NetTimeoutError
    assert str(err) == "connect to x:1: timed out after 3 s: 10.0.0.1:1 connection refused; [::1]:1 no answer"
    assert (err.operation, err.timeout) == ("connect to x:1", 3)
    assert connect_failure("x:1", [(a, refused)], None).errno == errno.ECONNREFUSED


def test_bind_errors_close_the_socket() -> None:
    with listen_socket(Endpoint("127.0.0.1", 0), backlog=0) as taken:
        ep = Endpoint.from_sockaddr(taken.getsockname())
        fds = len(os.listdir("/proc/self/fd"))
        with pytest.raises(BindError, match=f"bind {ep}: Address already in use") as info:
            listen_socket(ep, reuse_address=False)
        assert info.value.errno == errno.EADDRINUSE
        assert len(os.listdir("/proc/self/fd")) == fds
    with pytest.raises(BindError):
        bind_socket(Endpoint("192.0.2.1", 0), socket.SOCK_STREAM)  # not a local address


def test_set_io_timeout_rounds_up() -> None:
    with socket.socket() as sock:
        set_io_timeout(sock, socket.SO_RCVTIMEO, 1e-9)
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 16)
        assert raw != bytes(16)  # never 0, which would mean "no timeout"
        set_io_timeout(sock, socket.SO_RCVTIMEO, 0.9999999)
        set_io_timeout(sock, socket.SO_RCVTIMEO, 0)
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 16) == bytes(16)


# --- server basics (the hard cases are in test_tcp_integration.py) -------------------


def echo(conn: StreamConnection) -> None:
    for line in conn:
        conn.send_all(line + b"\n")


def is_serving(server: TCPServer) -> bool:
    return server.serving


def test_server_basics(caplog: pytest.LogCaptureFixture) -> None:
    server = TCPServer("127.0.0.1:0", echo, max_connections=4, name="unit")
    assert server.endpoint.port != 0
    assert "ready" in repr(server)
    with server:
        assert server.serving
        with netbasics.connect_tcp(server.endpoint, timeout=5) as conn:
            conn.send_all(b"hi\n")
            assert conn.recv_until() == b"hi\n"
            assert server.active_connections == 1
        with pytest.raises(RuntimeError):
            server.start()
        with pytest.raises(RuntimeError):
            server.serve_forever()
    assert "stopped" in repr(server)
    assert not is_serving(server)
    server.stop()  # idempotent
    assert not port_open(server.endpoint, timeout=0.5)


def test_server_handler_exception_is_logged_and_only_closes_that_connection(caplog: pytest.LogCaptureFixture) -> None:
    def handler(conn: StreamConnection) -> None:
        line = conn.recv_until()
        if line == b"boom\n":
            raise RuntimeError("handler bug")
        conn.send_all(line)

    with TCPServer("127.0.0.1:0", handler) as server, caplog.at_level(logging.DEBUG, logger="netbasics"):
        with netbasics.connect_tcp(server.endpoint, timeout=5) as bad:
            bad.send_all(b"boom\n")
            assert bad.recv() == b""
        with netbasics.connect_tcp(server.endpoint, timeout=5) as good:
            good.send_all(b"fine\n")
            assert good.recv_until() == b"fine\n"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "handler failed" in errors[0].getMessage()
    assert errors[0].exc_info is not None
    assert "handler bug" in str(errors[0].exc_info[1])


def test_server_bad_arguments() -> None:
    with pytest.raises(TypeError, match="handler must be callable"):
        TCPServer("127.0.0.1:0", "nope")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_connections"):
        TCPServer("127.0.0.1:0", echo, max_connections=0)
    with pytest.raises(TypeError, match=r"max_connections must be an int, got 2\.0"):
        TCPServer("127.0.0.1:0", echo, max_connections=2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="idle_timeout"):
        TCPServer("127.0.0.1:0", echo, idle_timeout="60")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="name must be"):
        TCPServer("127.0.0.1:0", echo, name=1)  # type: ignore[arg-type]
    with pytest.raises(EndpointError):
        TCPServer("127.0.0.1", echo)
    with TCPServer("127.0.0.1:0", echo) as server, pytest.raises(BindError):
        TCPServer(server.endpoint, echo, reuse_address=False)


def test_server_stop_without_start() -> None:
    fds = len(os.listdir("/proc/self/fd"))
    server = TCPServer(("localhost", 0), echo)
    assert server.endpoint.address.is_loopback
    server.stop()
    assert len(os.listdir("/proc/self/fd")) == fds


def test_happy_eyeballs_survives_a_family_the_host_lacks(
    monkeypatch: pytest.MonkeyPatch, listener: socket.socket
) -> None:
    real_socket = socket.socket

    def no_ipv6(family: int = socket.AF_INET, *args: object) -> socket.socket:
        if family == socket.AF_INET6:
            raise OSError(errno.EAFNOSUPPORT, "Address family not supported by protocol")
        return real_socket(family, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "socket", no_ipv6)  # for the duration of this test only
    good = Endpoint.from_sockaddr(listener.getsockname())
    sock = open_tcp_socket([Endpoint("::1", good.port), good], target="x", timeout=5)
    sock.close()
    with pytest.raises(ConnectError, match=r"\[::1\]:1 address family not supported"):
        open_tcp_socket([Endpoint("::1", 1)], target="x", timeout=5)


def test_plugin_free_port_and_echo_server(free_port: int, tcp_echo_server: TCPServer) -> None:
    # The fixtures of netbasics.testing, loaded through the pytest11 entry point.
    with TCPServer(("127.0.0.1", free_port), echo) as server:
        assert server.endpoint.port == free_port
    assert tcp_echo_server.endpoint.address.is_loopback
    with netbasics.connect_tcp(tcp_echo_server.endpoint, timeout=5) as conn:
        conn.send_all(b"fixture")
        assert conn.recv_exactly(7) == b"fixture"
