"""File objects, recv_into, send_file and peer credentials on StreamConnection.

Most tests use a connected AF_UNIX socket pair (no server, no port); send_file is also
run over TCP loopback, where os.sendfile takes another path in the kernel.
"""

from __future__ import annotations

import array
import csv
import hashlib
import io
import json
import os
import pickle
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netbasics import (
    ConnectionClosed,
    LineFramer,
    NetTimeoutError,
    PeerCredentials,
    StreamConnection,
    TCPServer,
    connect_tcp,
)

SHORT = 0.05  # seconds: a timeout that is meant to pass


@pytest.fixture
def pair() -> Iterator[tuple[StreamConnection, StreamConnection]]:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    left = StreamConnection(a, timeout=5, nodelay=False)
    right = StreamConnection(b, timeout=5, nodelay=False)
    yield left, right
    left.close()
    right.close()


# --- file objects -------------------------------------------------------------------


def test_binary_file_reads_lines_and_sizes(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    left.send_all(b"one\ntwo\nthree and more")
    left.shutdown_write()
    f = right.makefile("rb")
    assert f.readline() == b"one\n"
    assert f.read(3) == b"two"
    assert f.read1(100) == b"\nthree and more"
    assert f.read() == b""
    assert f.readline() == b""


def test_file_sees_bytes_the_connection_buffered_and_back(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    left.send_all(b"head\nbody1\nbody2\ntail\n")
    assert right.recv_until(b"\n") == b"head\n"  # reads ahead into the connection's buffer
    f = right.makefile("rb")
    assert f.readline() == b"body1\n"  # the file sees what the connection buffered
    f.close()
    assert not right.closed  # closing the file leaves the connection open
    assert right.recv_until(b"\n") == b"body2\n"  # nothing was lost in a second buffer
    assert right.recv_exactly(5) == b"tail\n"


def test_text_file_with_encoding(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    writer = left.makefile("w", encoding="latin-1")
    writer.write("café\nnaïve\n")
    writer.flush()
    reader = right.makefile("r", encoding="latin-1")
    assert reader.readline() == "café\n"
    assert reader.readline() == "naïve\n"
    with pytest.raises(ValueError, match="reads or writes, not both"):
        right.makefile("rw")


def test_json_csv_and_pickle_over_a_connection(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    out = left.makefile("w")
    json.dump({"a": [1, 2, 3]}, out)
    out.close()
    csv_out = left.makefile("w", newline="")
    csv.writer(csv_out).writerows([["x", "y"], ["1", "2"]])
    csv_out.close()
    with left.makefile("wb") as binary:
        pickle.dump({"k": b"v"}, binary)
    left.shutdown_write()
    assert not left.closed
    raw = right.makefile("rb")
    assert json.loads(raw.read(len('{"a": [1, 2, 3]}'))) == {"a": [1, 2, 3]}
    assert raw.readline() == b"x,y\r\n"
    assert raw.readline() == b"1,2\r\n"
    assert pickle.load(raw) == {"k": b"v"}


def test_json_load_reads_to_the_end(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    left.send_all(b'{"hello": "world"}')
    left.shutdown_write()
    assert json.load(right.makefile("r")) == {"hello": "world"}


def test_read_timeout_raises_and_file_stays_usable(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    right.timeout = SHORT
    f = right.makefile("rb")
    left.send_all(b"par")
    with pytest.raises(NetTimeoutError):
        f.readline()
    left.send_all(b"tial\n")
    assert f.readline() == b"partial\n"  # what arrived before the timeout was kept
    text = right.makefile("r")
    with pytest.raises(TimeoutError):  # NetTimeoutError is a TimeoutError
        text.readline()
    left.send_all(b"next\n")
    assert text.readline() == "next\n"


def test_write_buffering_and_unbuffered(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    f = left.makefile("wb")
    f.write(b"held")
    with pytest.raises(NetTimeoutError):
        right.recv(timeout=SHORT)  # not sent until flushed
    f.flush()
    assert right.recv() == b"held"
    g = left.makefile("wb", buffering=0)
    g.write(b"now")
    assert right.recv() == b"now"
    big = left.makefile("wb")
    big.write(b"x" * 70000)  # over the 64 KiB write buffer: sent without flush
    assert right.recv_exactly(70000) == b"x" * 70000


def test_close_connection_option(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    with left.makefile("wb", close_connection=True) as f:
        f.write(b"bye")
    assert left.closed
    assert right.recv() == b"bye"
    assert right.recv() == b""


def test_makefile_arguments(pair: tuple[StreamConnection, StreamConnection]) -> None:
    _, right = pair
    for mode in ("", "x", "rr", "b", "rt"):
        with pytest.raises(ValueError, match="mode must be"):
            right.makefile(mode)
    with pytest.raises(TypeError):
        right.makefile(1)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="text mode"):
        right.makefile("rb", encoding="utf-8")
    with pytest.raises(ValueError, match="buffering"):
        right.makefile("r", buffering=0)
    f = right.makefile("rb")
    assert f.readable()
    assert not f.writable()
    assert not f.seekable()
    assert f.fileno() == right.fileno()
    with pytest.raises(io.UnsupportedOperation):
        f.write(b"x")
    f.close()
    with pytest.raises(ValueError, match="closed file"):
        f.read()


def test_readline_limit(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    left.send_all(b"abcdef\n")
    f = right.makefile("rb")
    assert f.readline(4) == b"abcd"
    assert f.readline() == b"ef\n"


# --- recv_into ----------------------------------------------------------------------


def test_recv_into(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    buf = bytearray(10)
    left.send_all(b"hello")
    assert right.recv_into(buf) == 5
    assert buf[:5] == b"hello"
    left.send_all(b"abcdef")
    assert right.recv_into(buf, 2) == 2
    assert buf[:2] == b"ab"
    view = memoryview(buf)[5:]
    assert right.recv_into(view) == 4
    assert buf[5:9] == b"cdef"
    with pytest.raises(NetTimeoutError):
        right.recv_into(buf, timeout=SHORT)
    left.shutdown_write()
    assert right.recv_into(buf) == 0


def test_recv_into_takes_buffered_bytes_first(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    left.send_all(b"line\nrest")
    assert right.recv_until(b"\n") == b"line\n"
    buf = bytearray(100)
    n = right.recv_into(buf)
    assert buf[:n] == b"rest"


def test_recv_into_arguments(pair: tuple[StreamConnection, StreamConnection]) -> None:
    _, right = pair
    with pytest.raises(TypeError, match="writable"):
        right.recv_into(b"read-only")
    with pytest.raises(TypeError):
        right.recv_into("text")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="larger than the buffer"):
        right.recv_into(bytearray(4), 5)
    with pytest.raises(ValueError, match="nbytes"):
        right.recv_into(bytearray(4), -1)
    with pytest.raises(TypeError, match="nbytes must be an int"):
        right.recv_into(bytearray(4), "2")  # type: ignore[arg-type]


def test_recv_exactly_into(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    numbers = array.array("i", [0] * 4)  # any writable buffer, cast to bytes
    payload = array.array("i", [1, 2, 3, 4]).tobytes()

    def send_slowly() -> None:
        for i in range(0, 16, 3):
            left.send_all(payload[i : i + 3])

    sender = threading.Thread(target=send_slowly)
    sender.start()
    right.recv_exactly_into(numbers)
    sender.join()
    assert list(numbers) == [1, 2, 3, 4]


def test_recv_exactly_into_timeout_keeps_bytes(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    buf = bytearray(8)
    left.send_all(b"1234")
    with pytest.raises(NetTimeoutError):
        right.recv_exactly_into(buf, timeout=SHORT)
    left.send_all(b"5678")
    right.recv_exactly_into(buf)  # the four bytes from before the timeout were kept
    assert buf == b"12345678"


def test_recv_exactly_into_closed_gives_partial(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    left.send_all(b"abc")
    left.close()
    with pytest.raises(ConnectionClosed, match="after 3 of 8 bytes") as info:
        right.recv_exactly_into(bytearray(8))
    assert info.value.partial == b"abc"


# --- send_file ----------------------------------------------------------------------


def _digest_server() -> TCPServer:
    def handler(conn: StreamConnection) -> None:
        h = hashlib.sha256()
        buf = bytearray(1 << 16)
        total = 0
        while n := conn.recv_into(buf):
            h.update(memoryview(buf)[:n])
            total += n
        conn.send_all(f"{total} {h.hexdigest()}".encode())

    return TCPServer("127.0.0.1:0", handler, idle_timeout=10)


def _send(server: TCPServer, action: Callable[[StreamConnection], int]) -> tuple[int, str]:
    with connect_tcp(server.endpoint, timeout=10) as conn:
        sent = action(conn)
        conn.shutdown_write()
        answer = conn.recv(200)
        size, digest = answer.decode().split()
        assert int(size) == sent
        return sent, digest


@pytest.fixture(scope="module")
def ten_mb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("send_file") / "ten.bin"
    path.write_bytes(os.urandom(10 * 1024 * 1024 + 123))
    return path


def test_send_file_10_mb_intact(ten_mb: Path) -> None:
    data = ten_mb.read_bytes()
    with _digest_server() as server, ten_mb.open("rb") as f:
        sent, digest = _send(server, lambda conn: conn.send_file(f))
        assert sent == len(data)
        assert digest == hashlib.sha256(data).hexdigest()
        assert f.tell() == len(data)  # left after the last byte sent, as socket.sendfile does


def test_send_file_offset_and_count(ten_mb: Path) -> None:
    data = ten_mb.read_bytes()
    with _digest_server() as server, ten_mb.open("rb") as f:
        sent, digest = _send(server, lambda conn: conn.send_file(f, offset=1000, count=5_000_000))
        assert sent == 5_000_000
        assert digest == hashlib.sha256(data[1000:5_001_000]).hexdigest()
        assert f.tell() == 5_001_000
        sent, digest = _send(server, lambda conn: conn.send_file(f, offset=len(data) - 10))
        assert digest == hashlib.sha256(data[-10:]).hexdigest()
        sent, _ = _send(server, lambda conn: conn.send_file(f, offset=len(data) + 5))
        assert sent == 0


def test_send_file_fallback_without_descriptor() -> None:
    data = os.urandom(1_000_003)
    with _digest_server() as server:
        f = io.BytesIO(data)
        _, digest = _send(server, lambda conn: conn.send_file(f, offset=3))
        assert digest == hashlib.sha256(data[3:]).hexdigest()
        assert f.tell() == len(data)


def test_send_file_over_unix_pair(ten_mb: Path, pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    data = ten_mb.read_bytes()[:3_000_000]
    received = bytearray()

    def read_all() -> None:
        buf = bytearray(1 << 16)
        while n := right.recv_into(buf):
            received.extend(buf[:n])

    reader = threading.Thread(target=read_all)
    reader.start()
    with ten_mb.open("rb") as f:
        assert left.send_file(f, count=len(data)) == len(data)
    left.shutdown_write()
    reader.join(10)
    assert bytes(received) == data


def test_send_file_timeout(ten_mb: Path, pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, _ = pair  # nobody reads the other end: the socket buffer fills up
    with ten_mb.open("rb") as f, pytest.raises(NetTimeoutError):
        left.send_file(f, timeout=SHORT)


def test_send_file_arguments(pair: tuple[StreamConnection, StreamConnection], tmp_path: Path) -> None:
    left, _ = pair
    text = tmp_path / "t.txt"
    text.write_text("hi")
    with text.open() as f, pytest.raises(TypeError, match="binary"):
        left.send_file(f)
    with pytest.raises(ValueError, match="offset"):
        left.send_file(io.BytesIO(b""), offset=-1)
    with pytest.raises(ValueError, match="count"):
        left.send_file(io.BytesIO(b""), count=-1)
    with pytest.raises(TypeError, match="offset must be an int"):
        left.send_file(io.BytesIO(b""), offset=1.5)  # type: ignore[arg-type]


# --- peer credentials ---------------------------------------------------------------


def test_peer_credentials(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, _ = pair
    creds = left.peer_credentials
    assert creds == PeerCredentials(os.getpid(), os.geteuid(), os.getegid())


def test_peer_credentials_of_tcp_is_an_error() -> None:
    with (
        TCPServer("127.0.0.1:0", lambda conn: None) as server,
        connect_tcp(server.endpoint, timeout=5) as conn,
        pytest.raises(ValueError, match="only for Unix domain sockets"),
    ):
        conn.peer_credentials  # noqa: B018


# --- one buffer: any mix of reads sees every byte once, in order -----------------------

_OPS = st.lists(
    st.sampled_from(
        [
            "recv",
            "recv_until",
            "recv_exactly",
            "recv_into",
            "recv_exactly_into",
            "recv_message",
            "file_readline",
            "file_readline_limited",
            "file_read",
            "file_read1",
        ]
    ),
    min_size=1,
    max_size=30,
)


@given(data=st.binary(max_size=3000).map(lambda b: b.replace(b"\0", b"\n")), ops=_OPS, size=st.integers(1, 97))
def test_any_mix_of_reads_sees_each_byte_once(data: bytes, ops: list[str], size: int) -> None:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with StreamConnection(a, timeout=5, nodelay=False) as left, StreamConnection(b, timeout=5, nodelay=False) as right:
        left.send_all(data)
        left.shutdown_write()
        f = right.makefile("rb")
        lines = LineFramer(max_size=10_000)  # its messages and its partial line go back to plain reads
        got = bytearray()
        for op in ops:
            if op == "recv":
                got += right.recv(size)
            elif op == "recv_until":
                try:
                    got += right.recv_until(b"\n", max_size=10_000)
                except ConnectionClosed as exc:
                    got += exc.partial
            elif op == "recv_exactly":
                try:
                    got += right.recv_exactly(size)
                except ConnectionClosed as exc:
                    got += exc.partial
            elif op == "recv_into":
                buf = bytearray(size)
                got += buf[: right.recv_into(buf)]
            elif op == "recv_exactly_into":
                buf = bytearray(size)
                try:
                    right.recv_exactly_into(buf)
                    got += buf
                except ConnectionClosed as exc:
                    got += exc.partial
            elif op == "recv_message":
                try:
                    got += right.recv_message(lines) + b"\n"
                except ConnectionClosed as exc:
                    got += exc.partial
            elif op == "file_readline":
                got += f.readline()
            elif op == "file_readline_limited":
                got += f.readline(size)
            elif op == "file_read":
                got += f.read(size)
            else:
                got += f.read1(size)
        got += f.read()  # the rest, through the file
        assert bytes(got) == data


# --- smaller paths -------------------------------------------------------------------


def test_file_objects_edges(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    with pytest.raises(TypeError, match="buffering"):
        right.makefile("rb", buffering="big")  # type: ignore[call-overload]
    w = left.makefile("wb")
    assert w.name.startswith("<connection fd ")  # type: ignore[attr-defined]
    with pytest.raises(io.UnsupportedOperation):
        w.read()
    with pytest.raises(io.UnsupportedOperation):
        w.detach()
    w.close()
    w.flush()  # flushing a closed file is a no-op, as for any file
    with pytest.raises(ValueError, match="closed file"):
        w.write(b"x")
    left.send_all(b"line one\nrest")
    r = right.makefile("rb")
    buf = array.array("H", [0, 0])  # 4 bytes in 2-byte items
    assert r.readinto(buf) == 4
    assert buf.tobytes() == b"line"
    view = bytearray(3)
    assert r.readinto1(view) == 3
    assert bytes(view) == b" on"
    assert r.readline(2) == b"e\n"
    right.timeout = None  # no deadline: reads wait as long as it takes
    left.shutdown_write()
    assert r.read() == b"rest"


def test_dropped_file_is_flushed_without_raising(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    w = left.makefile("wb")
    w.write(b"flushed by the finalizer")
    del w
    assert right.recv() == b"flushed by the finalizer"
    w = left.makefile("wb")
    w.write(b"never sent")
    right.close()
    left.close()
    del w  # the finalizer has nobody to report a closed connection to


def test_recv_timeouts_and_no_deadline(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    buf = bytearray(4)
    left.send_all(b"ab")
    right.recv_exactly_into(memoryview(buf)[:2], timeout=None)
    assert buf[:2] == b"ab"
    with pytest.raises(NetTimeoutError):
        right.recv_exactly_into(buf, timeout=0)
    assert right.recv_into(bytearray(0)) == 0


def test_send_file_copy_path_edges(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    data = b"0123456789" * 1000

    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self._src = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, b: memoryview) -> int:  # type: ignore[override]
            return self._src.readinto(b)

    assert left.send_file(Unseekable(), timeout=None) == len(data)
    assert right.recv_exactly(len(data)) == data
    with pytest.raises(ValueError, match="needs a seekable file"):
        left.send_file(Unseekable(), offset=5)

    class NoReadinto(io.IOBase):
        def seekable(self) -> bool:
            return False

    with pytest.raises(TypeError, match="readinto"):
        left.send_file(NoReadinto())
    assert left.send_file(io.BytesIO(data), count=100, timeout=0) == 100
    assert right.recv_exactly(100) == data[:100]


# --- one set of timeout-arming rules ------------------------------------------------


def test_zero_timeout_send_file_sends_what_fits_in_one_step(
    pair: tuple[StreamConnection, StreamConnection], tmp_path: Path, ten_mb: Path
) -> None:
    left, right = pair
    small = tmp_path / "small.bin"
    small.write_bytes(b"fits in the socket buffer")
    with small.open("rb") as f:
        # The file's size is known, so no step asks sendfile for more at its end: the
        # one step a zero timeout allows sends it all.
        assert left.send_file(f, timeout=0) == len(b"fits in the socket buffer")
    assert right.recv() == b"fits in the socket buffer"
    with ten_mb.open("rb") as f, pytest.raises(NetTimeoutError):
        left.send_file(f, timeout=0)  # nobody reads: what fits goes, then no time is left


def test_a_pipe_is_sent_to_its_end(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, right = pair
    r, w = os.pipe()
    with os.fdopen(r, "rb") as source:
        os.write(w, b"from a pipe")
        os.close(w)  # a pipe has no size to stop at: sent until its end (by sendfile or a copy)
        assert left.send_file(source) == len(b"from a pipe")
    assert right.recv_exactly(len(b"from a pipe")) == b"from a pipe"


def test_arm_rules_for_reads_and_writes(pair: tuple[StreamConnection, StreamConnection]) -> None:
    left, _ = pair
    rcv, snd = socket.SO_RCVTIMEO, socket.SO_SNDTIMEO
    for option in (rcv, snd):
        left._arm(option, 2.0, 0.0, True)  # the first step takes the whole timeout
        left._arm(option, None, 0.0, False)  # no limit at any step
        left._arm(option, 0, 0.0, True)  # zero: the kernel's least wait
    assert (left._rcvtimeo, left._sndtimeo) == (1e-6, 1e-6)
    start = time.monotonic()
    left._arm(rcv, 30.0, start, False)
    assert 0 < left._rcvtimeo <= 30.0  # a later step: what is left
    with pytest.raises(NetTimeoutError, match=r"recv from .* after 0 s"):
        left._arm(rcv, 0, start, False)
    with pytest.raises(NetTimeoutError, match=r"send to .* after 1 s"):
        left._arm(snd, 1.0, start - 2.0, False)
    # Arming SO_RCVTIMEO away from the default timeout turns recv()'s fast path off, and
    # a default read arms the default again (so a read does not wait 30 s here).
    left.timeout = SHORT
    left._arm(rcv, 30.0, time.monotonic(), True)
    with pytest.raises(NetTimeoutError):
        left.recv()
    assert left._rcvtimeo == SHORT


@pytest.mark.parametrize("buffering", [None, 0], ids=["buffered", "unbuffered"])
def test_file_write_after_a_timeout_sends_each_byte_once(buffering: int | None) -> None:
    # Issue 19 item 3: after a write timeout, the next write raised BufferError (a view of
    # the file's buffer outlived the error), and once that view was gone, flush() sent
    # again bytes that had already gone out. Now the file goes on from where the
    # connection stands: the peer receives each accepted byte exactly once, in order.
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    left = StreamConnection(a, timeout=SHORT, nodelay=False)
    received = bytearray()
    reader = threading.Thread(target=lambda: _read_to_end(b, received), daemon=True)
    try:
        f = left.makefile("wb", buffering=buffering)
        accepted: list[bytes] = []  # every write() that returned or raised took its data
        for i in range(1000):
            data = b"%08d" % i * 2048  # 16 KiB, numbered: a byte sent twice shows
            accepted.append(data)
            try:
                f.write(data)
            except NetTimeoutError:
                break
        else:
            pytest.fail("the peer never stopped the writes")
        # The peer still reads nothing: the unsent bytes wait in the file (an unbuffered
        # write tries them first, and times out again; a buffered one collects).
        if buffering == 0:
            with pytest.raises(NetTimeoutError) as info:
                f.write(b"more")
        else:
            f.write(b"more")
        accepted.append(b"more")
        with pytest.raises(NetTimeoutError) as info:
            f.flush()
        assert info.value is not None  # kept alive: no view of a buffer may live in it
        left.timeout = 5
        reader.start()
        f.write(b"last")
        accepted.append(b"last")
        f.flush()
        f.close()
        left.shutdown_write()
        reader.join(10)
        assert bytes(received) == b"".join(accepted)
    finally:
        left.close()
        b.close()
        if reader.is_alive():
            reader.join(10)


def _read_to_end(sock: socket.socket, into: bytearray) -> None:
    while chunk := sock.recv(65536):
        into += chunk


def test_send_all_timeout_leaves_no_view_of_the_callers_buffer() -> None:
    # The root of issue 19 item 3: the error of a timed-out send_all kept a view of the
    # caller's bytearray alive (a traceback cycle), so resizing it raised BufferError
    # until the garbage collector ran.
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    conn = StreamConnection(a, timeout=SHORT, nodelay=False)
    try:
        data = bytearray(1 << 20)
        with pytest.raises(NetTimeoutError) as info:
            conn.send_all(data)
        data += b"resizable"  # BufferError while a view lived
        assert info.value is not None
    finally:
        conn.close()
        b.close()
