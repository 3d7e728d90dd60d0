"""asyncio datagrams: UDP and Unix datagram sockets, ``udp_request``, and the two datagram servers.

The same names, keywords and defaults as :mod:`netbasics.udp` and
:mod:`netbasics.unix_datagram`; sends and receives are coroutines. Each asyncio socket holds the
synchronous socket object (:class:`netbasics.UDPSocket`, :class:`netbasics.UnixDatagramSocket`)
on a non-blocking descriptor and calls its methods, so the size limits, the truncation
rule (a datagram larger than ``max_bytes`` is discarded and raised, never cut), the
broadcast guard and the translated errors are the synchronous ones; only when a call
would block does the coroutine wait for the descriptor (``_readiness``), with the
socket's ``timeout`` as its deadline.

Names are resolved without blocking the loop (:func:`netbasics.resolve`, with the
``resolver=`` given, in the loop's default executor); with a ``policy`` every answer is
checked before any datagram is sent, as ``connect_tcp`` does.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import socket
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Final, Generic, TypeVar

from .. import udp as _sync_udp
from .. import unix_datagram as _sync_unix
from .._io.datagrams import BytesLike
from .._io.sockets import check_int, check_timeout, family_number, refuse_port_zero
from .._io.udp_request import RequestSchedule, is_reply
from ..addresses import Address
from ..endpoints import Endpoint, EndpointLike, HostPort, coerce_target
from ..errors import ClosedLocally, ConnectError, EndpointError, NetbasicsError, NetTimeoutError
from ..resolver import Resolver, resolve
from ..safety import DestinationPolicy, check_destination
from ..udp import DEFAULT_MAX_DATAGRAM, Datagram, MulticastInterface
from ..unix_addresses import UnixAddress, UnixAddressLike
from ..unix_datagram import UnixDatagram
from ._readiness import FdWaiter

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "UDPSocket",
    "UnixDatagramSocket",
    "open_udp",
    "open_unix_datagram",
    "udp_request",
]

# The synchronous Unix datagram default receive size (netbasics.unix_datagram), kept equal by a test.
UNIX_MAX_DATAGRAM: Final = 65536

_Sync = TypeVar("_Sync", _sync_udp.UDPSocket, _sync_unix.UnixDatagramSocket)
_T = TypeVar("_T")


# --- names --------------------------------------------------------------------------------


async def _resolve_name(
    hp: HostPort, family: int | None, policy: DestinationPolicy | None, resolver: Resolver | None
) -> list[Endpoint]:
    """:func:`netbasics.resolve` without blocking the loop: a name is looked up in the loop's default executor."""
    if hp.address is not None or hp.is_localhost:
        return resolve(hp, family=family, policy=policy)  # no lookup: a literal, or localhost (RFC 6761)
    call = functools.partial(resolve, hp, family=family, policy=policy, resolver=resolver)
    return await asyncio.get_running_loop().run_in_executor(None, call)


async def _endpoint(
    target: EndpointLike,
    family: int | None,
    what: str,
    policy: DestinationPolicy | None = None,
    resolver: Resolver | None = None,
) -> Endpoint:
    """``target`` as one Endpoint (a name's first answer), checked against ``family`` and ``policy``.

    Any ``what`` but ``"bind"`` is a destination, where port 0 is refused.
    """
    if type(target) is Endpoint:
        ep = target
    else:
        parsed = coerce_target(target)
        if what != "bind":
            refuse_port_zero(parsed, target)
        if isinstance(parsed, HostPort):
            return (await _resolve_name(parsed, family, policy, resolver))[0]
        ep = parsed
    if family is not None and ep.version != family:
        raise EndpointError(f"{what} {ep} is IPv{ep.version}, but the socket is IPv{family}")
    if policy is not None:
        check_destination(ep, policy=policy)
    return ep


# --- sockets --------------------------------------------------------------------------------


class _AioDatagramSocket(Generic[_Sync]):
    """What the asyncio UDP and Unix datagram sockets share: the synchronous socket, its waits and deadline."""

    __slots__ = ("_readable", "_sync", "_timeout", "_writable")

    _sync: _Sync
    _timeout: float | None
    _kind: str  # names the socket in messages

    def _adopt(self, sync: _Sync, timeout: float | None) -> None:
        sock = sync.socket
        sock.setblocking(False)
        self._sync = sync
        self._timeout = timeout
        self._readable = FdWaiter(sock.fileno(), write=False)
        self._writable = FdWaiter(sock.fileno(), write=True)

    @property
    def timeout(self) -> float | None:
        """Seconds a send or receive may wait, or ``None`` for no limit; settable."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self._timeout = check_timeout(value)

    def settimeout(self, timeout: float | None) -> None:
        """Set :attr:`timeout`; ``None`` waits without limit, ``0`` never waits."""
        self.timeout = timeout

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._sync.closed

    @property
    def socket(self) -> socket.socket:
        """The underlying (non-blocking) ``socket.socket``, for options netbasics does not cover."""
        return self._sync.socket

    def fileno(self) -> int:
        """The file descriptor (-1 once closed)."""
        return self._sync.fileno()

    def _where(self) -> str:
        try:
            return str(self._sync.local)
        except (OSError, NetbasicsError):
            return "a closed socket"

    async def _io(self, call: Callable[[], _T], waiter: FdWaiter, timeout: float | None) -> _T | None:
        """``call()`` until it does not block; None once ``timeout`` seconds passed (``None``: no limit).

        A socket closed on this side, before or while waiting, raises ConnectionClosed.
        """
        try:
            return call()
        except BlockingIOError:
            pass
        except OSError:
            self._check_open()
            raise
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and (remaining <= 0 or not await waiter.wait(remaining)):
                return None
            if remaining is None:
                await waiter.wait(None)
            self._check_open()
            try:
                return call()
            except BlockingIOError:
                continue

    def _check_open(self) -> None:
        if self._sync.closed:
            raise ClosedLocally(what=f"the {self._kind} socket")

    async def _receive(self, call: Callable[[], _T]) -> _T:
        result = await self._io(call, self._readable, self._timeout)
        if result is None:
            assert self._timeout is not None
            raise NetTimeoutError(f"receive on {self._where()}", self._timeout)
        return result

    async def _send(self, call: Callable[[], None], target: object) -> None:
        def attempt() -> bool:
            call()
            return True

        done = await self._io(attempt, self._writable, self._timeout)
        if done is None:
            assert self._timeout is not None
            raise NetTimeoutError(f"send to {target}", self._timeout)

    def close(self) -> None:
        """Close the socket; further calls do nothing. Tasks waiting on it are woken and fail."""
        if not self._sync.closed:
            self._readable.close()
            self._writable.close()
        self._sync.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class UDPSocket(_AioDatagramSocket[_sync_udp.UDPSocket]):
    """The asyncio :class:`netbasics.UDPSocket`: the same methods, with sends and receives as coroutines.

    Open one with :func:`open_udp`; ``UDPSocket(sock)`` wraps an existing ``SOCK_DGRAM``
    socket (made non-blocking) and takes ownership of it. ``async with`` closes it.
    :attr:`timeout` bounds each send and receive (:class:`~netbasics.NetTimeoutError`).
    Several tasks may receive at once; each gets different datagrams.
    """

    __slots__ = ()
    _kind = "UDP"

    def __init__(self, sock: socket.socket, *, broadcast: bool = False) -> None:
        self._adopt(_sync_udp.UDPSocket(sock, broadcast=broadcast), None)

    @classmethod
    def _wrap(cls, sync: _sync_udp.UDPSocket, timeout: float | None) -> UDPSocket:
        obj = cls.__new__(cls)
        obj._adopt(sync, timeout)
        return obj

    @property
    def local(self) -> Endpoint:
        """The endpoint this socket is bound to."""
        return self._sync.local

    @property
    def remote(self) -> Endpoint | None:
        """The connected peer (the other side), or ``None``."""
        return self._sync.remote

    @property
    def family(self) -> int:
        """4 or 6."""
        return self._sync.family

    @property
    def broadcast(self) -> bool:
        """Whether broadcast sends are allowed (``SO_BROADCAST``)."""
        return self._sync.broadcast

    async def send_to(self, data: BytesLike, target: EndpointLike) -> None:
        """Send ``data`` as one datagram to ``target``; the errors of :meth:`netbasics.UDPSocket.send_to`."""
        dest: EndpointLike = target
        if type(target) is not Endpoint:
            parsed = coerce_target(target)
            refuse_port_zero(parsed, target)
            if isinstance(parsed, HostPort) and parsed.address is None and not parsed.is_localhost:
                dest = (await _resolve_name(parsed, self._sync.family, None, None))[0]  # the socket's family
            else:
                dest = parsed  # a literal or localhost: the synchronous send_to needs no DNS
        send_to = self._sync.send_to
        await self._send(lambda: send_to(data, dest), dest)

    async def send(self, data: BytesLike) -> None:
        """Send ``data`` to the connected peer; see :meth:`send_to`."""
        send = self._sync.send
        await self._send(lambda: send(data), self._sync.remote)

    async def recv_from(self, max_bytes: int = DEFAULT_MAX_DATAGRAM) -> Datagram:
        """Wait for the next datagram; larger than ``max_bytes``: :class:`~netbasics.DatagramTooLarge` (discarded)."""
        recv_from = self._sync.recv_from
        return await self._receive(lambda: recv_from(max_bytes))

    async def recv(self, max_bytes: int = DEFAULT_MAX_DATAGRAM) -> bytes:
        """Wait for the next datagram from the connected peer and return its bytes; see :meth:`recv_from`."""
        recv = self._sync.recv
        return await self._receive(lambda: recv(max_bytes))

    def join_group(self, group: Address | str, interface: MulticastInterface = None) -> None:
        """Receive datagrams sent to multicast ``group``; as :meth:`netbasics.UDPSocket.join_group`."""
        self._sync.join_group(group, interface)

    def leave_group(self, group: Address | str, interface: MulticastInterface = None) -> None:
        """Stop receiving datagrams for ``group``; the arguments must match :meth:`join_group`."""
        self._sync.leave_group(group, interface)

    @property
    def multicast_ttl(self) -> int:
        """Hop limit of multicast datagrams sent; settable."""
        return self._sync.multicast_ttl

    @multicast_ttl.setter
    def multicast_ttl(self, ttl: int) -> None:
        self._sync.multicast_ttl = ttl

    @property
    def multicast_loopback(self) -> bool:
        """Whether multicast datagrams sent are delivered to this host's own members; settable."""
        return self._sync.multicast_loopback

    @multicast_loopback.setter
    def multicast_loopback(self, enabled: bool) -> None:
        self._sync.multicast_loopback = enabled

    def set_multicast_interface(self, interface: MulticastInterface) -> None:
        """Send multicast datagrams out of ``interface``; as :meth:`netbasics.UDPSocket.set_multicast_interface`."""
        self._sync.set_multicast_interface(interface)

    def __repr__(self) -> str:
        return repr(self._sync).replace("<UDPSocket", "<aio.UDPSocket", 1)


class UnixDatagramSocket(_AioDatagramSocket[_sync_unix.UnixDatagramSocket]):
    """The asyncio :class:`netbasics.UnixDatagramSocket`; open one with :func:`open_unix_datagram`.

    Sends and receives are coroutines; a send to a receiver whose queue is full waits
    (up to :attr:`timeout`) without blocking the loop. ``async with`` closes it, and a
    socket file it bound is removed then, if still its own.
    """

    __slots__ = ()
    _kind = "Unix datagram"

    def __init__(self, sock: socket.socket) -> None:
        self._adopt(_sync_unix.UnixDatagramSocket(sock), None)

    @classmethod
    def _wrap(cls, sync: _sync_unix.UnixDatagramSocket, timeout: float | None) -> UnixDatagramSocket:
        obj = cls.__new__(cls)
        obj._adopt(sync, timeout)
        return obj

    @property
    def local(self) -> UnixAddress:
        """The address this socket is bound to (unnamed if unbound)."""
        return self._sync.local

    @property
    def remote(self) -> UnixAddress | None:
        """The connected peer (the other side), or ``None``."""
        return self._sync.remote

    async def send_to(self, data: BytesLike, target: UnixAddressLike) -> None:
        """Send ``data`` as one datagram to the socket bound at ``target``; the errors of the synchronous one."""
        send_to = self._sync.send_to
        await self._send(lambda: send_to(data, target), target)

    async def send(self, data: BytesLike) -> None:
        """Send ``data`` to the connected peer."""
        send = self._sync.send
        await self._send(lambda: send(data), self._sync.remote)

    async def recv_from(self, max_bytes: int = UNIX_MAX_DATAGRAM) -> UnixDatagram:
        """Wait for the next datagram; larger than ``max_bytes``: :class:`~netbasics.DatagramTooLarge` (discarded)."""
        recv_from = self._sync.recv_from
        return await self._receive(lambda: recv_from(max_bytes))

    async def recv(self, max_bytes: int = UNIX_MAX_DATAGRAM) -> bytes:
        """Wait for the next datagram and return its bytes; see :meth:`recv_from`."""
        recv = self._sync.recv
        return await self._receive(lambda: recv(max_bytes))

    def __repr__(self) -> str:
        return repr(self._sync).replace("<UnixDatagramSocket", "<aio.UnixDatagramSocket", 1)


# --- opening --------------------------------------------------------------------------------


async def open_udp(
    *,
    bind: EndpointLike | None = None,
    connect: EndpointLike | None = None,
    family: int | None = None,
    broadcast: bool = False,
    timeout: float | None = None,
    reuse_address: bool = False,
    receive_buffer: int | None = None,
    policy: DestinationPolicy | None = None,
    resolver: Resolver | None = None,
) -> UDPSocket:
    """Open a UDP socket: :func:`netbasics.open_udp` with names resolved without blocking the loop.

    The keywords are the synchronous ones; ``timeout`` bounds each send and receive.
    With a ``policy``, ``connect`` is checked (a name: every answer) before the socket
    is connected, and :class:`~netbasics.UnsafeDestination` raised for a refused one.

    >>> import asyncio
    >>> from netbasics import aio
    >>> async def main():
    ...     async with await aio.open_udp(bind="127.0.0.1:0", timeout=5) as a:
    ...         async with await aio.open_udp(connect=a.local, timeout=5) as b:
    ...             await b.send(b"hi")
    ...             return (await a.recv_from()).data
    >>> asyncio.run(main())
    b'hi'
    """
    want = family_number(family)
    t = check_timeout(timeout)
    bind_ep = None if bind is None else await _endpoint(bind, want, "bind", None, resolver)
    if bind_ep is not None:
        want = bind_ep.version
    peer = None if connect is None else await _endpoint(connect, want, "connect", policy, resolver)
    sync = _sync_udp.open_udp(
        bind=bind_ep,
        connect=peer,
        family=want,
        broadcast=broadcast,
        reuse_address=reuse_address,
        receive_buffer=receive_buffer,
    )
    return UDPSocket._wrap(sync, t)


async def udp_request(
    target: EndpointLike,
    data: BytesLike,
    *,
    timeout: float = 1.0,
    retries: int = 2,
    backoff: float = 2.0,
    max_bytes: int = DEFAULT_MAX_DATAGRAM,
    family: int | None = None,
    accept: Callable[[Datagram], bool] | None = None,
    policy: DestinationPolicy | None = None,
    resolver: Resolver | None = None,
) -> Datagram:
    """Send ``data`` to ``target`` and return the first reply from it, retrying on silence.

    :func:`netbasics.udp_request` as a coroutine, with the same rules: a name's
    addresses tried one after the other in the resolver's order, each with the whole
    schedule of ``retries + 1`` attempts, each waiting ``backoff`` times longer than the
    one before (RFC 8085 section 3.1.3); an ICMP port unreachable moves on to the next
    address at once (the last one keeps its schedule); datagrams from any other sender
    ignored, as are replies ``accept`` refuses; :class:`~netbasics.NetTimeoutError` after
    ``timeout * (1 + backoff + ... + backoff**retries)`` seconds per address,
    :class:`~netbasics.ConnectError` when every address was refused (the last at every
    attempt), :class:`~netbasics.DatagramTooLarge` for ``data`` larger than UDP carries
    or a reply larger than ``max_bytes``, :class:`~netbasics.EndpointError` for port 0.
    With a ``policy``, the target is checked (a name: every answer) before anything is
    sent.

    >>> import asyncio
    >>> from netbasics import aio
    >>> async def main():
    ...     async with aio.UDPServer("127.0.0.1:0", lambda d, reply: reply(d.data.upper())) as server:
    ...         return (await aio.udp_request(server.endpoint, b"hello")).data
    >>> asyncio.run(main())
    b'HELLO'
    """
    schedule = RequestSchedule(timeout, retries, backoff)  # the blocking udp_request's checks and schedule
    check_int(max_bytes, "max_bytes", 1, DEFAULT_MAX_DATAGRAM)
    if accept is not None and not callable(accept):
        raise TypeError(f"accept must be callable or None, got {type(accept).__name__}")
    want = family_number(family)
    parsed = target if type(target) is Endpoint else coerce_target(target)
    if isinstance(parsed, HostPort):
        refuse_port_zero(parsed, target)
        peers = await _resolve_name(parsed, want, policy, resolver)  # every answer, in order
    else:
        peers = [await _endpoint(target, want, "target", policy, resolver)]
    loop = asyncio.get_running_loop()

    async def request_one(peer: Endpoint, last: bool) -> Datagram | None:
        """The reply from ``peer``, or None: silent for its whole schedule, or refused (then move on unless last)."""
        # A connected socket: the kernel drops datagrams from other senders and reports an
        # ICMP port unreachable; the sender check below covers systems that do not filter.
        async with await open_udp(connect=peer) as sock:
            receive = functools.partial(sock._sync.recv_from, max_bytes)
            for wait in schedule.waits():
                deadline = None if wait is None else loop.time() + wait
                try:
                    await sock.send(data)
                except ConnectError as exc:
                    if exc.errno != errno.ECONNREFUSED:
                        raise
                    await sock.send(data)  # the ICMP error of an earlier attempt, now cleared: send again
                while True:
                    remaining = None if deadline is None else deadline - loop.time()
                    if remaining is not None and remaining <= 0:
                        break
                    try:
                        answer = await sock._io(receive, sock._readable, remaining)
                    except ConnectError as exc:
                        if exc.errno != errno.ECONNREFUSED:
                            raise
                        if schedule.refused(wait, last):  # nothing listening there: the next address, at once
                            return None
                        # Nothing listening (yet): wait out this attempt, then try again.
                        if deadline is not None:
                            await asyncio.sleep(max(0.0, deadline - loop.time()))
                        break
                    if answer is None:
                        break
                    if is_reply(answer, peer, accept):
                        return answer
        schedule.address_done()
        return None

    for index, peer in enumerate(peers):
        answer = await request_one(peer, index == len(peers) - 1)
        if answer is not None:
            return answer
    raise schedule.failure(target, peers)


async def open_unix_datagram(
    *,
    bind: UnixAddressLike | None = None,
    connect: UnixAddressLike | None = None,
    timeout: float | None = None,
    mode: int | None = None,
    autobind: bool = True,
) -> UnixDatagramSocket:
    """Open a Unix datagram socket: :func:`netbasics.open_unix_datagram` for asyncio (the same keywords and rules).

    >>> import asyncio, tempfile
    >>> from netbasics import aio
    >>> tmp = tempfile.TemporaryDirectory(dir="/tmp")  # socket paths must be short
    >>> async def main():
    ...     async with await aio.open_unix_datagram(bind=f"unix:{tmp.name}/d.sock", timeout=5) as server:
    ...         async with await aio.open_unix_datagram(connect=server.local, timeout=5) as client:
    ...             await client.send(b"hi")
    ...             d = await server.recv_from()
    ...             await server.send_to(d.data.upper(), d.sender)
    ...             return await client.recv()
    >>> asyncio.run(main())
    b'HI'
    >>> tmp.cleanup()
    """
    t = check_timeout(timeout)
    # Nothing here waits: binding and connecting a Unix datagram socket are immediate.
    sync = _sync_unix.open_unix_datagram(bind=bind, connect=connect, mode=mode, autobind=autobind)
    return UnixDatagramSocket._wrap(sync, t)
