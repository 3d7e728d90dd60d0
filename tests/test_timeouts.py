"""Every timeout-like parameter follows one rule (netbasics._timeouts, issue 19 item 7).

``inf`` and finite values too large to wait for (``1e308``, ``2**64``) mean no deadline;
``nan`` and negative values raise a plain ``ValueError`` naming the parameter; a
``bool`` or text a ``TypeError``. The table names every public place a timeout goes in;
each entry makes one quick call (data is waiting, a server is listening) with the value.
"""

from __future__ import annotations

import io
import math
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import netbasics
from netbasics import (
    LineFramer,
    StreamConnection,
    TCPServer,
    UDPServer,
    UnixDatagramServer,
    UnixServer,
    connect_tcp,
    connect_unix,
    open_udp,
    open_unix_datagram,
    port_open,
    udp_request,
)
from netbasics._timeouts import LONGEST_WAIT, check_factor, check_timeout

NO_DEADLINE = [math.inf, 1e308, 2**64, LONGEST_WAIT * 2]
BAD_VALUES = [math.nan, -1, -0.5, -math.inf]
BAD_TYPES: list[object] = [True, "1", b"1"]


class Env:
    """One TCP server, one Unix server, one UDP echo, shared by the table's calls."""

    def __init__(self, directory: Path) -> None:
        self.tcp = TCPServer("127.0.0.1:0", lambda conn: conn.recv())
        self.tcp.start()
        self.unix_path = f"unix:{directory / 's.sock'}"
        self.unix = UnixServer(self.unix_path, lambda conn: conn.recv())
        self.unix.start()
        self.udp = UDPServer("127.0.0.1:0", lambda datagram, reply: reply(datagram.data))
        self.udp.start()

    def stream(self) -> StreamConnection:
        """A connection with 100 bytes (lines) waiting to be read."""
        a, b = socket.socketpair()
        b.sendall(b"line\n" * 20)
        b.close()
        return StreamConnection(a)

    def close(self) -> None:
        self.tcp.stop()
        self.unix.stop()
        self.udp.stop()


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    with tempfile.TemporaryDirectory() as directory:
        e = Env(Path(directory))
        try:
            yield e
        finally:
            e.close()


def _with_conn(env: Env, use: Callable[[StreamConnection], object]) -> None:
    with env.stream() as conn:
        use(conn)


def _stop(make: Callable[[], TCPServer | UnixServer | UDPServer | UnixDatagramServer], value: object) -> None:
    server = make()
    server.start()
    try:
        server.stop(value)  # type: ignore[arg-type]
    finally:
        server.stop()


def _construct(env: Env, value: object) -> None:
    with env.stream() as conn:
        StreamConnection(conn.socket, timeout=value).close()  # type: ignore[arg-type]


def _echo(message: bytes, peer: netbasics.Endpoint) -> bytes:
    return message


def _set_timeout(conn: StreamConnection, value: object) -> None:
    conn.timeout = value  # type: ignore[assignment]


def _udp_settimeout(value: object) -> None:
    with open_udp() as sock:
        sock.settimeout(value)  # type: ignore[arg-type]


Call = Callable[[Env, object, Path], object]

# (what, the parameter's name in the error, call)
TABLE: list[tuple[str, str, Call]] = [
    ("StreamConnection(timeout=)", "timeout", lambda e, v, d: _construct(e, v)),
    ("StreamConnection.timeout =", "timeout", lambda e, v, d: _with_conn(e, lambda c: _set_timeout(c, v))),
    ("recv(timeout=)", "timeout", lambda e, v, d: _with_conn(e, lambda c: c.recv(timeout=v))),  # type: ignore[arg-type]
    ("recv_exactly(timeout=)", "timeout", lambda e, v, d: _with_conn(e, lambda c: c.recv_exactly(3, timeout=v))),  # type: ignore[arg-type]
    ("recv_until(timeout=)", "timeout", lambda e, v, d: _with_conn(e, lambda c: c.recv_until(timeout=v))),  # type: ignore[arg-type]
    ("lines(timeout=)", "timeout", lambda e, v, d: _with_conn(e, lambda c: next(iter(c.lines(timeout=v))))),  # type: ignore[arg-type]
    (
        "recv_message(timeout=)",
        "timeout",
        lambda e, v, d: _with_conn(e, lambda c: c.recv_message(LineFramer(), timeout=v)),  # type: ignore[arg-type]
    ),
    (
        "messages(timeout=)",
        "timeout",
        lambda e, v, d: _with_conn(e, lambda c: next(iter(c.messages(LineFramer(), timeout=v)))),  # type: ignore[arg-type]
    ),
    (
        "recv_into(timeout=)",
        "timeout",
        lambda e, v, d: _with_conn(e, lambda c: c.recv_into(bytearray(4), timeout=v)),  # type: ignore[arg-type]
    ),
    (
        "recv_exactly_into(timeout=)",
        "timeout",
        lambda e, v, d: _with_conn(e, lambda c: c.recv_exactly_into(bytearray(4), timeout=v)),  # type: ignore[arg-type]
    ),
    ("connect_tcp(timeout=)", "timeout", lambda e, v, d: connect_tcp(e.tcp.endpoint, timeout=v).close()),  # type: ignore[arg-type]
    (
        "connect_tcp(connect_timeout=)",
        "connect_timeout",
        lambda e, v, d: connect_tcp(e.tcp.endpoint, connect_timeout=v).close(),  # type: ignore[arg-type]
    ),
    (
        "connect_tcp(attempt_delay=)",
        "attempt_delay",
        lambda e, v, d: connect_tcp(e.tcp.endpoint, attempt_delay=v).close(),  # type: ignore[arg-type]
    ),
    ("port_open(timeout=)", "timeout", lambda e, v, d: port_open(e.tcp.endpoint, timeout=v)),  # type: ignore[arg-type]
    ("connect_unix(timeout=)", "timeout", lambda e, v, d: connect_unix(e.unix_path, timeout=v).close()),  # type: ignore[arg-type]
    (
        "connect_unix(connect_timeout=)",
        "connect_timeout",
        lambda e, v, d: connect_unix(e.unix_path, connect_timeout=v).close(),  # type: ignore[arg-type]
    ),
    ("open_udp(timeout=)", "timeout", lambda e, v, d: open_udp(timeout=v).close()),  # type: ignore[arg-type]
    ("UDPSocket.settimeout()", "timeout", lambda e, v, d: _udp_settimeout(v)),
    ("open_unix_datagram(timeout=)", "timeout", lambda e, v, d: open_unix_datagram(timeout=v).close()),  # type: ignore[arg-type]
    ("udp_request(timeout=)", "timeout", lambda e, v, d: udp_request(e.udp.endpoint, b"x", timeout=v)),  # type: ignore[arg-type]
    (
        "udp_request(backoff=)",
        "backoff",
        lambda e, v, d: udp_request(e.udp.endpoint, b"x", retries=3, backoff=v),  # type: ignore[arg-type]
    ),
    (
        "TCPServer(idle_timeout=)",
        "idle_timeout",
        lambda e, v, d: TCPServer("127.0.0.1:0", lambda c: None, idle_timeout=v).stop(),  # type: ignore[arg-type]
    ),
    (
        "UnixServer(idle_timeout=)",
        "idle_timeout",
        lambda e, v, d: UnixServer(f"unix:{d / 'i.sock'}", lambda c: None, idle_timeout=v).stop(),  # type: ignore[arg-type]
    ),
    (
        "TCPServer.for_messages(idle_timeout=)",
        "idle_timeout",
        lambda e, v, d: TCPServer.for_messages(
            "127.0.0.1:0",
            _echo,
            framer=LineFramer(),
            idle_timeout=v,  # type: ignore[arg-type]
        ).stop(),
    ),
    ("TCPServer.stop()", "timeout", lambda e, v, d: _stop(lambda: TCPServer("127.0.0.1:0", lambda c: None), v)),
    ("UDPServer.stop()", "timeout", lambda e, v, d: _stop(lambda: UDPServer("127.0.0.1:0", lambda g, r: None), v)),
    (
        "UnixServer.stop()",
        "timeout",
        lambda e, v, d: _stop(lambda: UnixServer(f"unix:{d / 'x.sock'}", lambda c: None), v),
    ),
]
IDS = [what for what, _, _ in TABLE]


@pytest.mark.parametrize(("what", "name", "call"), TABLE, ids=IDS)
@pytest.mark.parametrize("value", NO_DEADLINE, ids=["inf", "1e308", "2**64", "2*LONGEST_WAIT"])
def test_huge_timeouts_mean_no_deadline(
    env: Env, tmp_path: Path, what: str, name: str, call: Call, value: object
) -> None:
    call(env, value, tmp_path)  # no OverflowError, no hang: the calls have data or a peer


@pytest.mark.parametrize(("what", "name", "call"), TABLE, ids=IDS)
@pytest.mark.parametrize("value", BAD_VALUES, ids=["nan", "-1", "-0.5", "-inf"])
def test_nan_and_negative_are_value_errors_naming_the_parameter(
    env: Env, tmp_path: Path, what: str, name: str, call: Call, value: object
) -> None:
    with pytest.raises(ValueError, match=name) as info:
        call(env, value, tmp_path)
    assert not isinstance(info.value, netbasics.NetbasicsError)


@pytest.mark.parametrize(("what", "name", "call"), TABLE, ids=IDS)
@pytest.mark.parametrize("value", BAD_TYPES, ids=["True", "str", "bytes"])
def test_non_numbers_are_type_errors(env: Env, tmp_path: Path, what: str, name: str, call: Call, value: object) -> None:
    with pytest.raises(TypeError, match=name):
        call(env, value, tmp_path)


def test_the_rule() -> None:
    assert check_timeout(None) is None
    assert check_timeout(0) == 0.0
    assert check_timeout(1.5) == 1.5
    assert check_timeout(LONGEST_WAIT) == LONGEST_WAIT
    for huge in NO_DEADLINE:
        assert check_timeout(huge) is None
    with pytest.raises(ValueError, match="wait_for must be > 0 seconds"):
        check_timeout(0, "wait_for", zero=False)
    assert check_factor(1, "backoff") == 1.0
    assert check_factor(10**400, "backoff") == LONGEST_WAIT
    with pytest.raises(ValueError, match="backoff must be >= 1"):
        check_factor(0.5, "backoff")


def test_infinite_timeouts_leave_no_deadline(env: Env) -> None:
    with env.stream() as conn:
        _set_timeout(conn, math.inf)
        assert conn.timeout is None
    with open_udp(timeout=1e308) as sock:
        assert sock.timeout is None
    with connect_tcp(env.tcp.endpoint, timeout=2**64) as conn:
        assert conn.timeout is None


def test_udp_request_with_no_deadline_still_answers_and_refusals_still_end(env: Env) -> None:
    # A reply comes: the infinite wait ends with it.
    assert udp_request(env.udp.endpoint, b"hi", timeout=math.inf).data == b"hi"
    # Nothing listening: ICMP refusals end every attempt at once, even without a deadline.
    with open_udp(bind="127.0.0.1:0") as idle:
        dead = idle.local
    done = threading.Event()
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            udp_request(dead, b"x", timeout=math.inf, retries=1)
        except BaseException as exc:
            errors.append(exc)
        done.set()

    thread = threading.Thread(target=ask, daemon=True)
    thread.start()
    assert done.wait(5)
    assert errors
    assert isinstance(errors[0], netbasics.ConnectError), errors


def test_send_file_timeout(env: Env) -> None:
    a, b = socket.socketpair()
    with StreamConnection(a) as conn, b:
        for value in NO_DEADLINE:
            assert conn.send_file(io.BytesIO(b"abc"), timeout=value) == 3
        with pytest.raises(ValueError, match="timeout"):
            conn.send_file(io.BytesIO(b"abc"), timeout=math.nan)
