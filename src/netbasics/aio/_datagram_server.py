"""asyncio datagram servers: :class:`UDPServer` and :class:`UnixDatagramServer`, the synchronous ones on a loop.

``workers`` tasks receive from one non-blocking socket, each running the handler
inline: a plain function is called, a coroutine function awaited, so with one worker
(the default) the handler never runs concurrently with itself, as in the threaded
server. Receiving goes through the synchronous socket object (:mod:`netbasics.udp`,
:mod:`netbasics.unix_datagram`), so a datagram larger than ``max_datagram`` is discarded and
logged exactly as there, and ``reply(data)`` is the synchronous ``send_to`` to the
sender: it never waits (a reply that finds the send buffer full is dropped, as UDP
may drop any datagram, with a debug record).

Stopping, in phases: idle workers are cancelled at once; workers inside a handler get
``timeout`` seconds, then are cancelled; the socket is closed last (and a Unix socket
file removed if still this server's), so replies made while finishing still go out.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, Union

from .. import udp as _sync_udp
from .. import unix_datagram as _sync_unix
from .._io.datagrams import BytesLike, Reply
from .._io.servers import check_datagram_server
from .._io.sockets import check_timeout
from ..endpoints import Endpoint, EndpointLike
from ..errors import ConnectError, DatagramTooLarge
from ..udp import DEFAULT_MAX_DATAGRAM, Datagram
from ..unix_addresses import UnixAddress, UnixAddressLike, parse_unix_address
from ..unix_datagram import UnixDatagram
from ._datagram import UNIX_MAX_DATAGRAM
from ._named import NamedServer
from ._readiness import FdWaiter

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["AsyncDatagramHandler", "AsyncUnixDatagramHandler", "UDPServer", "UnixDatagramServer"]

logger: Final = logging.getLogger("netbasics")

#: A :class:`UDPServer` handler: ``handler(datagram, reply)``, a function or a coroutine function.
AsyncDatagramHandler = Callable[[Datagram, Reply], Union[Awaitable[None], None]]
#: A :class:`UnixDatagramServer` handler, likewise.
AsyncUnixDatagramHandler = Callable[[UnixDatagram, Reply], Union[Awaitable[None], None]]

# Datagrams a worker handles with plain handlers before it yields to the loop: a steady
# stream of datagrams must not starve the loop's other tasks.
_FAIRNESS: Final = 64
# How long stop() waits for cancelled tasks to unwind (they only need a loop iteration).
_UNWIND: Final = 0.05

# The largest max_datagram of a Unix datagram server, as in netbasics.unix_datagram.
_UNIX_MAX_RECEIVE: Final = 16 * 1024 * 1024

_Sock = TypeVar("_Sock", _sync_udp.UDPSocket, _sync_unix.UnixDatagramSocket)


class _DatagramServer(NamedServer, Generic[_Sock]):
    """The lifecycle every asyncio datagram server shares: workers, stop in phases, ``async with``."""

    __slots__ = (
        "_busy",
        "_done",
        "_handler",
        "_max_datagram",
        "_name",
        "_readable",
        "_sock",
        "_state",
        "_tasks",
        "_workers",
    )

    _kind: str
    # Why a reply that would wait is dropped, for the debug record.
    _full: str
    _sock: _Sock

    def _setup(self, sock: _Sock, handler: Callable[..., object], workers: int, max_datagram: int, name: str) -> None:
        sock.socket.setblocking(False)
        self._sock = sock
        self._handler = handler
        self._workers = workers
        self._max_datagram = max_datagram
        self._name = name
        self._readable = FdWaiter(sock.fileno(), write=False)
        self._state = "ready"
        self._tasks: list[asyncio.Task[None]] = []
        self._busy: set[asyncio.Task[None] | None] = set()
        self._done: asyncio.Future[None] | None = None

    # --- serving ---------------------------------------------------------------------

    def _reply_to(self, datagram: Any) -> Reply:
        """``reply(data)`` for ``datagram``: the synchronous ``send_to`` its sender, never waiting.

        A reply that would wait (``BlockingIOError``) is dropped with a debug record
        saying why (:attr:`_full`), as UDP may drop any datagram.
        """
        send_to = self._sock.send_to
        sender = datagram.sender

        def reply(data: BytesLike) -> None:
            try:
                send_to(data, sender)
            except BlockingIOError:
                logger.debug("%s: reply to %s dropped: %s", self, sender, self._full)

        return reply

    async def _work(self) -> None:
        """One worker: receive, run the handler, until stopped. A hot path."""
        recv_from = self._sock.recv_from
        max_datagram = self._max_datagram
        handler = self._handler
        reply_to = self._reply_to
        readable = self._readable
        busy = self._busy
        me = asyncio.current_task()
        budget = _FAIRNESS
        while self._state == "serving":
            try:
                datagram = recv_from(max_datagram)
            except BlockingIOError:
                budget = _FAIRNESS
                await readable.wait(None)
                continue
            except DatagramTooLarge as exc:
                logger.warning("%s: %s", self, exc)  # discarded by the kernel, never cut
                continue
            except ConnectError:
                continue  # an ICMP error about an earlier reply, not about this socket
            except OSError as exc:
                if self._state != "serving":
                    return
                logger.error("%s: receive failed: %s", self, exc)
                await asyncio.sleep(0.01)  # do not spin if the error persists
                continue
            busy.add(me)
            try:
                result = handler(datagram, reply_to(datagram))
                if result is not None and inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("%s: handler failed for a datagram from %s", self, datagram.sender)
            finally:
                busy.discard(me)
            budget -= 1
            if not budget:
                budget = _FAIRNESS
                await asyncio.sleep(0)

    async def start(self) -> Self:
        """Start ``workers`` tasks on the running loop and return the server (its socket is already bound).

        ``RuntimeError`` if the server was started or stopped before.
        """
        if self._state != "ready":
            raise RuntimeError(f"{self} was already started or stopped")
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        self._state = "serving"
        self._tasks = [loop.create_task(self._work(), name=f"{self} worker {i}") for i in range(self._workers)]
        return self

    async def serve_forever(self) -> None:
        """Serve until :meth:`stop` (from another task or a handler); cancelling this call stops the server at once."""
        await self.start()
        done = self._done
        assert done is not None
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:
            await self.stop(0)
            raise

    async def stop(self, timeout: float | None = 5.0) -> None:
        """Stop: cancel idle workers, give busy handlers ``timeout`` seconds, cancel the rest, close the socket.

        Returns within ``timeout`` + 0.1 s. Safe to call more than once and from inside
        a handler (that handler's own task is left to finish).
        """
        grace = check_timeout(timeout)
        if self._state == "stopped":
            return
        if self._state == "stopping":
            assert self._done is not None
            await asyncio.shield(self._done)
            return
        self._state = "stopping"
        me = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not me]
        idle = [t for t in tasks if t not in self._busy]
        for task in idle:
            task.cancel()
        busy = [t for t in tasks if t in self._busy]
        if busy:
            _done, late = await asyncio.wait(busy, timeout=grace)
            if late:
                logger.warning("%s: %d handler(s) still busy after stop(); cancelled", self, len(late))
                for task in late:
                    task.cancel()
        if tasks:
            _done, stuck = await asyncio.wait(tasks, timeout=_UNWIND)
            for task in tasks:
                if task.done() and not task.cancelled() and task.exception() is not None:
                    logger.error("%s: worker failed", self, exc_info=task.exception())
            if stuck:
                logger.warning("%s: %d handler(s) ignored cancellation", self, len(stuck))
        self._readable.close()
        self._sock.close()
        self._state = "stopped"
        if self._done is not None and not self._done.done():
            self._done.set_result(None)


class UDPServer(_DatagramServer[_sync_udp.UDPSocket]):
    """The asyncio :class:`netbasics.UDPServer`: ``handler(datagram, reply)`` for every datagram, on the loop.

    The keywords are the synchronous server's. ``handler`` may be a plain function or a
    coroutine function; ``reply(data)`` is a plain call in both (it never waits).
    ``workers`` tasks receive, each running the handler inline. The socket is bound when
    the server is created (``bind`` given as a name is resolved then, synchronously;
    ``localhost`` and literals need no DNS). ``async with`` starts the server and stops
    it at the end of the block; or ``await server.start()`` /
    ``await server.serve_forever()`` and ``await server.stop(timeout)``. A handler's
    exception is logged on the ``"netbasics"`` logger and the server carries on.

    >>> import asyncio
    >>> from netbasics import aio
    >>> async def shout(datagram, reply):
    ...     reply(datagram.data.upper())
    >>> async def main():
    ...     async with aio.UDPServer("127.0.0.1:0", shout) as server:
    ...         return (await aio.udp_request(server.endpoint, b"hello")).data
    >>> asyncio.run(main())
    b'HELLO'
    """

    __slots__ = ("_endpoint",)

    _kind = "UDPServer"
    _full = "the send buffer is full"

    def __init__(
        self,
        bind: EndpointLike,
        handler: AsyncDatagramHandler,
        *,
        workers: int = 1,
        max_datagram: int = DEFAULT_MAX_DATAGRAM,
        family: int | None = None,
        receive_buffer: int | None = None,
        name: str | None = None,
    ) -> None:
        check_datagram_server(handler, workers, max_datagram, DEFAULT_MAX_DATAGRAM, name)  # the synchronous checks
        sock = _sync_udp.open_udp(bind=bind, family=family, receive_buffer=receive_buffer)
        try:
            self._endpoint = sock.local
            self._setup(sock, handler, workers, max_datagram, name or f"UDPServer {self._endpoint}")
        except BaseException:
            sock.close()
            raise

    @property
    def endpoint(self) -> Endpoint:
        """The endpoint the server is bound to (with the real port when bound to port 0)."""
        return self._endpoint

    def __repr__(self) -> str:
        return f"<aio.UDPServer {self._endpoint} {self._state}, workers={self._workers}>"


class UnixDatagramServer(_DatagramServer[_sync_unix.UnixDatagramSocket]):
    """The asyncio :class:`netbasics.UnixDatagramServer`: :class:`UDPServer` on a Unix datagram socket.

    ``bind`` and ``mode``, stale files, and removing the socket file on stop only if it is
    still this server's are as in the synchronous server; ``reply`` to an unnamed sender
    raises :class:`~netbasics.EndpointError`, and a reply to a client whose queue is full
    is dropped (a client that never reads cannot stall the server).

    >>> import asyncio, tempfile
    >>> from netbasics import aio
    >>> tmp = tempfile.TemporaryDirectory(dir="/tmp")  # socket paths must be short
    >>> async def main():
    ...     shout = lambda datagram, reply: reply(datagram.data.upper())
    ...     async with aio.UnixDatagramServer(f"unix:{tmp.name}/d.sock", shout) as server:
    ...         async with await aio.open_unix_datagram(connect=server.endpoint, timeout=5) as client:
    ...             await client.send(b"hello")
    ...             return await client.recv()
    >>> asyncio.run(main())
    b'HELLO'
    >>> tmp.cleanup()
    """

    __slots__ = ("_address",)

    _kind = "UnixDatagramServer"
    _full = "its receive queue is full"

    def __init__(
        self,
        bind: UnixAddressLike,
        handler: AsyncUnixDatagramHandler,
        *,
        mode: int | None = None,
        workers: int = 1,
        max_datagram: int = UNIX_MAX_DATAGRAM,
        name: str | None = None,
    ) -> None:
        check_datagram_server(handler, workers, max_datagram, _UNIX_MAX_RECEIVE, name)  # the synchronous checks
        address = parse_unix_address(bind)
        # The synchronous socket replaces a stale file, refuses a live one, and on close
        # removes the file only if it is still the one it bound.
        sock = _sync_unix.open_unix_datagram(bind=address, mode=mode)
        try:
            self._address = address
            self._setup(sock, handler, workers, max_datagram, name or f"UnixDatagramServer {address}")
        except BaseException:
            sock.close()
            raise

    @property
    def endpoint(self) -> UnixAddress:
        """The address the server is bound to."""
        return self._address

    def __repr__(self) -> str:
        return f"<aio.UnixDatagramServer {self._address} {self._state}, workers={self._workers}>"
