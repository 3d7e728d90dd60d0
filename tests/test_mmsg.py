"""Tests for netbasics._io.mmsg: recvmmsg/sendmmsg through ctypes, on loopback (127.0.0.1, ::1).

The struct layout is checked against the C ABI sizes, socket-address decoding against
what the socket module itself returns, and Receiver/Sender against real sockets:
truncation reported with the real size, order kept across several sendmmsg calls, and
a refused datagram reported and skipped without losing the ones after it.
"""

from __future__ import annotations

import ctypes
import errno
import socket
import struct
import sys
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netbasics._io import mmsg as _mmsg

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="recvmmsg/sendmmsg are Linux calls")

LOOPBACK = {4: "127.0.0.1", 6: "::1"}
AF = {4: socket.AF_INET, 6: socket.AF_INET6}


@pytest.fixture
def pair(family: int) -> Iterator[tuple[socket.socket, socket.socket]]:
    """(server, client): two bound UDP sockets on loopback; the client has a 2 s timeout."""
    with socket.socket(AF[family], socket.SOCK_DGRAM) as server, socket.socket(AF[family], socket.SOCK_DGRAM) as client:
        server.bind((LOOPBACK[family], 0))
        client.bind((LOOPBACK[family], 0))
        client.settimeout(2.0)
        yield server, client


def _received(rx: _mmsg.Receiver, got: int) -> list[tuple[int, bytes, bytes]]:
    """(length, data, raw sender address) of each received datagram."""
    out = []
    for i in range(got):
        length = rx.u32[rx.len_index[i]]
        start = rx.offsets[i]
        namelen = rx.u32[rx.namelen_index[i]]
        name = rx.names[rx.name_offsets[i] : rx.name_offsets[i] + namelen]
        out.append((length, rx.data[start : start + length], name))
    return out


def test_available_here_and_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(_mmsg.ENV_SWITCH, raising=False)
    assert _mmsg.available()  # glibc and musl have had both calls for over a decade
    for off in ("1", "yes"):
        monkeypatch.setenv(_mmsg.ENV_SWITCH, off)
        assert not _mmsg.available()
    monkeypatch.setenv(_mmsg.ENV_SWITCH, "0")
    assert _mmsg.available()


def test_struct_layout_follows_the_c_abi() -> None:
    word = ctypes.sizeof(ctypes.c_void_p)
    assert ctypes.sizeof(_mmsg._IOVec) == 2 * word
    # msghdr: name, namelen (padded to a word), iov, iovlen, control, controllen, flags (padded).
    assert ctypes.sizeof(_mmsg._MsgHdr) == 7 * word
    assert _mmsg._MsgHdr.msg_iov.offset == 2 * word
    assert _mmsg._MsgHdr.msg_flags.offset == 6 * word
    assert _mmsg._MMsgHdr.msg_len.offset == 7 * word
    assert ctypes.sizeof(_mmsg._MMsgHdr) == 8 * word


def test_decode_sockaddr_matches_the_socket_module(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    rx = _mmsg.Receiver(4, 100)
    client.sendto(b"a", server.getsockname())
    expected = server.recvfrom(100)[1]  # the socket module's own decoding
    client.sendto(b"b", server.getsockname())
    assert rx.receive(server.fileno()) == 1
    [(length, data, name)] = _received(rx, 1)
    assert (length, data) == (1, b"b")
    assert _mmsg.decode_sockaddr(name) == expected


@given(st.binary(min_size=16, max_size=16), st.integers(0, 65535), st.integers(0, 0xFFFFF))
def test_decode_sockaddr_in6_fields(address: bytes, port: int, flowinfo: int) -> None:
    raw = struct.pack("=H", socket.AF_INET6) + struct.pack("!HI", port, flowinfo) + address + struct.pack("=I", 0)
    assert _mmsg.decode_sockaddr(raw) == (socket.inet_ntop(socket.AF_INET6, address), port, flowinfo, 0)


def test_decode_sockaddr_in6_with_scope() -> None:
    raw = (
        struct.pack("=H", socket.AF_INET6)
        + struct.pack("!HI", 5353, 0)
        + socket.inet_pton(socket.AF_INET6, "fe80::1")
        + struct.pack("=I", 1)
    )
    host, port, flowinfo, scope_id = _mmsg.decode_sockaddr(raw)  # type: ignore[misc]
    assert host.startswith("fe80::1%")  # interface 1 by name (getnameinfo), or its number
    assert (port, flowinfo, scope_id) == (5353, 0, 1)


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x00\x00", struct.pack("=H", socket.AF_INET) + b"\x00\x01", struct.pack("=H", socket.AF_UNIX) + bytes(30)],
    ids=["empty", "unspec", "short-inet", "unix"],
)
def test_decode_sockaddr_rejects_other_addresses(raw: bytes) -> None:
    with pytest.raises(ValueError, match="not an IPv4 or IPv6 socket address"):
        _mmsg.decode_sockaddr(raw)


def test_receive_batch_reports_real_size_of_cut_datagrams(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    rx = _mmsg.Receiver(8, 101)  # as UDPServer(max_datagram=100) uses it
    sizes = [0, 100, 101, 5000, 7]
    for i, size in enumerate(sizes):
        client.sendto(bytes([65 + i]) * size, server.getsockname())
    got = rx.receive(server.fileno())
    assert got == len(sizes)  # MSG_WAITFORONE: everything queued, in one call
    for (length, data, name), (i, size) in zip(_received(rx, got), enumerate(sizes), strict=True):
        assert length == size  # the real size, even beyond the buffer (MSG_TRUNC)
        assert data[: min(size, 101)] == bytes([65 + i]) * min(size, 101)
        assert _mmsg.decode_sockaddr(name)[1] == client.getsockname()[1]


def test_receive_takes_at_most_count(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    rx = _mmsg.Receiver(3, 10)
    for i in range(5):
        client.sendto(b"%d" % i, server.getsockname())
    first = rx.receive(server.fileno())
    assert [d for _, d, _ in _received(rx, first)] == [b"0", b"1", b"2"]
    second = rx.receive(server.fileno())
    assert [d for _, d, _ in _received(rx, second)] == [b"3", b"4"]


def test_receive_raises_errno_subclasses() -> None:
    rx = _mmsg.Receiver(2, 10)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        with pytest.raises(BlockingIOError):  # EAGAIN: nothing queued on a non-blocking socket
            rx.receive(sock.fileno())
    with pytest.raises(OSError, match="Bad file descriptor") as info:
        rx.receive(-1)
    assert info.value.errno == errno.EBADF


def test_send_keeps_order_across_several_calls(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    tx = _mmsg.Sender(4, 3000)  # 4 per call, 3,000 bytes per call: both limits are crossed
    to = _raw_name(client)
    items = [(bytes([i]) * (1000 if i % 3 == 0 else 10), to) for i in range(11)]
    failures: list[OSError] = []
    tx.send(server.fileno(), items, lambda _d, _n, exc: failures.append(exc))
    assert failures == []
    assert [client.recvfrom(2000)[0] for _ in items] == [data for data, _ in items]


def test_send_skips_a_refused_datagram_and_sends_the_rest(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    tx = _mmsg.Sender(8, 1 << 16)
    to = _raw_name(client)
    wrong = struct.pack("=H", socket.AF_UNIX) + bytes(14)  # not an address this socket can send to
    failures: list[tuple[bytes, bytes, OSError]] = []
    items = [(b"one", to), (b"lost", wrong), (b"two", to), (b"three", to)]
    tx.send(server.fileno(), items, lambda d, n, exc: failures.append((d, n, exc)))
    assert [client.recvfrom(100)[0] for _ in range(3)] == [b"one", b"two", b"three"]
    assert len(failures) == 1
    assert failures[0][:2] == (b"lost", wrong)
    assert failures[0][2].errno in (errno.EAFNOSUPPORT, errno.EINVAL)


def test_send_retries_past_a_pending_icmp_error() -> None:
    # With IP_RECVERR, an ICMP port unreachable for an earlier datagram leaves an error on
    # the socket; the next send reports it (ECONNREFUSED) instead of sending, and clears it.
    IP_RECVERR = 11  # <linux/in.h>
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as closed,
    ):
        server.bind(("127.0.0.1", 0))
        server.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        client.bind(("127.0.0.1", 0))
        client.settimeout(2.0)
        closed.bind(("127.0.0.1", 0))
        nobody = closed.getsockname()
        closed.close()
        server.sendto(b"anyone?", nobody)
        if server.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != errno.ECONNREFUSED:  # pragma: no cover
            pytest.skip("no pending ICMP error to retry past on this kernel")
        server.sendto(b"anyone?", nobody)  # SO_ERROR above cleared it: leave one pending
        failures: list[OSError] = []
        _mmsg.Sender(4, 1 << 16).send(
            server.fileno(),
            [(b"a", _raw_name(client)), (b"b", _raw_name(client))],
            lambda _d, _n, exc: failures.append(exc),
        )
        assert failures == []
        assert [client.recvfrom(10)[0] for _ in range(2)] == [b"a", b"b"]


def _raw_name(sock: socket.socket) -> bytes:
    """The raw sockaddr of ``sock``'s local address, as recvmmsg would report it."""
    host, port = sock.getsockname()[:2]
    if sock.family == socket.AF_INET:
        return (
            struct.pack("=H", socket.AF_INET)
            + struct.pack("!H", port)
            + socket.inet_pton(socket.AF_INET, host)
            + bytes(8)
        )
    packed = socket.inet_pton(socket.AF_INET6, host)
    return struct.pack("=H", socket.AF_INET6) + struct.pack("!HI", port, 0) + packed + struct.pack("=I", 0)


def test_raw_name_helper_round_trips(pair: tuple[socket.socket, socket.socket]) -> None:
    _server, client = pair
    assert _mmsg.decode_sockaddr(_raw_name(client))[:2] == client.getsockname()[:2]
