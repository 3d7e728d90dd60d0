"""The asyncio stream connection and its clients: :class:`StreamConnection`, connect_tcp/unix, resolve, port_open.

The connection is an :class:`asyncio.Protocol` feeding the package's sans-I/O receive
buffer (:class:`~netbasics.receive_buffer.ReceiveBuffer`, the one owner of received
bytes); every read takes what it needs from the buffer and, while the buffer cannot
answer, waits for the protocol's next ``data_received`` under a deadline. Reading is
paused once the buffer holds more than the high-water mark, so a peer cannot grow it.

Why a protocol and not ``loop.sock_recv``: a protocol keeps the socket registered with
the selector, while each ``sock_recv`` that finds nothing registers and unregisters it
(two ``epoll_ctl`` calls per wait); writes go through the transport, which tries
``send()`` at once and buffers the rest.
"""

from __future__ import annotations

import asyncio
import functools
import io
import socket
import time
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, Final, cast

from .._io.happy_eyeballs import ATTEMPT_DELAY, SourceLike, checked_target, interleave, source_endpoint
from .._io.sockets import (
    DEFAULT_TIMEOUT,
    STREAM_READ,
    Timeout,
    bind_socket,
    check_int,
    check_timeout,
    connect_failure,
    family_of,
    local_endpoint,
    remote_endpoint,
    translate_os_error,
)
from .._io.unix_sockets import peer_credentials, unix_address_error, unix_name
from ..endpoints import Endpoint, EndpointLike, HostPort
from ..errors import ClosedLocally, ConnectError, ConnectionClosed, EndpointError, NetTimeoutError, PeerClosed, quote
from ..framing import DEFAULT_MAX_LINE, Framer
from ..receive_buffer import ReceiveBuffer
from ..resolver import Resolver
from ..resolver import resolve as _resolve_sync
from ..safety import DestinationPolicy
from ..unix_addresses import PeerCredentials, UnixAddress, UnixAddressLike, parse_unix_address
from ._deadline import EXPIRED, Alarm, deadline, deadline_at, wait_until

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "StreamConnection",
    "connect_tcp",
    "connect_unix",
    "open_connection",
    "port_open",
    "resolve",
]

#: Seconds ``connect_tcp()`` waits for the whole Happy Eyeballs race by default (as the synchronous one).
DEFAULT_CONNECT_TIMEOUT: Final = 10.0
_DEFAULT: Final = DEFAULT_TIMEOUT
_READ: Final = STREAM_READ
# Reading pauses once this many bytes wait unread (a slow reader does not grow memory),
# and resumes below a quarter of it.
_READ_HIGH: Final = 4 * STREAM_READ
_READ_LOW: Final = STREAM_READ
# The transport's write buffer: send_all() waits while more than this waits to be sent.
_WRITE_HIGH: Final = 256 * 1024
# Read size of send_file's copy loop (a loop without sendfile).
_COPY_CHUNK: Final = 256 * 1024
_INET: Final = (socket.AF_INET, socket.AF_INET6)


class _Protocol(asyncio.Protocol):
    """The transport's side: received bytes into the buffer, wake the one waiting read or drain.

    The hot path of a request/response exchange is a :meth:`StreamConnection.recv` that
    waits on an empty buffer: it sets ``want`` to its ``max_bytes``, and the next
    ``data_received`` hands the bytes straight to its waiter (the buffer would only
    store them to give them back), unless there are more than it wants.
    """

    __slots__ = (
        "alarm",
        "buf",
        "closed",
        "eof",
        "error",
        "paused_reading",
        "read_waiter",
        "transport",
        "want",
        "write_waiter",
        "writing_paused",
    )

    def __init__(self) -> None:
        self.buf = ReceiveBuffer()
        self.alarm: Alarm | None = None  # the reads' deadline, made with the transport
        self.transport: asyncio.Transport | None = None
        self.read_waiter: asyncio.Future[Any] | None = None
        # While a recv() waits on an empty buffer: its max_bytes (the bytes may go to its
        # waiter directly); 0 for any other read.
        self.want = 0
        self.write_waiter: asyncio.Future[Any] | None = None
        self.writing_paused = False
        self.paused_reading = False
        self.eof = False  # buf.eof, as a plain attribute for the hot path
        self.error: BaseException | None = None  # a reset or other failure that ended the connection
        self.closed: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport; they have its methods.
        self.transport = cast(asyncio.Transport, transport)
        loop = asyncio.get_running_loop()
        self.closed = loop.create_future()
        self.alarm = Alarm(loop, self._expired)

    def _expired(self) -> None:
        waiter = self.read_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(EXPIRED)

    def data_received(self, data: bytes) -> None:
        waiter = self.read_waiter
        if waiter is not None:
            if not waiter.done():
                want = self.want
                if want and len(data) <= want and data.__class__ is bytes:
                    # The waiting recv() takes all of it: the buffer is empty and stays so.
                    self.read_waiter = None
                    waiter.set_result(data)
                    return
                waiter.set_result(None)
            self.read_waiter = None
        buf = self.buf
        buf.feed(data)
        if not self.paused_reading and len(buf) > _READ_HIGH and self.transport is not None:
            self.paused_reading = True
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        self.buf.feed_eof()
        self.eof = True
        self._wake_reader()
        return True  # keep the write side open: the peer only half-closed

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            self.error = exc
        if not self.eof:
            self.buf.feed_eof()
            self.eof = True
        self._wake_reader()
        waiter = self.write_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self.closed is not None and not self.closed.done():
            self.closed.set_result(None)
        if self.alarm is not None:
            self.alarm.cancel()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        waiter = self.write_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_reader(self) -> None:
        waiter = self.read_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class StreamConnection:
    """An asyncio byte stream (TCP or Unix-domain) with deadlines, exact reads, delimited reads and framing.

    The asynchronous twin of :class:`netbasics.StreamConnection`: the same methods with
    the same keywords and defaults, as coroutines. Made by :func:`connect_tcp` or
    :func:`connect_unix`, or handed to a :class:`TCPServer`/:class:`UnixServer` handler.
    ``async with`` closes it; ``async for line in conn`` iterates over lines.

    * ``timeout`` (the connection's default, settable) bounds every await: each read,
      ``send_all``'s wait for the peer to take the data, ``send_file``. Every call also
      takes its own ``timeout=``; it is a deadline for the whole call and raises
      :class:`~netbasics.NetTimeoutError`. Bytes already received stay buffered.
    * Reads take bytes from one receive buffer, whatever the method: a ``recv_until``
      after ``recv_exactly`` after ``recv_message`` loses nothing.
    * Cancelling a task blocked in a read leaves the connection usable with nothing
      lost (what arrives stays buffered for the next read). Cancelling ``send_all``
      leaves the data queued in the transport (it is still sent); the connection stays
      usable. Closing drops unread bytes.
    * When the peer closes mid-message, ``recv_exactly``, ``recv_until``,
      ``recv_message`` and the iterators raise :class:`~netbasics.ConnectionClosed` with
      the bytes received so far in ``.partial``; :meth:`recv` returns ``b""``.

    One task may read while another writes; two tasks must not read at the same time.
    """

    __slots__ = (
        "__weakref__",
        "_alarm",
        "_closed",
        "_future",
        "_loop",
        "_now",
        "_proto",
        "_remote",
        "_timeout",
        "_transport",
    )

    def __init__(
        self, transport: asyncio.Transport, protocol: _Protocol, *, timeout: float | None, remote: object = None
    ) -> None:
        self._transport = transport
        self._proto = protocol
        self._timeout = check_timeout(timeout)
        self._loop = loop = asyncio.get_running_loop()
        # The loop's clock and future factory; for asyncio's own loops, what they call (a
        # Python method fewer per read). A loop that overrides them (uvloop) is asked.
        base = type(loop).time is asyncio.BaseEventLoop.time
        self._now: Callable[[], float] = time.monotonic if base else loop.time
        base = type(loop).create_future is asyncio.BaseEventLoop.create_future
        self._future: Callable[[], asyncio.Future[Any]] = (
            functools.partial(asyncio.Future, loop=loop) if base else loop.create_future
        )
        assert protocol.alarm is not None, "connection_made() was not called"
        self._alarm: Alarm = protocol.alarm
        self._closed = False
        self._remote: Endpoint | UnixAddress | None = None
        if isinstance(remote, tuple):  # an accepted IP peer
            self._remote = Endpoint.from_sockaddr(remote)
        transport.set_write_buffer_limits(high=_WRITE_HIGH)

    # --- properties -------------------------------------------------------------------

    @property
    def transport(self) -> asyncio.Transport:
        """The asyncio transport underneath, for options this class does not cover. Do not read from it."""
        return self._transport

    def _sock(self) -> socket.socket:
        sock: socket.socket = self._transport.get_extra_info("socket")
        return sock

    @property
    def local(self) -> Endpoint | UnixAddress:
        """The local endpoint; a :class:`UnixAddress` on a Unix-domain connection."""
        sock = self._sock()
        try:
            return local_endpoint(sock) if sock.family in _INET else unix_name(sock)
        except OSError as exc:
            raise translate_os_error(exc, "getsockname") from exc

    @property
    def remote(self) -> Endpoint | UnixAddress:
        """The peer's endpoint; a :class:`UnixAddress` on a Unix-domain connection (unnamed for most clients)."""
        if self._remote is None:
            sock = self._sock()
            try:
                self._remote = remote_endpoint(sock) if sock.family in _INET else unix_name(sock, peer=True)
            except OSError as exc:
                raise translate_os_error(exc, "getpeername") from exc
        return self._remote

    @property
    def peer_credentials(self) -> PeerCredentials:
        """Who the peer of a Unix-domain connection runs as (pid, uid, gid); ``ValueError`` on TCP."""
        return peer_credentials(self._sock())

    @property
    def timeout(self) -> float | None:
        """The default timeout of every await, in seconds; ``None`` for no limit. Settable."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self._timeout = check_timeout(value)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def fileno(self) -> int:
        """The socket's file descriptor (-1 once closed)."""
        sock = self._transport.get_extra_info("socket")
        return -1 if sock is None or self._closed else int(sock.fileno())

    # --- waiting ----------------------------------------------------------------------

    def _where(self) -> object:
        try:
            remote = self.remote
            if isinstance(remote, UnixAddress) and remote.is_unnamed:
                return f"the peer on {self.local}"
            return remote
        except Exception:
            return "peer"

    def _at(self, timeout: Timeout) -> tuple[float | None, float | None]:
        t = self._timeout if timeout is _DEFAULT else check_timeout(timeout)
        return t, (None if t is None else self._now() + t)

    def _arm(self, t: float | None, at: float | None, want: int) -> asyncio.Future[Any]:
        """The future the protocol resolves with its next bytes (``want``: see :class:`_Protocol`), deadline set."""
        if self._closed:
            raise ClosedLocally("recv")
        proto = self._proto
        if proto.paused_reading:
            proto.paused_reading = False
            self._transport.resume_reading()
        if at is not None:
            if at <= self._now():
                raise NetTimeoutError(f"recv from {self._where()}", t)
            alarm = self._alarm
            alarm.at = at
            if at < alarm.due:  # else the armed timer comes first and re-arms itself: no call
                alarm.set(at)
        fut = self._future()
        proto.read_waiter = fut
        proto.want = want
        return fut

    def _disarm(self, fut: asyncio.Future[Any], failed: bool) -> None:
        """After a wait: clear it; if the wait ``failed`` (cancelled) after bytes were handed over, keep them."""
        proto = self._proto
        proto.read_waiter = None
        proto.want = 0
        self._alarm.at = None
        if failed and fut.done() and not fut.cancelled():
            data = fut.result()
            if data.__class__ is bytes:
                proto.buf.unread(data)  # first in the stream: nothing is lost

    async def _more(self, t: float | None, at: float | None) -> None:
        """Wait for the protocol's next bytes or end of stream (into the buffer), until loop time ``at``."""
        fut = self._arm(t, at, 0)
        try:
            got = await fut
        except BaseException:
            self._disarm(fut, True)
            raise
        self._disarm(fut, False)
        if got is EXPIRED:
            raise NetTimeoutError(f"recv from {self._where()}", t)

    def _taken(self) -> None:
        """After a read: resume a paused transport once the buffer drained below the low mark."""
        proto = self._proto
        if proto.paused_reading and len(proto.buf) < _READ_LOW:
            proto.paused_reading = False
            self._transport.resume_reading()

    def _reset_error(self, operation: str) -> BaseException | None:
        exc = self._proto.error
        if exc is None:
            return None
        if isinstance(exc, OSError):
            err = translate_os_error(exc, operation, self._where())
            if isinstance(err, ConnectionClosed):
                return err
        return PeerClosed(f"{operation} {self._where()}: connection lost ({exc})")

    def _ended(self, what: str, partial: bytes) -> BaseException:
        if self._closed:
            return ClosedLocally("recv")
        err = self._reset_error("recv from")
        if err is not None and not partial:
            return err
        return PeerClosed(f"{self._where()} closed the connection {what}", partial=partial)

    # --- reading ----------------------------------------------------------------------

    async def recv(self, max_bytes: int = _READ, *, timeout: Timeout = _DEFAULT) -> bytes:
        """Up to ``max_bytes`` bytes, as soon as any are available; ``b""`` at the end of the stream.

        Raises :class:`NetTimeoutError` if nothing arrives in time, :class:`ConnectionClosed`
        if the peer reset the connection.
        """
        proto = self._proto
        buf = proto.buf
        if max_bytes.__class__ is not int or max_bytes < 1:
            check_int(max_bytes, "max_bytes", 1)
        if not buf:
            if self._closed:
                raise ClosedLocally("recv")
            if not proto.eof:
                t = self._timeout if timeout is _DEFAULT else check_timeout(timeout)
                # _arm() inlined for the common case (the hot path of a request/response
                # server): the bytes that end the wait come straight to this future.
                if t is None or t <= 0 or proto.paused_reading:
                    at = None if t is None else self._now() + t
                    fut = self._arm(t, at, max_bytes)
                else:
                    at = self._now() + t
                    alarm = self._alarm
                    alarm.at = at
                    if at < alarm.due:
                        alarm.set(at)
                    fut = self._future()
                    proto.read_waiter = fut
                    proto.want = max_bytes
                try:
                    got = await fut
                except BaseException:
                    self._disarm(fut, True)
                    raise
                proto.read_waiter = None
                proto.want = 0
                self._alarm.at = None
                if got.__class__ is bytes:
                    return got
                if got is EXPIRED:
                    raise NetTimeoutError(f"recv from {self._where()}", t)
                while not buf and not proto.eof:
                    await self._more(t, at)
            if not buf:
                err = self._reset_error("recv from")
                if err is not None:
                    raise err
                return b""
        data = buf.take(max_bytes)
        if proto.paused_reading:
            self._taken()
        return data

    async def recv_exactly(self, n: int, *, timeout: Timeout = _DEFAULT) -> bytes:
        """Exactly ``n`` bytes.

        Raises :class:`ConnectionClosed` (``.partial`` holds what arrived) if the stream
        ends first, :class:`NetTimeoutError` if the deadline passes first (what arrived
        stays buffered for the next read).
        """
        if n.__class__ is not int or n < 0:
            check_int(n, "n", 0)
        buf = self._proto.buf
        data = buf.take_exactly(n)
        if data is None:
            t, at = self._at(timeout)
            while (data := buf.take_exactly(n)) is None:
                if buf.eof:
                    partial = buf.take_rest()
                    raise self._ended(f"after {len(partial)} of {n} bytes (recv_exactly)", partial)
                await self._more(t, at)
        if self._proto.paused_reading:
            self._taken()
        return data

    async def recv_until(
        self, delimiter: bytes = b"\n", *, max_size: int = DEFAULT_MAX_LINE, timeout: Timeout = _DEFAULT
    ) -> bytes:
        """Bytes up to and including ``delimiter``.

        Raises :class:`FrameTooLarge` when ``max_size`` bytes (delimiter not counted)
        arrive without it, :class:`ConnectionClosed` (``.partial`` holds what arrived)
        when the stream ends first, :class:`NetTimeoutError` when the deadline passes.
        """
        if not isinstance(delimiter, bytes) or not delimiter:
            if not isinstance(delimiter, bytes):
                raise TypeError(f"delimiter must be bytes, got {type(delimiter).__name__} {quote(delimiter)}")
            raise ValueError("delimiter must be non-empty bytes, got b''")
        buf = self._proto.buf
        line = buf.take_until(delimiter, max_size)
        if line is None:
            t, at = self._at(timeout)
            while (line := buf.take_until(delimiter, max_size)) is None:
                if buf.eof:
                    partial = buf.take_rest()
                    raise self._ended(f"before delimiter {delimiter!r} ({len(partial)} bytes)", partial)
                await self._more(t, at)
        if self._proto.paused_reading:
            self._taken()
        return line

    async def recv_into(self, buffer: Any, nbytes: int = 0, *, timeout: Timeout = _DEFAULT) -> int:
        """Read up to ``nbytes`` bytes (all of ``buffer`` when 0) into ``buffer``; the count, 0 at the end.

        ``buffer`` is anything writable with the buffer protocol (``bytearray``,
        ``memoryview``, ``array``).
        """
        view = memoryview(buffer).cast("B")
        if view.readonly:
            raise TypeError("recv_into needs a writable buffer (bytearray, memoryview, array), got a read-only one")
        check_int(nbytes, "nbytes", 0)
        n = nbytes or len(view)
        if nbytes > len(view):
            raise ValueError(f"nbytes {nbytes} is larger than the buffer ({len(view)} bytes)")
        if not n:
            return 0
        buf = self._proto.buf
        if not len(buf) and not buf.eof:
            t, at = self._at(timeout)
            while not len(buf) and not buf.eof:
                await self._more(t, at)
        if not len(buf):
            err = self._reset_error("recv from")
            if err is not None:
                raise err
            return 0
        got = buf.readinto(view[:n])
        self._taken()
        return got

    async def recv_message(self, framer: Framer, *, timeout: Timeout = _DEFAULT) -> bytes:
        """The next message according to ``framer`` (any :class:`~netbasics.Framer`).

        Use the same framer object for every message of a connection. Raises
        :class:`FrameTooLarge` as soon as a message is known to exceed its limit,
        :class:`ConnectionClosed` when the stream ends (``.partial`` holds an unfinished message).
        """
        message = await self._next_message(framer, timeout, False)
        assert message is not None
        return message

    async def _next_message(self, framer: Framer, timeout: Timeout, eof_ok: bool) -> bytes | None:
        buf = self._proto.buf
        message = buf.take_message(framer)
        if message is None:
            t, at = self._at(timeout)
            while (message := buf.take_message(framer)) is None:
                if buf.eof:
                    partial = buf.take_rest()
                    if eof_ok and not partial and self._proto.error is None:
                        return None
                    what = f"in the middle of a message ({len(partial)} bytes)" if partial else "at a message boundary"
                    raise self._ended(what, partial)
                await self._more(t, at)
        if self._proto.paused_reading:
            self._taken()
        return message

    async def messages(self, framer: Framer, *, timeout: Timeout = _DEFAULT) -> AsyncIterator[bytes]:
        """Iterate over messages according to ``framer`` until the peer closes the stream cleanly."""
        while (message := await self._next_message(framer, timeout, True)) is not None:
            yield message

    async def lines(
        self, delimiter: bytes = b"\n", *, max_size: int = DEFAULT_MAX_LINE, timeout: Timeout = _DEFAULT
    ) -> AsyncIterator[bytes]:
        """Iterate over lines, without their delimiter, until the peer closes the stream.

        ``timeout`` applies to each line. A last line without a delimiter raises
        :class:`ConnectionClosed` with it in ``.partial``. ``async for`` over the
        connection itself is ``lines()``.
        """
        cut = len(delimiter)
        buf = self._proto.buf
        while True:
            try:
                line = await self.recv_until(delimiter, max_size=max_size, timeout=timeout)
            except ConnectionClosed as exc:
                if not exc.partial and buf.eof and self._proto.error is None and not self._closed:
                    return
                raise
            yield line[:-cut]

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.lines()

    # --- writing ----------------------------------------------------------------------

    def _check_writable(self) -> None:
        if self._closed:
            raise ClosedLocally("send")
        if self._transport.is_closing():
            err = self._reset_error("send to")
            raise err if err is not None else PeerClosed(f"send to {self._where()}: the connection is closed")

    async def send_all(self, data: bytes | bytearray | memoryview, *, timeout: Timeout = _DEFAULT) -> None:
        """Send every byte of ``data``, or raise.

        The bytes go to the transport at once; this waits (within the deadline) while
        more than 256 KiB wait to be sent, so a peer that does not read holds the
        sender back rather than growing memory. Raises :class:`ConnectionClosed` if the
        peer reset the connection, :class:`NetTimeoutError` if the deadline passes first
        (the data stays queued).
        """
        transport = self._transport
        if self._closed or transport.is_closing():
            self._check_writable()  # raises
        transport.write(data)  # sent at once when nothing waits in the transport's buffer
        if self._proto.writing_paused:
            await self._drain(timeout)

    async def _drain(self, timeout: Timeout) -> None:
        proto = self._proto
        t, at = self._at(timeout)
        while proto.writing_paused:
            if self._transport.is_closing():
                self._check_writable()
            fut = self._loop.create_future()
            proto.write_waiter = fut
            try:
                if not await wait_until(self._loop, fut, at):
                    raise NetTimeoutError(f"send to {self._where()}", t)
            finally:
                proto.write_waiter = None
        if proto.error is not None:
            self._check_writable()

    async def send_message(self, message: bytes, framer: Framer, *, timeout: Timeout = _DEFAULT) -> None:
        """Encode ``message`` with ``framer`` and send it; :class:`FrameTooLarge` above its limit."""
        await self.send_all(framer.encode(message), timeout=timeout)

    async def send_file(
        self, file: io.IOBase, offset: int = 0, count: int | None = None, *, timeout: Timeout = _DEFAULT
    ) -> int:
        """Send ``count`` bytes of a binary ``file`` from ``offset`` (all to its end by default); the bytes sent.

        ``loop.sendfile``: the kernel's ``sendfile`` where it can, a copy loop otherwise.
        ``timeout`` is a deadline for the whole file. The file position ends just after
        the last byte sent.
        """
        if isinstance(file, io.TextIOBase):
            raise TypeError("send_file needs a file opened in binary mode, got a text file")
        check_int(offset, "offset", 0)
        if count is not None:
            check_int(count, "count", 0)
            if count == 0:
                return 0
        self._check_writable()
        t, _ = self._at(timeout)
        try:
            async with deadline(t):
                try:
                    return await self._loop.sendfile(self._transport, file, offset, count)  # type: ignore[arg-type]
                except NotImplementedError:  # uvloop has no loop.sendfile
                    return await self._copy_file(file, offset, count)
        except TimeoutError:
            raise NetTimeoutError(f"send to {self._where()}", t) from None
        except OSError as exc:
            raise translate_os_error(exc, "send to", self._where(), t) from exc

    async def _copy_file(self, file: io.IOBase, offset: int, count: int | None) -> int:
        """send_file without loop.sendfile: reads in the default executor, sends as send_all does."""
        loop = self._loop
        await loop.run_in_executor(None, file.seek, offset)
        total = 0
        while count is None or total < count:
            want = _COPY_CHUNK if count is None else min(_COPY_CHUNK, count - total)
            chunk = await loop.run_in_executor(None, file.read, want)
            if not chunk:
                break
            self._check_writable()
            self._transport.write(chunk)
            total += len(chunk)
            if self._proto.writing_paused:
                await self._drain(None)  # the caller's deadline bounds the whole copy
        return total

    # --- closing ----------------------------------------------------------------------

    def shutdown_write(self) -> None:
        """Half-close: tell the peer no more data will come (it reads ``b""``); reading still works."""
        if self._transport.can_write_eof():
            self._transport.write_eof()

    def close(self) -> None:
        """Close the connection (idempotent): queued writes are still sent, unread bytes dropped.

        The socket is closed by the event loop shortly after; ``await conn.wait_closed()``
        (or leaving ``async with``) waits for that.
        """
        if not self._closed:
            self._closed = True
            self._transport.close()
            self._proto._wake_reader()

    def abort(self) -> None:
        """Close at once, dropping queued writes (a reset for TCP)."""
        self._closed = True
        self._transport.abort()
        self._proto._wake_reader()

    async def wait_closed(self) -> None:
        """Wait until the socket is closed; aborts it if queued writes are not taken within the default timeout."""
        closed = self._proto.closed
        if closed is None or closed.done():
            return
        # A future of our own, so that the deadline never resolves the protocol's.
        waiter = self._loop.create_future()
        closed.add_done_callback(functools.partial(_settle, waiter))
        if not await wait_until(self._loop, waiter, deadline_at(self._loop, self._timeout)):
            self._transport.abort()
            await closed

    async def __aenter__(self) -> StreamConnection:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
        await self.wait_closed()

    def __repr__(self) -> str:
        if self._closed:
            return "<netbasics.aio.StreamConnection closed>"
        try:
            return f"<netbasics.aio.StreamConnection {self.local} -> {self.remote}>"
        except Exception:
            return "<netbasics.aio.StreamConnection>"


def _settle(waiter: asyncio.Future[None], _: object) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def open_connection(sock: socket.socket, *, timeout: float | None, peer: object = None) -> StreamConnection:
    """A :class:`StreamConnection` over a connected stream socket (made or accepted); closes it on failure."""
    loop = asyncio.get_running_loop()
    try:
        sock.setblocking(False)
        transport, proto = await loop.connect_accepted_socket(_Protocol, sock)
    except BaseException:
        sock.close()
        raise
    return StreamConnection(transport, proto, timeout=timeout, remote=peer)


# --- resolving ----------------------------------------------------------------------------


def _no_lookup(host: str | HostPort, port: int | None) -> bool:
    """True when resolving needs no resolver: an IP literal or a localhost name (answered without DNS)."""
    try:
        hp = host if isinstance(host, HostPort) else HostPort(host, 0 if port is None else port)
    except (EndpointError, TypeError, ValueError):
        return True  # the synchronous resolve() raises the same error at once
    return hp.address is not None or hp.is_localhost


async def resolve(
    host: str | HostPort,
    port: int | None = None,
    *,
    family: int | None = None,
    policy: DestinationPolicy | None = None,
    resolver: Resolver | None = None,
) -> list[Endpoint]:
    """Resolve ``host`` to a list of endpoints, in the resolver's order: :func:`netbasics.resolve` for asyncio.

    IP literals and ``localhost`` are answered at once; a name is looked up by
    ``resolver`` (a :class:`~netbasics.Resolver`; ``None``: the system's
    ``getaddrinfo``) in the loop's default executor, so the loop never blocks. With a
    ``policy`` every answer is checked and one unsafe answer refuses the name
    (:class:`~netbasics.UnsafeDestination`).
    """
    if _no_lookup(host, port):
        return _resolve_sync(host, port, family=family, policy=policy, resolver=resolver)
    loop = asyncio.get_running_loop()
    lookup = functools.partial(_resolve_sync, host, port, family=family, policy=policy, resolver=resolver)
    return await loop.run_in_executor(None, lookup)


async def _targets(
    target: EndpointLike, policy: DestinationPolicy | None, resolver: Resolver | None
) -> tuple[object, list[Endpoint]]:
    parsed = checked_target(target, policy)
    if isinstance(parsed, Endpoint):
        return parsed, [parsed]
    # Resolve once and check every answer; the race then uses exactly these endpoints.
    return parsed, await resolve(parsed, policy=policy, resolver=resolver)


# --- Happy Eyeballs -----------------------------------------------------------------------
#
# RFC 8305 as the synchronous client does it (see netbasics._io.happy_eyeballs for the
# algorithm): the resolver's order with the families interleaved (section 4), a new attempt
# every attempt_delay or as soon as the previous one fails (section 5), the first to connect
# wins and every other attempt is cancelled and its socket closed. Each attempt is a task
# owning its socket: it closes the socket itself when it fails or is cancelled, and a
# socket that connects but loses the race is closed by the done-callback below, so a race
# cancelled at any await leaves no descriptor open.


async def _attempt(loop: asyncio.AbstractEventLoop, endpoint: Endpoint, source: Endpoint | None) -> socket.socket:
    if source is not None:
        sock = bind_socket(source, socket.SOCK_STREAM, reuse_address=False)
    else:
        sock = socket.socket(family_of(endpoint), socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        await loop.sock_connect(sock, endpoint.sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock


def _close_loser(task: asyncio.Task[socket.socket]) -> None:
    if not task.cancelled() and task.exception() is None:
        task.result().close()


async def _race(
    endpoints: list[Endpoint], *, target: object, timeout: float | None, source: Endpoint | None, delay: float
) -> socket.socket:
    order = interleave(endpoints)
    if source is not None:
        order = [ep for ep in order if ep.version == source.version]
    if not order:
        wanted = f"IPv{source.version} " if source is not None else ""
        raise ConnectError(f"connect to {target}", f"no {wanted}address to connect to (source {source})")
    loop = asyncio.get_running_loop()
    at = deadline_at(loop, timeout)
    results: dict[Endpoint, OSError | None] = {}
    pending: dict[asyncio.Task[socket.socket], Endpoint] = {}
    winner: socket.socket | None = None
    index = 0
    try:
        while winner is None:
            if index < len(order):
                endpoint = order[index]
                index += 1
                results[endpoint] = None
                pending[loop.create_task(_attempt(loop, endpoint, source))] = endpoint
                wait: float | None = delay
            elif not pending:
                break  # every address failed
            else:
                wait = None
            if at is not None:
                left = at - loop.time()
                if left <= 0:
                    break
                wait = left if wait is None else min(wait, left)
            done, _ = await asyncio.wait(pending, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                endpoint = pending.pop(task)
                exc = task.exception()
                if exc is None:
                    if winner is None:
                        winner = task.result()
                    else:
                        task.result().close()
                elif isinstance(exc, OSError):
                    results[endpoint] = exc
                else:
                    raise exc
            if not done and at is not None and loop.time() >= at:
                break
    finally:
        for task in pending:
            task.cancel()
            task.add_done_callback(_close_loser)
    if winner is None:
        last = next((exc for exc in reversed(results.values()) if exc is not None), None)
        raise connect_failure(target, list(results.items()), timeout) from last
    return winner


async def connect_tcp(
    target: EndpointLike,
    *,
    timeout: float | None = None,
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    source: SourceLike | None = None,
    nodelay: bool = True,
    keepalive: bool | float = False,
    attempt_delay: float = ATTEMPT_DELAY,
    policy: DestinationPolicy | None = None,
    resolver: Resolver | None = None,
) -> StreamConnection:
    """Open a TCP connection to ``target``: :func:`netbasics.connect_tcp` for asyncio.

    A name is resolved (without blocking the loop) and its addresses raced with Happy
    Eyeballs (RFC 8305): families interleaved in the resolver's order, a new attempt
    every ``attempt_delay`` seconds (250 ms) or as soon as one fails; the first to
    connect wins and the others are closed. ``connect_timeout`` bounds the race;
    ``timeout`` becomes the connection's default per-await timeout. Cancelling the
    call leaves no socket open.

    With a ``policy``, the destination is checked before any packet is sent: a name is
    resolved once, refused if any answer is unsafe, and only checked addresses are tried.
    ``resolver`` (a :class:`~netbasics.Resolver`) looks names up instead of the system.

    Raises :class:`ConnectError` (with every address tried) or :class:`NetTimeoutError`;
    :class:`ResolveError`, :class:`EndpointError`, :class:`UnsafeDestination` as the
    synchronous one.
    """
    connect_timeout = check_timeout(connect_timeout, "connect_timeout")
    shown, endpoints = await _targets(target, policy, resolver)
    src = None if source is None else source_endpoint(source)
    sock = await _race(endpoints, target=shown, timeout=connect_timeout, source=src, delay=attempt_delay)
    try:
        if nodelay:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if keepalive is not False:
            from .._io.sockets import set_keepalive

            set_keepalive(sock, idle=60.0 if keepalive is True else float(keepalive))
    except OSError as exc:
        sock.close()
        raise translate_os_error(exc, "setsockopt", shown) from exc
    try:
        # Remembered now, while the socket can say: after a reset getpeername fails.
        remote: object = sock.getpeername()  # the sockaddr, as a server passes an accepted peer's
    except OSError:
        remote = None
    return await open_connection(sock, timeout=timeout, peer=remote)


async def connect_unix(
    target: UnixAddressLike,
    *,
    timeout: float | None = None,
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
) -> StreamConnection:
    """Connect to the Unix stream socket at ``target``: :func:`netbasics.connect_unix` for asyncio.

    ``connect_timeout`` bounds the connect (it waits only while the server's backlog is
    full). Raises :class:`ConnectError` naming the address and why (no such socket file,
    refused, permission denied), :class:`NetTimeoutError`, :class:`EndpointError`.
    """
    address = parse_unix_address(target)
    if address.is_unnamed:
        raise ValueError("cannot connect to an unnamed Unix address")
    t = check_timeout(connect_timeout, "connect_timeout")
    loop = asyncio.get_running_loop()
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    except OSError as exc:
        raise translate_os_error(exc, "connect", address) from exc
    try:
        sock.setblocking(False)
        async with deadline(t):
            await loop.sock_connect(sock, address.sockaddr)
    except TimeoutError:
        sock.close()
        raise NetTimeoutError(f"connect to {address}", t) from None
    except OSError as exc:
        sock.close()
        raise unix_address_error(exc, "connect to", address, t, socket.SOCK_STREAM) from exc
    except BaseException:
        sock.close()
        raise
    return await open_connection(sock, timeout=timeout)


async def port_open(target: EndpointLike, timeout: float = 1.0, *, resolver: Resolver | None = None) -> bool:
    """True if something accepts TCP connections at ``target`` within ``timeout`` seconds (like ``nc -z``)."""
    try:
        conn = await connect_tcp(target, connect_timeout=timeout, resolver=resolver)
    except (ConnectError, NetTimeoutError):
        return False
    conn.abort()
    return True
