"""Unit tests for netbasics.udp: size limits, value types, argument checks, error translation.

Nothing here sends a datagram: sockets are created but checks must fire before any
system call, which the tests prove by using sockets that are already closed (a send on
one would fail with EBADF, an ``OSError``, not the netbasics error expected).
Traffic on loopback lives in test_udp_integration.py.
"""

from __future__ import annotations

import errno
import pickle
import socket
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import netbasics
from netbasics import udp
from netbasics._io.datagram_engine import DatagramEngine
from netbasics._io.datagrams import TRUNC_FLAGS, oversized_received
from netbasics._io.peers import InetPeers
from netbasics._io.server_core import ServerCore
from netbasics.addresses import IPv4Address, IPv6Address
from netbasics.endpoints import Endpoint, EndpointLike, parse_endpoint
from netbasics.errors import (
    AddressError,
    ConnectError,
    DatagramTooLarge,
    EndpointError,
    NetTimeoutError,
)
from netbasics.safety import UnsafeDestination
from netbasics.udp import MAX_UDP_PAYLOAD_IPV4, MAX_UDP_PAYLOAD_IPV6, Datagram, UDPServer, UDPSocket


@pytest.fixture
def closed_v4() -> UDPSocket:
    """An IPv4 UDPSocket whose OS socket is already closed: any system call on it fails."""
    sock = netbasics.open_udp(family=4)
    sock.close()
    return sock


@pytest.fixture
def closed_v6() -> UDPSocket:
    sock = netbasics.open_udp(family=6)
    sock.close()
    return sock


# -- constants --------------------------------------------------------------------------


def test_payload_limits_follow_from_the_headers() -> None:
    # IPv4: 16-bit total length includes the 20-byte IP header and the 8-byte UDP header.
    assert MAX_UDP_PAYLOAD_IPV4 == 0xFFFF - 20 - 8 == 65507
    # IPv6: the 16-bit payload length excludes the 40-byte IPv6 header; UDP's 8 remain.
    assert MAX_UDP_PAYLOAD_IPV6 == 0xFFFF - 8 == 65527
    assert netbasics.MAX_UDP_PAYLOAD_IPV4 is MAX_UDP_PAYLOAD_IPV4
    assert netbasics.MAX_UDP_PAYLOAD_IPV6 is MAX_UDP_PAYLOAD_IPV6
    assert udp.DEFAULT_MAX_DATAGRAM == 65535


def test_public_names() -> None:

    for name in ("UDPSocket", "Datagram", "UDPServer", "MAX_UDP_PAYLOAD_IPV4", "MAX_UDP_PAYLOAD_IPV6"):
        assert name in netbasics.__all__
    for cls in (netbasics.UDPSocket, netbasics.Datagram, netbasics.UDPServer):
        assert cls.__module__ == "netbasics"
    assert callable(netbasics.open_udp)
    assert callable(netbasics.udp_request)


def test_multicast_interface_does_not_shadow_the_public_interface() -> None:
    # udp's multicast selector is MulticastInterface; Interface is only netbasics.Interface.
    assert "MulticastInterface" in udp.__all__
    assert "Interface" not in udp.__all__
    assert not hasattr(udp, "Interface")


# -- size checks before the system call ---------------------------------------------------


@pytest.mark.parametrize(
    ("target", "limit"),
    [
        (Endpoint("127.0.0.1", 9), MAX_UDP_PAYLOAD_IPV4),
        ("192.0.2.1:9", MAX_UDP_PAYLOAD_IPV4),
        (("198.51.100.7", 53), MAX_UDP_PAYLOAD_IPV4),
    ],
)
def test_oversized_send_v4_raises_before_syscall(closed_v4: UDPSocket, target: EndpointLike, limit: int) -> None:
    with pytest.raises(DatagramTooLarge, match=rf"{limit + 1} bytes .* \({limit} bytes\)"):
        closed_v4.send_to(b"x" * (limit + 1), target)
    # At the limit the size check passes and the (closed) socket is reached: proof that
    # the check above ran first.
    with pytest.raises(netbasics.ClosedLocally, match="UDP socket was closed on this side"):
        closed_v4.send_to(b"x" * limit, target)


def test_oversized_send_v6_limits(closed_v6: UDPSocket) -> None:
    with pytest.raises(DatagramTooLarge, match=r"65528 bytes to \[::1\]:9 .*IPv6.*65527"):
        closed_v6.send_to(b"x" * (MAX_UDP_PAYLOAD_IPV6 + 1), "[::1]:9")
    with pytest.raises(netbasics.ClosedLocally):
        closed_v6.send_to(b"x" * MAX_UDP_PAYLOAD_IPV6, "[::1]:9")
    # An IPv4-mapped destination is IPv4 on the wire: the IPv4 limit applies.
    with pytest.raises(DatagramTooLarge, match="IPv4"):
        closed_v6.send_to(b"x" * (MAX_UDP_PAYLOAD_IPV4 + 1), "[::ffff:127.0.0.1]:9")
    # An IPv4 target on an IPv6 socket is sent IPv4-mapped, with the IPv4 limit.
    with pytest.raises(DatagramTooLarge, match="IPv4"):
        closed_v6.send_to(b"x" * (MAX_UDP_PAYLOAD_IPV4 + 1), "127.0.0.1:9")


def test_datagram_too_large_is_a_value_error(closed_v4: UDPSocket) -> None:
    with pytest.raises(ValueError, match="larger than UDP over IPv4 can carry"):
        closed_v4.send_to(bytearray(70000), "127.0.0.1:9")
    with pytest.raises(ValueError, match="70000 bytes"):
        closed_v4.send_to(memoryview(bytes(70000)), "127.0.0.1:9")


def test_send_rejects_non_bytes(closed_v4: UDPSocket) -> None:
    with pytest.raises(TypeError, match="bytes-like"):
        closed_v4.send_to("text", "127.0.0.1:9")  # type: ignore[arg-type]


def test_broadcast_needs_opt_in_before_syscall(closed_v4: UDPSocket) -> None:
    with pytest.raises(UnsafeDestination, match=r"255\.255\.255\.255:9: broadcast address needs broadcast=True"):
        closed_v4.send_to(b"x", "255.255.255.255:9")


def test_broadcast_flag_lets_limited_broadcast_reach_the_socket() -> None:
    with netbasics.open_udp(family=4, broadcast=True) as sock:
        assert sock.broadcast
        assert sock.socket.getsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST) == 1
    assert sock.closed
    # Reaching the closed socket (ClosedLocally) shows the broadcast check passed.
    with pytest.raises(netbasics.ClosedLocally):
        sock.send_to(b"x", "255.255.255.255:9")
    with netbasics.open_udp(family=4) as plain:
        assert not plain.broadcast
        assert plain.socket.getsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST) == 0


def test_v6_target_on_v4_socket(closed_v4: UDPSocket) -> None:
    with pytest.raises(EndpointError, match="from an IPv4 socket"):
        closed_v4.send_to(b"x", "[2001:db8::1]:9")


def test_send_and_recv_need_a_connected_socket(closed_v4: UDPSocket) -> None:
    with pytest.raises(EndpointError, match="send\\(\\) needs a connected socket"):
        closed_v4.send(b"x")
    with pytest.raises(EndpointError, match="recv\\(\\) needs a connected socket"):
        closed_v4.recv()


@pytest.mark.parametrize(
    ("max_bytes", "error"),
    [(0, ValueError), (-1, ValueError), (65536, ValueError), (True, TypeError), (1.5, TypeError), ("100", TypeError)],
)
def test_recv_max_bytes_range(closed_v4: UDPSocket, max_bytes: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="max_bytes") as info:
        closed_v4.recv_from(max_bytes)  # type: ignore[arg-type]
    assert type(info.value) is error  # a programmer's error: the plain builtin, not a NetbasicsError
    assert repr(max_bytes) in str(info.value)


# -- open() arguments ---------------------------------------------------------------------


def test_open_families() -> None:
    for family, expected in [(None, 4), (4, 4), (socket.AF_INET, 4), (6, 6), (socket.AF_INET6, 6)]:
        with netbasics.open_udp(family=family) as sock:
            assert sock.family == expected
            assert sock.remote is None
            assert sock.timeout is None


def test_datagram_sockets_name_the_other_side_remote() -> None:
    # One word for the other side, as on StreamConnection: .remote, and no .peer left.
    from netbasics import aio

    for cls in (netbasics.UDPSocket, netbasics.UnixDatagramSocket, aio.UDPSocket, aio.UnixDatagramSocket):
        assert isinstance(cls.__dict__.get("remote") or cls.__mro__[1].__dict__.get("remote"), property), cls
        assert not hasattr(cls, "peer"), cls


@pytest.mark.parametrize("family", [5, 0x1F, socket.AF_UNIX])
def test_open_bad_family(family: int) -> None:
    with pytest.raises(ValueError, match="family must be"):
        netbasics.open_udp(family=family)


def _timeout(sock: UDPSocket) -> float | None:
    return sock.timeout  # read through a call, so mypy does not keep an earlier narrowing


def _serving(server: UDPServer) -> bool:
    return server.serving


def test_open_timeout_and_settimeout() -> None:
    with pytest.raises(ValueError, match="timeout"):
        netbasics.open_udp(timeout=-1)
    with pytest.raises(TypeError, match="timeout"):
        netbasics.open_udp(timeout="1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout"):
        netbasics.open_udp(timeout=float("nan"))
    with netbasics.open_udp(timeout=0.25) as sock:
        assert sock.timeout == 0.25
        sock.settimeout(None)
        assert _timeout(sock) is None
        sock.timeout = 1.5
        assert _timeout(sock) == 1.5
        with pytest.raises(ValueError, match="timeout"):
            sock.settimeout(-0.5)


def test_open_bind_connect_family_mismatch() -> None:
    with pytest.raises(EndpointError, match="IPv6, but the socket is IPv4"):
        netbasics.open_udp(bind="127.0.0.1:0", connect="[::1]:9")
    with pytest.raises(EndpointError, match="IPv4, but the socket is IPv6"):
        netbasics.open_udp(family=6, connect="127.0.0.1:9")


def test_udpsocket_wraps_only_udp() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp, pytest.raises(ValueError, match="SOCK_DGRAM"):
        UDPSocket(tcp)


def test_repr_and_close_idempotent() -> None:
    sock = netbasics.open_udp(bind="127.0.0.1:0")
    assert repr(sock).startswith("<UDPSocket local=127.0.0.1:")
    assert sock.fileno() >= 0
    sock.close()
    sock.close()
    assert sock.closed
    assert repr(sock) == "<UDPSocket closed>"
    assert sock.fileno() == -1


# -- request() and UDPServer arguments --------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"timeout": 0}, ValueError, "timeout"),
        ({"timeout": -1.0}, ValueError, "timeout"),
        ({"timeout": "1"}, TypeError, "timeout"),
        ({"retries": -1}, ValueError, "retries"),
        ({"retries": 1.5}, TypeError, "retries"),
        ({"retries": True}, TypeError, "retries"),
        ({"backoff": 0.5}, ValueError, "backoff"),
        ({"backoff": float("nan")}, ValueError, "backoff"),
        ({"backoff": None}, TypeError, "backoff"),
        ({"family": "4"}, TypeError, "family"),
    ],
)
def test_request_argument_checks(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message) as info:
        netbasics.udp_request("127.0.0.1:9", b"x", **kwargs)  # type: ignore[arg-type]
    assert type(info.value) is error


def test_request_oversized_before_any_socket() -> None:
    with pytest.raises(DatagramTooLarge, match="65508 bytes"):
        netbasics.udp_request("127.0.0.1:9", b"x" * 65508)


def _noop(datagram: Datagram, reply: udp.Reply) -> None:
    pass


@pytest.mark.parametrize(
    ("kwargs", "exc", "message"),
    [
        ({"workers": 0}, ValueError, "workers"),
        ({"workers": 2.0}, TypeError, "workers"),
        ({"max_datagram": 0}, ValueError, "max_datagram"),
        ({"max_datagram": 65536}, ValueError, "max_datagram"),
    ],
)
def test_server_argument_checks(kwargs: dict[str, object], exc: type[Exception], message: str) -> None:
    with pytest.raises(exc, match=message):
        UDPServer("127.0.0.1:0", _noop, **kwargs)  # type: ignore[arg-type]


def test_server_handler_must_be_callable() -> None:
    with pytest.raises(TypeError, match="handler must be callable"):
        UDPServer("127.0.0.1:0", "echo")  # type: ignore[arg-type]


def test_server_lifecycle_errors() -> None:
    server = UDPServer("127.0.0.1:0", _noop)
    assert repr(server).endswith("ready, workers=1>")
    assert server.endpoint.address == IPv4Address("127.0.0.1")
    assert server.endpoint.port != 0
    assert server.start() is server
    assert server.serving
    assert "serving" in repr(server)
    with pytest.raises(RuntimeError, match="already running"):
        server.start()
    server.stop()
    server.stop()
    assert not _serving(server)
    assert "stopped" in repr(server)
    with pytest.raises(RuntimeError, match="stopped"):
        server.start()


# -- multicast arguments ------------------------------------------------------------------


def test_join_group_checks_the_group() -> None:
    with netbasics.open_udp(family=4) as sock:
        with pytest.raises(AddressError, match="not a multicast address"):
            sock.join_group("192.0.2.1")
        with pytest.raises(AddressError, match="bad multicast group"):
            sock.join_group("239.1.2.300")
        with pytest.raises(AddressError, match="IPv6, but the socket is IPv4"):
            sock.join_group("ff02::1")
        with pytest.raises(ValueError, match="no network interface named"):
            sock.join_group("239.1.2.3", interface="no-such-if0")
        with pytest.raises(AddressError, match="not IPv4"):
            sock.join_group("239.1.2.3", interface="::1")
    with netbasics.open_udp(family=6) as sock6, pytest.raises(AddressError, match="index or a name"):
        sock6.join_group("ff02::1", interface=IPv4Address("127.0.0.1"))


@pytest.mark.parametrize("family", [4, 6])
def test_multicast_options(family: int) -> None:
    with netbasics.open_udp(family=family) as sock:
        assert sock.multicast_ttl == 1  # the OS default: this link only
        sock.multicast_ttl = 0
        assert sock.multicast_ttl == 0
        sock.multicast_ttl = 255
        assert sock.multicast_ttl == 255
        for bad, error in ((-1, ValueError), (256, ValueError), (True, TypeError), (1.0, TypeError)):
            with pytest.raises(error, match="multicast TTL"):
                sock.multicast_ttl = bad  # type: ignore[assignment]
        assert sock.multicast_loopback is True
        sock.multicast_loopback = False
        assert sock.multicast_loopback is False
        sock.set_multicast_interface(None)
        sock.set_multicast_interface("lo")


# -- Datagram -------------------------------------------------------------------------------

_endpoints = st.builds(
    Endpoint,
    st.one_of(
        st.integers(0, 2**32 - 1).map(IPv4Address),
        st.integers(0, 2**128 - 1).map(IPv6Address),
    ),
    st.integers(0, 65535),
)


@given(data=st.binary(max_size=64), sender=_endpoints)
def test_datagram_value_semantics(data: bytes, sender: Endpoint) -> None:
    d = Datagram(data, sender)
    assert d.data == data
    assert d.sender == sender
    assert len(d) == len(data)
    assert d == Datagram(data, sender)
    assert hash(d) == hash(Datagram(bytes(data), sender))
    assert pickle.loads(pickle.dumps(d)) == d
    # repr mirrors the constructor (Endpoint reprs its text form, which Endpoint() reads).
    assert eval(repr(d), {"Datagram": Datagram, "Endpoint": Endpoint}) == d
    # A datagram built from a socket address equals the one built from the endpoint.
    assert udp._datagram(data, sender.sockaddr) == d


def test_datagram_is_immutable_and_typed() -> None:
    d = Datagram(b"x", Endpoint("127.0.0.1", 1))
    with pytest.raises(AttributeError):
        d.data = b"y"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        d.extra = 1  # type: ignore[attr-defined]
    assert d.data == b"x"
    with pytest.raises(TypeError, match="data must be bytes"):
        Datagram("x", Endpoint("127.0.0.1", 1))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="sender must be an Endpoint"):
        Datagram(b"x", ("127.0.0.1", 1))  # type: ignore[arg-type]
    assert d != Datagram(b"x", Endpoint("127.0.0.1", 2))
    assert d != b"x"


def test_lazy_sender_from_v6_sockaddr_with_scope() -> None:
    d = udp._datagram(b"", ("fe80::1", 53, 0, 3))
    assert d.sender == parse_endpoint("[fe80::1%3]:53")


# -- error translation ----------------------------------------------------------------------


def _oserror(code: int) -> OSError:
    return OSError(code, errno.errorcode.get(code, "error"))


def test_translate_broadcast_eacces() -> None:
    err = udp._translate(_oserror(errno.EACCES), "send to", "10.0.0.255:9")
    assert isinstance(err, UnsafeDestination)
    assert "broadcast=True" in str(err)
    # Not a send: left to the general translation.
    assert not isinstance(udp._translate(_oserror(errno.EACCES), "setsockopt"), UnsafeDestination)


def test_translate_udp_cases() -> None:
    assert isinstance(udp._translate(_oserror(errno.EMSGSIZE), "send to", "x"), DatagramTooLarge)
    refused = udp._translate(ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "receive on", "y")
    assert isinstance(refused, ConnectError)
    assert "ICMP port unreachable" in str(refused)
    timeout = udp._translate(TimeoutError("timed out"), "receive on", "z", 0.5)
    assert isinstance(timeout, NetTimeoutError)
    assert isinstance(timeout, TimeoutError)
    # Any other send failure is still a library error (an OSError), naming the target and keeping errno.
    other = udp._translate(_oserror(errno.ENOBUFS), "send to", "w")
    assert isinstance(other, ConnectError)
    assert other.errno == errno.ENOBUFS
    assert str(other).startswith("send to w failed")
    # A would-block is left alone: the asyncio socket waits on it.
    blocked = BlockingIOError(errno.EAGAIN, "try again")
    assert udp._translate(blocked, "send to", "w", 0.0) is blocked


def test_oversized_received_message() -> None:
    exact = oversized_received(5000, 100, "127.0.0.1:9")
    assert isinstance(exact, DatagramTooLarge)
    assert "from 127.0.0.1:9" in str(exact)
    assert "receive buffer of 100 bytes" in str(exact)
    assert "discarded" in str(exact)
    if TRUNC_FLAGS:
        assert "was 5000 bytes" in str(exact)


# -- receive buffer -------------------------------------------------------------------------


def test_receive_buffer_option() -> None:
    with netbasics.open_udp(family=4, receive_buffer=1 << 18) as sock:
        # Linux doubles the value for bookkeeping; others keep it. Either way, at least it.
        assert sock.socket.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= 1 << 17
    for bad, error in ((0, ValueError), (-1, ValueError), (True, TypeError), (1.5, TypeError), (2**31, ValueError)):
        with pytest.raises(error, match="receive_buffer"):
            netbasics.open_udp(family=4, receive_buffer=bad)  # type: ignore[arg-type]
        with pytest.raises(error, match="receive_buffer"):
            UDPServer("127.0.0.1:0", _noop, receive_buffer=bad)  # type: ignore[arg-type]


def test_server_receive_buffer_is_applied() -> None:
    server = UDPServer("127.0.0.1:0", _noop, receive_buffer=1 << 18)
    try:
        assert server._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= 1 << 17
    finally:
        server.stop()


def test_receive_on_a_closed_socket_is_a_plain_oserror(closed_v4: UDPSocket) -> None:
    with pytest.raises(OSError, match="Bad file descriptor") as info:
        closed_v4.recv_from()
    assert not isinstance(info.value, netbasics.NetbasicsError)


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix-domain sockets here")
def test_datagram_engine_serves_another_kind_of_socket(tmp_path: Path) -> None:
    # The UDP engine on the server core with its three hooks: an AF_UNIX datagram socket.
    senders: list[object] = []

    class Kind(InetPeers):
        """A stand-in kind: every datagram looks like it came from 127.0.0.1:9."""

        unnamed_senders = True
        reply_fits = 0

        def datagram(self, data: bytes, sockaddr: Any) -> Datagram:
            senders.append(sockaddr)
            return Datagram(data, Endpoint("127.0.0.1", 9))  # the test looks at the data

        def reply(self, sock: socket.socket, sockaddr: Any) -> udp.Reply:
            def reply(data: udp.BytesLike) -> None:
                sock.sendto(data, sockaddr)

            return reply

        def check_reply(self, data: object, sockaddr: Any) -> None:
            pass

        def reply_error(self, exc: OSError, sockaddr: Any) -> BaseException:
            return exc

    engine = DatagramEngine(lambda d, reply: reply(d.data.upper()), 1, 1024, Kind(), batched=False)
    path, client_path = str(tmp_path / "server.sock"), str(tmp_path / "client.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    core = ServerCore(sock, engine, kind="UnixDatagramServer", label=path, name=None)
    core.start()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as client:
            client.bind(client_path)
            client.settimeout(2)
            client.sendto(b"hi", path)
            assert client.recvfrom(100) == (b"HI", path)
    finally:
        core.stop(timeout=1)
    assert senders == [client_path]
    assert sock.fileno() == -1
