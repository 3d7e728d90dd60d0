"""UDP: datagram sockets, request/response with retries, and a small embeddable server.

UDP delivers whole datagrams or nothing: each one may be lost, duplicated or reordered,
and its size is limited. The helpers here make those limits explicit instead of hiding
them:

* **Size.** A datagram carries at most :data:`MAX_UDP_PAYLOAD_IPV4` (65,507) bytes over
  IPv4 and :data:`MAX_UDP_PAYLOAD_IPV6` (65,527) over IPv6. A larger send raises
  :class:`~netbasics.DatagramTooLarge` before any system call.
* **Truncation.** A datagram larger than the receive buffer is never cut silently (stdlib
  ``socketserver.UDPServer``, Twisted and gevent cut at 8,192 bytes without a word). The
  buffer is one byte larger than asked for, so an oversized datagram is always noticed;
  on Linux the receive also passes ``MSG_TRUNC``, which makes the kernel report the real
  size. :meth:`UDPSocket.recv_from` then raises ``DatagramTooLarge`` (the datagram is
  discarded; it cannot be read again); :class:`UDPServer` logs a warning and drops it.
  Both receive up to 65,535 bytes by default, so with the defaults nothing is too large.
* **Broadcast** needs ``broadcast=True`` (``SO_BROADCAST``). Without it, a send to
  255.255.255.255 is refused before the system call, and the kernel's ``EACCES`` for a
  directed broadcast (``10.0.0.255``) is reported the same way: :class:`~netbasics.UnsafeDestination`.
* **Loss.** :func:`udp_request` retries with exponential backoff (RFC 8085 section 3.1.3 asks
  request/response protocols over UDP to back off) and ignores datagrams from anyone but
  the peer it asked.

Every ``OSError`` is translated by ``_sockets.translate_os_error``, after three meanings
only UDP gives an errno (``EACCES`` on a send: broadcast; ``EMSGSIZE``: too large;
``ECONNREFUSED``: an ICMP port unreachable), chained with ``raise ... from``.
"""

from __future__ import annotations

import errno
import socket
import struct
import sys
import time
from collections.abc import Callable
from typing import Final, Union

from ._io.datagram_engine import DatagramEngine
from ._io.datagrams import BytesLike, DatagramSocketBase, ReceivedDatagram, Reply, oversized_received, received_factory
from ._io.peers import InetPeers, inet_peer
from ._io.server_core import ServerCore
from ._io.servers import DatagramServerBase, check_datagram_server
from ._io.sockets import (
    bind_socket,
    check_int,
    check_timeout,
    family_number,
    family_of,
    local_endpoint,
    refuse_port_zero,
    remote_endpoint,
    translate_os_error,
)
from ._io.udp_request import RequestSchedule, is_reply
from .addresses import Address, IPv4Address, IPv6Address, parse_address
from .endpoints import Endpoint, EndpointLike, HostPort, coerce_target
from .errors import (
    AddressError,
    ClosedLocally,
    ConnectError,
    DatagramTooLarge,
    EndpointError,
    NetbasicsError,
    NetTimeoutError,
    quote,
)
from .resolver import Resolver, resolve
from .safety import UnsafeDestination, UnsafeReason

__all__ = [
    "MAX_UDP_PAYLOAD_IPV4",
    "MAX_UDP_PAYLOAD_IPV6",
    "BytesLike",
    "Datagram",
    "DatagramHandler",
    "MulticastInterface",
    "Reply",
    "UDPServer",
    "UDPSocket",
    "open_udp",
    "udp_request",
]

#: Largest UDP payload over IPv4: the 16-bit IPv4 total length (65,535) minus the
#: 20-byte IPv4 header and the 8-byte UDP header (RFC 791, RFC 768).
MAX_UDP_PAYLOAD_IPV4: Final = 65507

#: Largest UDP payload over IPv6 without jumbograms: the 16-bit payload length (65,535,
#: which excludes the 40-byte IPv6 header) minus the 8-byte UDP header (RFC 8200, RFC 768).
MAX_UDP_PAYLOAD_IPV6: Final = 65527

#: Default receive size: the largest value the 16-bit UDP length field can describe, so
#: no datagram that IPv4 or IPv6 can deliver is too large for it.
DEFAULT_MAX_DATAGRAM: Final = 65535

_LIMITED_BROADCAST: Final = 0xFFFFFFFF  # 255.255.255.255, RFC 919 section 7

#: A :class:`UDPServer` handler: called as ``handler(datagram, reply)``.
DatagramHandler = Callable[["Datagram", Reply], None]

#: A network interface for multicast: ``None`` (the kernel's choice), an index, a name
#: such as ``"eth0"``, or (IPv4 only) one of the interface's IPv4 addresses.
MulticastInterface = Union[int, str, IPv4Address, None]

_SockAddr = Union[tuple[str, int], tuple[str, int, int, int]]


def _endpoint_for(target: EndpointLike, family: int | None, what: str, resolver: Resolver | None = None) -> Endpoint:
    """``target`` as an Endpoint; names are resolved and the first answer is used.

    Any ``what`` but ``"bind"`` is a destination, where port 0 is refused.
    """
    if type(target) is Endpoint:
        ep = target
    else:
        parsed = coerce_target(target)
        if what != "bind":
            refuse_port_zero(parsed, target)
        if isinstance(parsed, HostPort):
            return resolve(parsed, family=family, resolver=resolver)[0]
        ep = parsed
    if what != "bind":
        refuse_port_zero(ep, target)
    if family is not None and ep.version != family:
        raise EndpointError(f"{what} {ep} is IPv{ep.version}, but the socket is IPv{family}")
    return ep


def _limit_for(address: Address) -> int:
    """The largest payload that can be sent to ``address`` (IPv4-mapped IPv6 counts as IPv4)."""
    if address.version == 4 or address.ipv4_mapped is not None:
        return MAX_UDP_PAYLOAD_IPV4
    return MAX_UDP_PAYLOAD_IPV6


def _too_large(size: int, limit: int, target: object) -> DatagramTooLarge:
    family = "IPv4" if limit == MAX_UDP_PAYLOAD_IPV4 else "IPv6"
    return DatagramTooLarge(
        f"datagram of {size} bytes to {target} is larger than UDP over {family} can carry ({limit} bytes)"
    )


def _check_size(data: object, limit: int, target: object) -> None:
    if isinstance(data, (bytes, bytearray)):
        size = len(data)
    elif isinstance(data, memoryview):
        size = data.nbytes
    else:
        raise TypeError(f"datagram data must be bytes-like, got {type(data).__name__}")
    if size > limit:
        raise _too_large(size, limit, target)


def _translate(exc: OSError, operation: str, target: object = None, timeout: float | None = None) -> BaseException:
    """translate_os_error plus the meanings that only UDP gives to an errno."""
    where = f"{operation} {target}" if target is not None else operation
    if exc.errno == errno.EACCES and operation.startswith("send"):
        # Linux and the BSDs refuse a send to a broadcast address without SO_BROADCAST
        # with EACCES; nothing else on a UDP send gives it.
        return UnsafeDestination(
            target.address if isinstance(target, Endpoint) else None,
            UnsafeReason.BROADCAST,
            "broadcast address needs broadcast=True (SO_BROADCAST)",
            port=target.port if isinstance(target, Endpoint) else None,
            message=f"{where}: broadcast address needs broadcast=True (SO_BROADCAST): {exc.strerror}",
        )
    if exc.errno == errno.EMSGSIZE:
        return DatagramTooLarge(f"{where}: datagram too large for the path or socket ({exc.strerror})")
    if isinstance(exc, ConnectionRefusedError):
        refused = ConnectError(where, "connection refused (ICMP port unreachable: nothing listening there)")
        refused.errno = errno.ECONNREFUSED  # udp_request reads this field, never the message
        return refused
    err = translate_os_error(exc, operation, target, timeout)
    if operation.startswith("send") and not isinstance(err, (NetbasicsError, BlockingIOError, InterruptedError)):
        # What is left (EINVAL for a destination the kernel will not send to, ...) still
        # comes out as a library error: the send to this target failed. A would-block is
        # left alone, for the asyncio socket that waits on it.
        failed = ConnectError(where, str(exc.strerror or exc))
        failed.errno = exc.errno
        return failed
    return err


# A sender's socket address as an Endpoint: the one sockaddr-to-peer helper, shared with the servers.
_sender = inet_peer


class Datagram(ReceivedDatagram[Endpoint]):
    """One received datagram: its bytes (:attr:`data`) and who sent it (:attr:`sender`).

    Immutable (read-only attributes; no others can be added) and hashable; equal when
    data and sender are equal. ``len(datagram)`` is the payload size.

    >>> from netbasics.endpoints import Endpoint
    >>> d = Datagram(b"ping", Endpoint("127.0.0.1", 5353))
    >>> d
    Datagram(b'ping', Endpoint('127.0.0.1:5353'))
    >>> d.data, d.sender.port, len(d)
    (b'ping', 5353, 4)
    """

    __slots__ = ()

    _sender_type = Endpoint
    _sender_text = "an Endpoint"

    def __init__(self, data: bytes, sender: Endpoint) -> None:
        super().__init__(data, sender)  # here for the signature that help() shows

    def _decode(self, sockaddr: _SockAddr) -> Endpoint:
        return _sender(sockaddr)

    @property
    def sender(self) -> Endpoint:
        """The endpoint the datagram came from (an IPv4 sender on a dual-stack socket appears IPv4-mapped)."""
        return self._sender_now()


# A Datagram from a trusted payload and socket address, without parsing the address (hot path).
_datagram = received_factory(Datagram)


def _check_receive_buffer(size: object) -> int:
    return check_int(size, "receive_buffer (bytes)", 1, 2**31 - 1)


def _set_receive_buffer(sock: socket.socket, size: int) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _check_receive_buffer(size))
    except OSError as exc:
        raise _translate(exc, "setsockopt SO_RCVBUF") from exc


def _interface_index(interface: int | str) -> int:
    if isinstance(interface, bool) or not isinstance(interface, (int, str)):
        raise TypeError(f"interface must be an index, a name or an IPv4 address, got {quote(interface)}")
    if isinstance(interface, int):
        return check_int(interface, "interface index", 0)
    try:
        return socket.if_nametoindex(interface)
    except OSError:
        raise ValueError(f"no network interface named {quote(interface)}") from None


def _ipv4_interface(interface: MulticastInterface) -> tuple[bytes, int]:
    """(interface address, interface index) for the IPv4 multicast socket options."""
    if interface is None:
        return b"\0\0\0\0", 0
    if isinstance(interface, IPv4Address):
        return interface.packed, 0
    if isinstance(interface, str):
        try:
            addr = parse_address(interface)
        except AddressError:
            pass
        else:
            if not isinstance(addr, IPv4Address):
                raise AddressError(f"interface address {quote(interface)} is not IPv4")
            return addr.packed, 0
    return b"\0\0\0\0", _interface_index(interface)


class UDPSocket(DatagramSocketBase[Endpoint]):
    """A UDP socket with typed endpoints, size checks and translated errors; build one with :func:`open_udp`.

    ``send_to(data, target)`` and ``recv_from()`` work on any socket; ``send(data)`` and
    ``recv()`` need one opened with ``connect=``. Use it as a context manager, or call
    :meth:`close`. Timeouts (``timeout=`` or :meth:`settimeout`) raise
    :class:`~netbasics.NetTimeoutError`, a ``TimeoutError``. One thread may send while
    another receives; several threads receiving at once is allowed by the OS but each
    gets different datagrams.

    ``UDPSocket(sock)`` wraps an existing ``SOCK_DGRAM`` socket and takes ownership of it.
    """

    __slots__ = ("_broadcast", "_family")

    _max_receive = DEFAULT_MAX_DATAGRAM
    _closed_text = "a closed UDP socket"

    def __init__(self, sock: socket.socket, *, broadcast: bool = False) -> None:
        if not isinstance(sock, socket.socket):
            raise TypeError(f"UDPSocket needs a socket.socket, got {type(sock).__name__}")
        if sock.type != socket.SOCK_DGRAM or sock.family not in (socket.AF_INET, socket.AF_INET6):
            raise ValueError(f"UDPSocket needs an AF_INET or AF_INET6 SOCK_DGRAM socket, got {sock!r}")
        self._sock = sock
        self._family = 4 if sock.family == socket.AF_INET else 6
        self._broadcast = broadcast
        if broadcast:
            self._setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1, "enable broadcast")
        try:
            self._remote = remote_endpoint(sock)
        except OSError:
            self._remote = None

    # -- properties -------------------------------------------------------------------

    @property
    def local(self) -> Endpoint:
        """The endpoint this socket is bound to (``0.0.0.0:0`` before the first send if unbound)."""
        try:
            return local_endpoint(self._sock)
        except OSError as exc:
            raise _translate(exc, "getsockname") from exc

    @property
    def family(self) -> int:
        """4 or 6."""
        return self._family

    @property
    def broadcast(self) -> bool:
        """Whether broadcast sends are allowed (``SO_BROADCAST``)."""
        return self._broadcast

    def settimeout(self, timeout: float | None) -> None:
        """Set :attr:`timeout`; ``None`` blocks without limit, ``0`` never blocks."""
        self.timeout = timeout

    def _send_error(self, exc: OSError, target: Endpoint) -> BaseException:
        if exc.errno == errno.EBADF or self._sock.fileno() < 0:
            return ClosedLocally(f"send to {target}", "the UDP socket")  # as the Unix datagram socket says
        return _translate(exc, "send to", target, self._sock.gettimeout())

    def _receive_error(self, exc: OSError) -> BaseException:
        return _translate(exc, "receive on", self._where(), self._sock.gettimeout())

    def _too_large(self, size: int, max_bytes: int, sockaddr: _SockAddr) -> BaseException:
        return oversized_received(size, max_bytes, _sender(sockaddr))

    # -- sending ------------------------------------------------------------------------

    def _sockaddr_for(self, ep: Endpoint) -> _SockAddr:
        address = ep.address
        if address.version == self._family:
            return ep.sockaddr
        if self._family == 6:
            # An IPv6 socket reaches IPv4 peers through IPv4-mapped addresses (RFC 4291
            # section 2.5.5.2) when it is dual-stack; the kernel says so if it is not.
            assert isinstance(address, IPv4Address)
            return (str(address.to_ipv6_mapped()), ep.port, 0, 0)
        assert isinstance(address, IPv6Address)
        mapped = address.ipv4_mapped
        if mapped is None:
            raise EndpointError(f"cannot send to IPv6 {ep} from an IPv4 socket; open one with family=6")
        return (str(mapped), ep.port)

    def send_to(self, data: BytesLike, target: EndpointLike) -> None:
        """Send ``data`` as one datagram to ``target`` (an :data:`~netbasics.EndpointLike`; names are resolved).

        Raises :class:`~netbasics.DatagramTooLarge` before sending if ``data`` is larger
        than :data:`MAX_UDP_PAYLOAD_IPV4`/``IPV6`` allows for the target, and
        :class:`~netbasics.UnsafeDestination` for a broadcast address unless the socket
        was opened with ``broadcast=True``.
        """
        if type(target) is Endpoint:
            ep = target
        else:
            parsed = coerce_target(target)
            # A name resolves to this socket's family; a literal of the other family is
            # sent IPv4-mapped (or refused) by _sockaddr_for.
            refuse_port_zero(parsed, target)
            ep = resolve(parsed, family=self._family)[0] if isinstance(parsed, HostPort) else parsed
        refuse_port_zero(ep, target)
        address = ep.address
        limit = MAX_UDP_PAYLOAD_IPV4 if address.version == 4 else _limit_for(address)
        _check_size(data, limit, ep)
        if address.version == 4 and int(address) == _LIMITED_BROADCAST and not self._broadcast:
            why = "broadcast address needs broadcast=True (SO_BROADCAST)"
            raise UnsafeDestination(address, UnsafeReason.BROADCAST, why, port=ep.port, message=f"send to {ep}: {why}")
        self._send_to(data, self._sockaddr_for(ep), ep)

    def send(self, data: BytesLike) -> None:
        """Send ``data`` to the connected peer; see :meth:`send_to` for the errors."""
        peer = self._remote
        if peer is None:
            raise EndpointError("send() needs a connected socket: use send_to(data, target) or open_udp(connect=...)")
        _check_size(data, _limit_for(peer.address), peer)
        self._send(data, peer)

    # -- receiving ----------------------------------------------------------------------

    def recv_from(self, max_bytes: int = DEFAULT_MAX_DATAGRAM) -> Datagram:
        """Wait for the next datagram and return it with its sender.

        A datagram larger than ``max_bytes`` raises :class:`~netbasics.DatagramTooLarge`
        naming the sender (and, on Linux, the real size); it is discarded, never cut.
        The default, 65,535, fits any datagram. Raises
        :class:`~netbasics.NetTimeoutError` after the socket's timeout; on a connected
        socket an ICMP port unreachable from the peer raises
        :class:`~netbasics.ConnectError`.
        """
        data, sockaddr = self._recv(max_bytes)
        return _datagram(data, sockaddr)

    def recv(self, max_bytes: int = DEFAULT_MAX_DATAGRAM) -> bytes:
        """Wait for the next datagram from the connected peer and return its bytes; see :meth:`recv_from`."""
        if self._remote is None:
            raise EndpointError("recv() needs a connected socket: use recv_from() or open_udp(connect=...)")
        return self._recv(max_bytes)[0]

    # -- multicast ----------------------------------------------------------------------

    def _group(self, group: Address | str) -> Address:
        try:
            addr = parse_address(group)
        except AddressError as exc:
            raise AddressError(f"bad multicast group: {exc}") from None
        if not addr.is_multicast:
            raise AddressError(f"{quote(str(addr))} is not a multicast address (224.0.0.0/4 or ff00::/8)")
        if addr.version != self._family:
            raise AddressError(f"multicast group {addr} is IPv{addr.version}, but the socket is IPv{self._family}")
        return addr

    def _membership(self, group: Address | str, interface: MulticastInterface, join: bool) -> None:
        addr = self._group(group)
        if addr.version == 4:
            local, index = _ipv4_interface(interface)
            # struct ip_mreqn (Linux: group, local address, interface index) when an
            # index is needed, else the portable struct ip_mreq (group, local address).
            mreq = struct.pack("=4s4si", addr.packed, local, index) if index else addr.packed + local
            option = socket.IP_ADD_MEMBERSHIP if join else socket.IP_DROP_MEMBERSHIP
            self._setsockopt(socket.IPPROTO_IP, option, mreq, f"{'join' if join else 'leave'} group {addr}")
        else:
            if isinstance(interface, IPv4Address):
                raise AddressError("an IPv6 multicast interface is an index or a name, not an IPv4 address")
            index = 0 if interface is None else _interface_index(interface)
            mreq6 = addr.packed + struct.pack("@I", index)  # struct ipv6_mreq: group, interface index
            option = socket.IPV6_JOIN_GROUP if join else socket.IPV6_LEAVE_GROUP
            self._setsockopt(socket.IPPROTO_IPV6, option, mreq6, f"{'join' if join else 'leave'} group {addr}")

    def join_group(self, group: Address | str, interface: MulticastInterface = None) -> None:
        """Receive datagrams sent to multicast ``group`` on ``interface`` (``None``: the kernel picks).

        ``interface`` is an index, a name (``"eth0"``), or for IPv4 one of the
        interface's addresses. Bind the socket to the group's port (and usually
        ``reuse_address=True`` so several receivers can share it) to receive.
        """
        self._membership(group, interface, True)

    def leave_group(self, group: Address | str, interface: MulticastInterface = None) -> None:
        """Stop receiving datagrams for ``group``; the arguments must match :meth:`join_group`."""
        self._membership(group, interface, False)

    @property
    def multicast_ttl(self) -> int:
        """Hop limit of multicast datagrams sent (IPv4 TTL or IPv6 hops); the OS default is 1: this link only."""
        if self._family == 4:
            return self._sock.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL)
        return self._sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS)

    @multicast_ttl.setter
    def multicast_ttl(self, ttl: int) -> None:
        check_int(ttl, "multicast TTL", 0, 255)
        if self._family == 4:
            self._setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl, "set multicast TTL")
        else:
            self._setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, ttl, "set multicast hops")

    @property
    def multicast_loopback(self) -> bool:
        """Whether multicast datagrams sent are also delivered to this host's own members (OS default: yes)."""
        if self._family == 4:
            return bool(self._sock.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP))
        return bool(self._sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP))

    @multicast_loopback.setter
    def multicast_loopback(self, enabled: bool) -> None:
        if self._family == 4:
            self._setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, int(bool(enabled)), "set multicast loop")
        else:
            self._setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, int(bool(enabled)), "set multicast loop")

    def set_multicast_interface(self, interface: MulticastInterface) -> None:
        """Send multicast datagrams out of ``interface`` (index, name, or IPv4 address; ``None``: routing decides)."""
        if self._family == 4:
            local, index = _ipv4_interface(interface)
            value = struct.pack("=4s4si", b"\0\0\0\0", local, index) if index else local
            self._setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, value, f"set multicast interface {interface}")
        else:
            if isinstance(interface, IPv4Address):
                raise AddressError("an IPv6 multicast interface is an index or a name, not an IPv4 address")
            index = 0 if interface is None else _interface_index(interface)
            self._setsockopt(
                socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index, f"set multicast interface {interface}"
            )

    def _setsockopt(self, level: int, option: int, value: int | bytes, what: str) -> None:
        # A failed socket option is not a connection problem, whatever its errno (a
        # second leave_group gives EADDRNOTAVAIL): it stays an OSError, of the same
        # subclass and errno, with a message that says what was being done.
        try:
            self._sock.setsockopt(level, option, value)
        except OSError as exc:
            raise OSError(exc.errno, f"{what}: {exc.strerror}") from exc

    def __repr__(self) -> str:
        if self.closed:
            return "<UDPSocket closed>"
        peer = f" remote={self._remote}" if self._remote is not None else ""
        return f"<UDPSocket local={self.local}{peer}>"


def open_udp(
    *,
    bind: EndpointLike | None = None,
    connect: EndpointLike | None = None,
    family: int | None = None,
    broadcast: bool = False,
    timeout: float | None = None,
    reuse_address: bool = False,
    receive_buffer: int | None = None,
    resolver: Resolver | None = None,
) -> UDPSocket:
    """Open a UDP socket, optionally bound to ``bind`` and connected to ``connect``.

    * ``bind``: local endpoint (port 0 picks a free port); without it the OS binds to a
      free port on the first send. ``SO_REUSEADDR`` is off unless ``reuse_address=True``:
      for UDP it lets another socket take over the same port (multicast receivers that
      share a group port want it).
    * ``connect``: the default peer for :meth:`~UDPSocket.send`/:meth:`~UDPSocket.recv`;
      the kernel then drops datagrams from anyone else and reports ICMP errors.
    * ``family``: 4 or 6 (or ``AF_INET``/``AF_INET6``) when neither endpoint decides it;
      the default is IPv4. Names in ``bind``/``connect`` resolve to that family.
    * ``broadcast``: allow sends to broadcast addresses (``SO_BROADCAST``).
    * ``timeout``: seconds a send or receive may block (``None``: no limit).
    * ``receive_buffer``: ``SO_RCVBUF`` in bytes, how much the kernel queues before it
      drops datagrams (capped by ``net.core.rmem_max`` on Linux); ``None`` keeps the OS default.
    * ``resolver``: looks names up (a :class:`~netbasics.Resolver`); ``None``: the system resolver.

    >>> from netbasics import open_udp
    >>> with open_udp(bind="127.0.0.1:0") as a, open_udp(connect=a.local) as b:
    ...     b.send(b"hi")
    ...     a.recv_from().data
    b'hi'
    """
    want = family_number(family)
    timeout = check_timeout(timeout)
    bind_ep = None if bind is None else _endpoint_for(bind, want, "bind", resolver)
    if bind_ep is not None:
        want = bind_ep.version
    peer = None if connect is None else _endpoint_for(connect, want, "connect", resolver)
    if bind_ep is not None:
        sock = bind_socket(bind_ep, socket.SOCK_DGRAM, reuse_address=reuse_address)
    else:
        af = family_of(peer) if peer is not None else (socket.AF_INET6 if want == 6 else socket.AF_INET)
        try:
            sock = socket.socket(af, socket.SOCK_DGRAM)
        except OSError as exc:
            raise _translate(exc, "socket") from exc
    try:
        if reuse_address and bind_ep is None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if receive_buffer is not None:
            _set_receive_buffer(sock, receive_buffer)
        sock.settimeout(timeout)
        if peer is not None:
            try:
                sock.connect(peer.sockaddr)
            except OSError as exc:
                raise _translate(exc, "connect", peer) from exc
        return UDPSocket(sock, broadcast=broadcast)
    except BaseException:
        sock.close()
        raise


def udp_request(
    target: EndpointLike,
    data: BytesLike,
    *,
    timeout: float = 1.0,
    retries: int = 2,
    backoff: float = 2.0,
    max_bytes: int = DEFAULT_MAX_DATAGRAM,
    family: int | None = None,
    accept: Callable[[Datagram], bool] | None = None,
    resolver: Resolver | None = None,
) -> Datagram:
    """Send ``data`` to ``target`` and return the first reply from it, retrying on silence.

    ``target`` is any :data:`~netbasics.EndpointLike`; a name is resolved once (to
    ``family`` if given, through ``resolver`` when one is given) and its addresses are
    tried one after the other, in the resolver's order (``localhost``: ``127.0.0.1``,
    then ``[::1]``).

    Each address gets the whole schedule: the first attempt waits ``timeout`` seconds
    for a reply; each retry resends ``data`` and waits ``backoff`` times longer than the
    attempt before (exponential backoff, RFC 8085 section 3.1.3). At most
    ``retries + 1`` datagrams go to one address, and it is given up after
    ``timeout * (1 + backoff + ... + backoff**retries)`` seconds (7 s with the
    defaults); then the next address is tried, so a name with ``n`` silent addresses
    takes up to ``n`` times that before :class:`~netbasics.NetTimeoutError`. An ICMP port
    unreachable (nothing listening) moves on to the next address at once; the last (or
    only) address keeps its schedule, as a server may be starting, and if every attempt
    there was refused too, :class:`~netbasics.ConnectError` is raised.
    ``timeout=None`` or ``float("inf")`` waits for the first reply without a deadline
    (like any timeout longer than about 23 days; see :mod:`netbasics.errors`); an attempt
    whose wait would grow past that has no deadline either. ``timeout`` must be > 0.

    Datagrams from any other sender are ignored, as are replies for which ``accept``
    (if given) returns False: pass one that checks a request id to skip late answers to
    an earlier attempt. A reply larger than ``max_bytes`` raises
    :class:`~netbasics.DatagramTooLarge`; port 0 is refused with
    :class:`~netbasics.EndpointError`.
    """
    schedule = RequestSchedule(timeout, retries, backoff)
    want = family_number(family)
    if type(target) is Endpoint:
        peers = [_endpoint_for(target, want, "target")]
    else:
        parsed = coerce_target(target)
        refuse_port_zero(parsed, target)
        if isinstance(parsed, HostPort):
            peers = resolve(parsed, family=want, resolver=resolver)
        else:
            peers = [_endpoint_for(parsed, want, "target")]
    for peer in peers:
        _check_size(data, _limit_for(peer.address), peer)

    def request_one(peer: Endpoint, last: bool) -> Datagram | None:
        """The reply from ``peer``, or None: silent for its whole schedule, or refused (then move on unless last)."""
        # A connected socket: the kernel drops datagrams from other senders and reports an
        # ICMP port unreachable; the sender check below covers systems that do not filter.
        with open_udp(connect=peer) as sock:
            raw = sock.socket
            for wait in schedule.waits():
                deadline = None if wait is None else time.monotonic() + wait
                try:
                    sock.send(data)
                except ConnectError as exc:
                    if exc.errno != errno.ECONNREFUSED:
                        raise
                    # The ICMP error of an earlier attempt, reported on this send; the error
                    # is now cleared, so send again.
                    sock.send(data)
                while True:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        break
                    raw.settimeout(remaining)
                    try:
                        answer = sock.recv_from(max_bytes)
                    except NetTimeoutError:
                        break
                    except ConnectError as exc:
                        if exc.errno != errno.ECONNREFUSED:
                            raise
                        if schedule.refused(wait, last):  # nothing listening there: the next address, at once
                            return None
                        # Nothing listening (yet): wait out this attempt, then try again.
                        if deadline is not None:
                            time.sleep(max(0.0, deadline - time.monotonic()))
                        break
                    if is_reply(answer, peer, accept):
                        return answer
        schedule.address_done()
        return None

    for index, peer in enumerate(peers):
        answer = request_one(peer, index == len(peers) - 1)
        if answer is not None:
            return answer
    raise schedule.failure(target, peers)


def _batching_available() -> bool:
    """Whether UDPServer workers can use recvmmsg/sendmmsg (Linux; not switched off by NETBASICS_NO_MMSG)."""
    if not sys.platform.startswith("linux"):  # pragma: no cover - Linux
        return False
    from ._io import mmsg as _mmsg  # imports ctypes: only when a server is created, not with netbasics

    return _mmsg.available()


def _check_reply(data: object, to: _SockAddr) -> None:
    """Raise for a reply to ``to`` that is not bytes-like or larger than UDP carries there."""
    sender = _sender(to)
    _check_size(data, _limit_for(sender.address), sender)


def _reply_error(exc: OSError, to: _SockAddr) -> BaseException:
    return _translate(exc, "send to", _sender(to))


def _direct_reply(sock: socket.socket, to: _SockAddr) -> Reply:
    """A reply callable that sends to ``to`` at once, errors translated and raised to the caller."""
    sendto = sock.sendto

    def reply(data: BytesLike) -> None:
        if len(data) > MAX_UDP_PAYLOAD_IPV4:
            _check_reply(data, to)
        try:
            sendto(data, to)
        except OSError as exc:
            raise _reply_error(exc, to) from exc

    return reply


class _UDPDatagrams(InetPeers):
    """The UDP kind of datagram server (``_io.datagram_engine.DatagramKind``): senders are endpoints."""

    __slots__ = ()

    reply_fits = MAX_UDP_PAYLOAD_IPV4  # a bytes reply this small fits any UDP destination
    datagram = staticmethod(_datagram)
    reply = staticmethod(_direct_reply)
    check_reply = staticmethod(_check_reply)
    reply_error = staticmethod(_reply_error)


_UDP_DATAGRAMS: Final = _UDPDatagrams()


class UDPServer(DatagramServerBase):
    """A threaded UDP server: ``handler(datagram, reply)`` runs for every datagram received.

    ``bind`` is the local endpoint (port 0 picks a free one; read it from
    :attr:`endpoint`). The socket is bound when the server is created, so a
    :class:`~netbasics.BindError` surfaces there. ``workers`` threads receive from the
    same socket, each running the handler inline. With 1 (the default) the handler never
    runs concurrently with itself and needs no locks; more workers keep serving while a
    handler blocks, and on a multi-core machine overlap one datagram's system calls
    (which release the GIL) with another's handler. ``max_datagram`` is the receive
    size (default 65,535: anything UDP can carry); a larger datagram is logged on the
    ``"netbasics"`` logger and dropped, never cut. ``family`` picks IPv4 or IPv6 when ``bind`` is a name;
    ``receive_buffer`` sets ``SO_RCVBUF`` (bytes queued before the kernel drops
    datagrams under a burst; capped by ``net.core.rmem_max`` on Linux).

    Robustness: an exception from the handler is logged with its traceback and the
    server carries on; so does an ICMP error surfacing as ``ConnectionRefusedError``.
    ``reply(data)`` sends ``data`` to the datagram's sender and raises the translated
    error (``DatagramTooLarge`` before sending) into the handler.

    Batches (Linux, one worker): the worker takes up to 64 queued datagrams with one
    ``recvmmsg`` call, runs the handler for each in order, and sends the replies they
    made with one ``sendmmsg`` before it waits again (or whenever 64 are queued); under
    light load a batch is one datagram. Replies keep their order. ``reply(data)`` still raises ``TypeError`` and
    ``DatagramTooLarge`` into the handler at once, but an error from the kernel's send
    comes after the handler has returned, so it is logged instead. A handler that blocks
    delays the replies to the earlier datagrams of its batch: give such handlers
    ``workers=2`` or more, which receive one datagram per call so that an idle worker
    takes the next one. ``reply`` called from another thread, or after the handler has
    returned, sends at once. ``NETBASICS_NO_MMSG=1`` in the environment (read when the
    server is created) turns batches off.

    The lifecycle is :class:`TCPServer`'s: :meth:`start` serves in background threads
    (the first named ``name``, default ``"UDPServer <endpoint>"``; the others
    ``"<name> worker <i>"``) and returns at once; :meth:`serve_forever` serves on the
    calling thread until :meth:`stop` (or Ctrl-C); :meth:`stop` wakes every worker, gives
    busy handlers its ``timeout``, joins them and closes the socket. As a context manager
    the server is started on entry and stopped on exit. Log records go to the
    ``"netbasics"`` logger, prefixed with the server's name.

    >>> from netbasics import udp_request
    >>> def shout(datagram, reply):
    ...     reply(datagram.data.upper())
    >>> with UDPServer("127.0.0.1:0", shout) as server:
    ...     udp_request(server.endpoint, b"hello").data
    b'HELLO'
    """

    __slots__ = ("_endpoint",)

    _engine: DatagramEngine

    def __init__(
        self,
        bind: EndpointLike,
        handler: DatagramHandler,
        *,
        workers: int = 1,
        max_datagram: int = DEFAULT_MAX_DATAGRAM,
        family: int | None = None,
        receive_buffer: int | None = None,
        name: str | None = None,
    ) -> None:
        check_datagram_server(handler, workers, max_datagram, DEFAULT_MAX_DATAGRAM, name)
        if receive_buffer is not None:
            _check_receive_buffer(receive_buffer)
        ep = _endpoint_for(bind, family_number(family), "bind")
        # Batches only with one worker: with more, a datagram taken into one worker's batch
        # would wait behind a blocking handler while the other workers sit idle.
        engine = DatagramEngine(
            handler, workers, max_datagram, _UDP_DATAGRAMS, batched=workers == 1 and _batching_available()
        )
        sock = bind_socket(ep, socket.SOCK_DGRAM, reuse_address=False)
        try:
            if receive_buffer is not None:
                _set_receive_buffer(sock, receive_buffer)
            self._endpoint = local_endpoint(sock)
            self._core = ServerCore(sock, engine, kind="UDPServer", label=str(self._endpoint), name=name)
        except BaseException:
            sock.close()
            raise
        self._engine = engine

    @property
    def endpoint(self) -> Endpoint:
        """The endpoint the server is bound to (with the real port when bound to port 0)."""
        return self._endpoint

    @property
    def batches(self) -> bool:
        """Whether the server receives and replies in batches (Linux, one worker; see the class docs).

        When true, an error from the kernel's send of a reply comes after the handler
        returned, so it is logged instead of raised into the handler.
        """
        return self._engine.batched

    def __repr__(self) -> str:
        return f"<UDPServer {self._endpoint} {self._core.state}, workers={self._engine.workers}>"
