"""TCP clients and servers: :func:`connect_tcp`, :class:`StreamConnection`, :class:`TCPServer`, :func:`port_open`.

Blocking, thread-based and typed. Every blocking call has a timeout: the connection's
default (``timeout=`` when it is made) or the ``timeout=`` of the call, a deadline for
the whole call (``recv_exactly(1000, timeout=2)`` returns 1000 bytes within 2 s or
raises, however slowly they trickle in). Timeouts are enforced by the kernel
(``SO_RCVTIMEO``/``SO_SNDTIMEO`` on a blocking socket), which costs no system call per
read, unlike Python socket timeouts (a ``poll()`` before each ``recv``).

Errors are netbasics errors, translated from ``OSError`` in one place
(``_sockets.translate_os_error``): :class:`ConnectError` and :class:`NetTimeoutError`
when connecting, :class:`ConnectionClosed` (with ``.partial``) when the peer goes away,
:class:`NetTimeoutError` when a deadline passes, :class:`FrameTooLarge` when a message is
over its limit.
"""

from __future__ import annotations

import enum
import errno
import logging
import os
import queue
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Final, Union

from ._io.happy_eyeballs import ATTEMPT_DELAY, open_tcp_socket
from ._io.message_loop import MessageLoop, Responder
from ._io.sockets import (
    DEFAULT_BACKLOG,
    AcceptBackoff,
    listen_socket,
    local_endpoint,
    remote_endpoint,
    set_io_timeout,
    set_keepalive,
    translate_os_error,
)
from .addresses import IPv4Address, IPv6Address
from .endpoints import Endpoint, EndpointLike, HostPort, coerce_target
from .errors import ConnectError, ConnectionClosed, EndpointError, FrameTooLarge, NetTimeoutError, quote
from .framing import Framer
from .resolver import resolve
from .safety import DestinationPolicy, check_destination

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_MAX_CONNECTIONS",
    "ConnectionHandler",
    "StreamConnection",
    "TCPServer",
    "connect_tcp",
    "port_open",
]

logger = logging.getLogger("netbasics")

#: Seconds ``connect_tcp()`` waits for the whole Happy Eyeballs race by default.
DEFAULT_CONNECT_TIMEOUT: Final = 10.0
#: Seconds a server waits for any one read or write of a client by default.
DEFAULT_IDLE_TIMEOUT: Final = 60.0
#: Connections a server handles at once by default (one worker thread each).
DEFAULT_MAX_CONNECTIONS: Final = 256
#: Bytes asked of the kernel per read.
_CHUNK: Final = 65536
#: Seconds an idle worker thread waits for another connection before it exits.
_WORKER_IDLE: Final = 5.0
#: Seconds added to stop()'s grace period for closing what is left and joining threads.
_STOP_SLACK: Final = 0.09
# MSG_NOSIGNAL: a send to a reset peer fails with EPIPE instead of killing the process
# with SIGPIPE (Python ignores SIGPIPE, but an embedding application may not).
_SEND_FLAGS: Final = getattr(socket, "MSG_NOSIGNAL", 0)
_SO_RCVTIMEO: Final = socket.SO_RCVTIMEO
_SO_SNDTIMEO: Final = socket.SO_SNDTIMEO
_monotonic = time.monotonic
# The shortest kernel timeout (1 µs); SO_RCVTIMEO of 0 would mean "wait forever".
_MIN_WAIT: Final = 1e-6
# Timeouts above this (about 31 years) mean "no timeout".
_FOREVER: Final = 1e9


class _Default(enum.Enum):
    """Marker for "use the connection's default timeout"."""

    TIMEOUT = "the connection's default timeout"


_DEFAULT: Final = _Default.TIMEOUT
#: A per-call timeout: seconds, ``None`` for no limit, or omitted for the connection's default.
Timeout = Union[float, None, _Default]
SourceLike = Union[EndpointLike, IPv4Address, IPv6Address]


def _stream_closed(what: str, partial: bytes = b"") -> ConnectionClosed:
    return ConnectionClosed(what, partial=partial)


class StreamConnection:
    """A connected TCP stream with deadlines, exact reads, delimited reads and framing.

    Made by :func:`connect_tcp` or handed to a :class:`TCPServer` handler; wrapping a
    connected ``socket.socket`` yourself also works. A context manager: leaving the
    block closes it.

    * ``timeout`` is the default for every call, in seconds (``None``: no limit); each
      call also takes its own ``timeout=``. A timeout is a deadline for the whole call
      and raises :class:`NetTimeoutError`; data already received stays buffered.
    * ``TCP_NODELAY`` is on unless ``nodelay=False``: small messages leave at once.
    * ``keepalive=True`` (or seconds of idleness before probing) turns on TCP keepalive.

    When the peer closes mid-message, ``recv_exactly``, ``recv_until``, ``recv_message``
    and the iterators raise :class:`ConnectionClosed` with the bytes received so far in
    ``.partial``; plain :meth:`recv` returns ``b""`` at the end of the stream.

    One thread may read while another writes; two threads must not read (or write) at
    the same time.
    """

    __slots__ = (
        "__weakref__",
        "_buf",
        "_closed",
        "_framer",
        "_local",
        "_messages",
        "_peer",
        "_rcvtimeo",
        "_remote",
        "_sndtimeo",
        "_sock",
        "_timeout",
    )

    def __init__(
        self,
        sock: socket.socket,
        *,
        timeout: float | None = None,
        nodelay: bool = True,
        keepalive: bool | float = False,
        remote: Endpoint | None = None,
    ) -> None:
        if sock.type != socket.SOCK_STREAM:
            raise ValueError(f"StreamConnection needs a SOCK_STREAM socket, got {sock.type!r}")
        if sock.gettimeout() is not None:
            sock.settimeout(None)  # timeouts are SO_RCVTIMEO/SO_SNDTIMEO, see the module docs
        self._sock = sock
        self._timeout = _check_timeout(timeout)
        self._buf = bytearray()
        self._closed = False
        self._rcvtimeo = 0.0
        self._sndtimeo = 0.0
        self._local: Endpoint | None = None
        self._remote = remote
        self._peer: tuple[object, ...] | None = None
        self._framer: Framer | None = None
        self._messages: deque[bytes] = deque()
        try:
            if nodelay:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if keepalive is not False:
                idle = 60.0 if keepalive is True else float(keepalive)
                set_keepalive(sock, idle=idle)
        except OSError as exc:
            raise translate_os_error(exc, "setsockopt", self._remote) from exc

    @classmethod
    def _accepted(cls, sock: socket.socket, peer: tuple[object, ...], timeout: float | None) -> StreamConnection:
        sock.setblocking(True)  # BSDs hand out accepted sockets non-blocking like the listener
        conn = cls(sock, timeout=timeout)
        conn._peer = peer
        return conn

    # --- properties -----------------------------------------------------------------

    @property
    def socket(self) -> socket.socket:
        """The underlying socket, for options this class does not cover. Do not read from it directly."""
        return self._sock

    @property
    def local(self) -> Endpoint:
        """The local endpoint (address and port this side uses)."""
        if self._local is None:
            try:
                self._local = local_endpoint(self._sock)
            except OSError as exc:
                raise self._error(exc, "getsockname", None) from exc
        return self._local

    @property
    def remote(self) -> Endpoint:
        """The peer's endpoint."""
        if self._remote is None:
            if self._peer is not None:
                self._remote = Endpoint.from_sockaddr(self._peer)
            else:
                try:
                    self._remote = remote_endpoint(self._sock)
                except OSError as exc:
                    raise self._error(exc, "getpeername", None) from exc
        return self._remote

    @property
    def timeout(self) -> float | None:
        """The default timeout of every call, in seconds; ``None`` for no limit. Settable."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self._timeout = _check_timeout(value)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def fileno(self) -> int:
        """The socket's file descriptor (-1 once closed), for ``select``/``selectors``."""
        return self._sock.fileno()

    # --- errors and timeouts ----------------------------------------------------------

    def _where(self) -> object:
        try:
            return self.remote
        except Exception:
            return "peer"

    def _error(self, exc: OSError, operation: str, timeout: float | None) -> BaseException:
        if self._closed or exc.errno == errno.EBADF:
            return ConnectionClosed(f"{operation}: the connection was closed on this side")
        target = self._where() if operation not in ("getsockname", "getpeername") else None
        return translate_os_error(exc, operation, target, timeout)

    def _timed_out(self, operation: str, timeout: float) -> NetTimeoutError:
        return NetTimeoutError(f"{operation} {self._where()}: timed out after {timeout:g} s")

    def _set_rcvtimeo(self, seconds: float) -> None:
        try:
            set_io_timeout(self._sock, _SO_RCVTIMEO, seconds)
        except OSError as exc:
            raise self._error(exc, "setsockopt", None) from exc
        self._rcvtimeo = seconds

    def _set_sndtimeo(self, seconds: float) -> None:
        try:
            set_io_timeout(self._sock, _SO_SNDTIMEO, seconds)
        except OSError as exc:
            raise self._error(exc, "setsockopt", None) from exc
        self._sndtimeo = seconds

    def _recv_once(self, size: int, timeout: float | None, start: float, first: bool = True) -> bytes:
        """One ``recv`` that respects the deadline ``start + timeout`` of the whole call."""
        if timeout is None:
            if self._rcvtimeo:
                self._set_rcvtimeo(0.0)
        else:
            # The first read of a call gets the whole timeout, which is what SO_RCVTIMEO
            # already holds in the common case: no system call. Later reads get the rest.
            want = timeout if first else timeout - (_monotonic() - start)
            if want <= 0:
                if not first:
                    raise self._timed_out("recv from", timeout)
                want = _MIN_WAIT  # timeout=0: take only what has already arrived
            if want != self._rcvtimeo:
                self._set_rcvtimeo(want)
        try:
            return self._sock.recv(size)
        except OSError as exc:
            # timeout=0 waited the 1 µs SO_RCVTIMEO minimum: that EAGAIN is a timeout too.
            raise self._error(exc, "recv from", timeout if timeout != 0 else _MIN_WAIT) from exc

    def _resolve_timeout(self, timeout: Timeout) -> float | None:
        if timeout is _DEFAULT:
            return self._timeout
        return _check_timeout(timeout)

    # --- reading --------------------------------------------------------------------

    def recv(self, max_bytes: int = _CHUNK, *, timeout: Timeout = _DEFAULT) -> bytes:
        """Up to ``max_bytes`` bytes, as soon as any are available; ``b""`` at the end of the stream.

        Raises :class:`NetTimeoutError` if nothing arrives in time, :class:`ConnectionClosed`
        if the peer reset the connection.
        """
        buf = self._buf
        if buf:
            data = bytes(buf[:max_bytes])
            del buf[:max_bytes]
            return data
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be >= 1, got {max_bytes}")
        return self._recv_once(max_bytes, self._timeout if timeout is _DEFAULT else _check_timeout(timeout), 0.0)

    def recv_exactly(self, n: int, *, timeout: Timeout = _DEFAULT) -> bytes:
        """Exactly ``n`` bytes.

        Raises :class:`ConnectionClosed` (``.partial`` holds what arrived) if the stream
        ends first, :class:`NetTimeoutError` if the deadline passes first (what arrived
        stays buffered for the next read).
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        buf = self._buf
        if len(buf) >= n:
            data = bytes(buf[:n])
            del buf[:n]
            return data
        t = self._resolve_timeout(timeout)
        start = 0.0 if t is None else _monotonic()
        first = True
        while True:
            chunk = self._recv_once(max(n - len(buf), _CHUNK), t, start, first)
            first = False
            if not chunk:
                partial = bytes(buf)
                buf.clear()
                raise _stream_closed(
                    f"recv_exactly: {self._where()} closed the connection after {len(partial)} of {n} bytes", partial
                )
            if not buf and len(chunk) == n:
                return chunk
            buf += chunk
            if len(buf) >= n:
                data = bytes(buf[:n])
                del buf[:n]
                return data

    def _recv_until(self, delimiter: bytes, max_size: int, t: float | None, eof_ok: bool) -> bytes | None:
        if not delimiter:
            raise ValueError("delimiter must not be empty")
        buf = self._buf
        dlen = len(delimiter)
        limit = max_size + dlen
        scan = 0
        start = 0.0 if t is None else _monotonic()
        first = True
        while True:
            end = buf.find(delimiter, scan, limit)
            if end >= 0:
                end += dlen
                data = bytes(buf[:end])
                del buf[:end]
                return data
            if len(buf) >= limit:
                size = len(buf)
                buf.clear()
                raise FrameTooLarge(
                    f"no delimiter {delimiter!r} within max_size={max_size} bytes from {self._where()} "
                    f"({size} bytes buffered)"
                )
            scan = max(0, len(buf) - dlen + 1)
            chunk = self._recv_once(_CHUNK, t, start, first)
            first = False
            if not chunk:
                if eof_ok and not buf:
                    return None
                partial = bytes(buf)
                buf.clear()
                raise _stream_closed(
                    f"{self._where()} closed the connection before delimiter {delimiter!r} "
                    f"({len(partial)} bytes of an unfinished message)",
                    partial,
                )
            buf += chunk

    def recv_until(self, delimiter: bytes = b"\n", *, max_size: int = _CHUNK, timeout: Timeout = _DEFAULT) -> bytes:
        """Bytes up to and including ``delimiter``.

        Raises :class:`FrameTooLarge` when ``max_size`` bytes (delimiter not counted)
        arrive without it, :class:`ConnectionClosed` (``.partial`` holds what arrived) when
        the stream ends first, :class:`NetTimeoutError` when the deadline passes.
        """
        data = self._recv_until(delimiter, max_size, self._resolve_timeout(timeout), False)
        assert data is not None
        return data

    def lines(
        self, delimiter: bytes = b"\n", *, max_size: int = _CHUNK, timeout: Timeout = _DEFAULT
    ) -> Iterator[bytes]:
        """Iterate over lines, without their delimiter, until the peer closes the stream.

        ``timeout`` applies to each line. A last line without a delimiter raises
        :class:`ConnectionClosed` with it in ``.partial``. Iterating over the connection
        itself is ``lines()``.
        """
        t = self._resolve_timeout(timeout)
        dlen = len(delimiter)
        while True:
            line = self._recv_until(delimiter, max_size, t, True)
            if line is None:
                return
            yield line[:-dlen]

    def __iter__(self) -> Iterator[bytes]:
        return self.lines()

    def _use_framer(self, framer: Framer) -> None:
        if framer is not self._framer:
            if self._messages or (self._framer is not None and self._framer.buffered):
                raise ValueError("messages of another framer are still buffered on this connection")
            self._framer = framer
        if self._buf:
            data = bytes(self._buf)
            self._buf.clear()
            self._messages.extend(framer.feed(data))

    def _recv_message(self, framer: Framer, t: float | None, eof_ok: bool) -> bytes | None:
        self._use_framer(framer)
        messages = self._messages
        start = 0.0 if t is None or messages else _monotonic()
        first = True
        while not messages:
            chunk = self._recv_once(_CHUNK, t, start, first)
            first = False
            if not chunk:
                partial = framer.partial
                if eof_ok and not partial:
                    return None
                framer.reset()
                raise _stream_closed(
                    f"{self._where()} closed the connection"
                    + (f" in the middle of a message ({len(partial)} bytes)" if partial else ""),
                    partial,
                )
            messages.extend(framer.feed(chunk))
        return messages.popleft()

    def recv_message(self, framer: Framer, *, timeout: Timeout = _DEFAULT) -> bytes:
        """The next message according to ``framer`` (a :class:`LineFramer` or :class:`LengthPrefixFramer`).

        Use the same framer object for every message of a connection: it keeps the
        bytes of a message not yet complete. Raises :class:`FrameTooLarge` as soon as a
        message is known to exceed the framer's ``max_size``, :class:`ConnectionClosed`
        when the stream ends (``.partial`` holds an unfinished message).
        """
        message = self._recv_message(framer, self._resolve_timeout(timeout), False)
        assert message is not None
        return message

    def messages(self, framer: Framer, *, timeout: Timeout = _DEFAULT) -> Iterator[bytes]:
        """Iterate over messages according to ``framer`` until the peer closes the stream cleanly."""
        t = self._resolve_timeout(timeout)
        while True:
            message = self._recv_message(framer, t, True)
            if message is None:
                return
            yield message

    # --- writing --------------------------------------------------------------------

    def send_all(self, data: bytes | bytearray | memoryview, *, timeout: Timeout = _DEFAULT) -> None:
        """Send every byte of ``data``, or raise.

        Raises :class:`ConnectionClosed` if the peer reset the connection (never
        SIGPIPE), :class:`NetTimeoutError` if the deadline passes first; then an unknown
        part of ``data`` was sent.
        """
        t = self._timeout if timeout is _DEFAULT else _check_timeout(timeout)
        start = 0.0
        if t is None:
            if self._sndtimeo:
                self._set_sndtimeo(0.0)
        else:
            start = _monotonic()
            want = t or _MIN_WAIT  # timeout=0: only what fits in the send buffer now
            if want != self._sndtimeo:
                self._set_sndtimeo(want)
        sock = self._sock
        try:
            sent = sock.send(data, _SEND_FLAGS)
            total = data.nbytes if isinstance(data, memoryview) else len(data)
            if sent == total:
                return
            view = memoryview(data).cast("B")
            while sent < total:
                if t is not None:
                    remaining = t - (_monotonic() - start)
                    if remaining <= 0:
                        raise self._timed_out("send to", t)
                    self._set_sndtimeo(remaining)
                sent += sock.send(view[sent:], _SEND_FLAGS)
        except OSError as exc:
            raise self._error(exc, "send to", t if t != 0 else _MIN_WAIT) from exc

    def send_message(self, message: bytes, framer: Framer, *, timeout: Timeout = _DEFAULT) -> None:
        """Encode ``message`` with ``framer`` and send it; :class:`FrameTooLarge` above its ``max_size``."""
        self.send_all(framer.encode(message), timeout=timeout)

    # --- closing --------------------------------------------------------------------

    def shutdown_write(self) -> None:
        """Half-close: tell the peer no more data will come (it reads ``b""``); reading still works."""
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            raise self._error(exc, "shutdown", None) from exc

    def _abort(self) -> None:
        """Shut the stream down both ways, waking any thread blocked in a read or write on it."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed or reset: nothing is blocked on it

    def close(self) -> None:
        """Close the connection (idempotent). Buffered, unread data is dropped."""
        if not self._closed:
            self._closed = True
            try:
                self._sock.close()
            except OSError:
                pass  # close() reports a pending error of a dead connection; nothing to do

    def __enter__(self) -> StreamConnection:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._closed:
            return "<StreamConnection closed>"
        try:
            return f"<StreamConnection {self.local} -> {self.remote}>"
        except Exception:
            return "<StreamConnection>"


def _check_timeout(timeout: object) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be seconds (int or float) or None, got {quote(timeout)}")
    if timeout != timeout or timeout < 0:
        raise ValueError(f"timeout must be >= 0 seconds, got {timeout!r}")
    if timeout > _FOREVER:
        return None  # inf and other absurd values: no limit (the kernel's timeval cannot hold them)
    return float(timeout)


# --- clients ------------------------------------------------------------------------


def _source_endpoint(source: SourceLike) -> Endpoint:
    if isinstance(source, (IPv4Address, IPv6Address)):
        return Endpoint(source, 0)
    if isinstance(source, str) and not source.startswith("[") and source.count(":") != 1:
        try:
            return Endpoint(source, 0)  # a bare address: any port
        except EndpointError:
            pass
    parsed = coerce_target(source)
    if isinstance(parsed, HostPort):
        raise EndpointError(f"source must be an IP address, not the name {quote(parsed.host)}")
    return parsed


def _targets(target: EndpointLike, policy: DestinationPolicy | None) -> tuple[object, list[Endpoint]]:
    parsed = coerce_target(target)
    if isinstance(parsed, Endpoint):
        if policy is not None:
            check_destination(parsed, policy=policy)
        return parsed, [parsed]
    # With a policy, resolve once and check every answer; the race below then uses exactly
    # these endpoints, so a DNS answer that changes after the check is never used.
    return parsed, resolve(parsed, policy=policy)


def connect_tcp(
    target: EndpointLike,
    *,
    timeout: float | None = None,
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    source: SourceLike | None = None,
    nodelay: bool = True,
    keepalive: bool | float = False,
    attempt_delay: float = ATTEMPT_DELAY,
    policy: DestinationPolicy | None = None,
) -> StreamConnection:
    """Open a TCP connection to ``target``: an :class:`Endpoint`, ``(host, port)`` or ``"host:port"``.

    A name is resolved (``localhost`` without DNS) and its addresses raced with Happy
    Eyeballs (RFC 8305): families interleaved, a new attempt every ``attempt_delay``
    seconds (250 ms) or as soon as one fails, the first to answer wins and the others
    are closed. ``connect_timeout`` bounds the whole race; ``timeout`` becomes the
    connection's default per-call timeout. ``source`` binds the local side (an address,
    or an endpoint to fix the port too); only addresses of its family are tried.

    With a ``policy`` (:class:`DestinationPolicy`), the destination is checked before any
    packet is sent: a name is resolved once, refused if any answer is unsafe, and only
    the checked addresses are connected to, which closes the DNS-rebinding window.
    :class:`UnsafeDestination` is raised for a refused destination.

    Raises :class:`ConnectError` (refused, unreachable) or :class:`NetTimeoutError`,
    naming every address tried; :class:`ResolveError` if the name does not resolve;
    :class:`EndpointError` for bad text.

    >>> from netbasics import TCPServer, connect_tcp
    >>> with TCPServer("127.0.0.1:0", lambda conn: conn.send_all(conn.recv())) as server:
    ...     with connect_tcp(server.endpoint, timeout=5) as conn:
    ...         conn.send_all(b"ping")
    ...         conn.recv()
    b'ping'
    """
    connect_timeout = _check_timeout(connect_timeout)
    shown, endpoints = _targets(target, policy)
    src = None if source is None else _source_endpoint(source)
    sock = open_tcp_socket(endpoints, target=shown, timeout=connect_timeout, source=src, delay=attempt_delay)
    try:
        return StreamConnection(sock, timeout=timeout, nodelay=nodelay, keepalive=keepalive)
    except BaseException:
        sock.close()
        raise


def port_open(target: EndpointLike, timeout: float = 1.0) -> bool:
    """True if something accepts TCP connections at ``target`` within ``timeout`` seconds (like ``nc -z``).

    Refused, unreachable and timed-out connects give ``False``; a name that does not
    resolve raises :class:`ResolveError` and bad text :class:`EndpointError`, since
    those are mistakes rather than answers.

    >>> from netbasics import TCPServer, port_open
    >>> with TCPServer("127.0.0.1:0", lambda conn: None) as server:
    ...     port_open(server.endpoint)
    True
    """
    try:
        conn = connect_tcp(target, connect_timeout=timeout)
    except (ConnectError, NetTimeoutError):
        return False
    conn.close()
    return True


# --- servers ------------------------------------------------------------------------

#: A :class:`TCPServer` handler: ``handler(conn)`` serves one connection in a worker thread.
ConnectionHandler = Callable[[StreamConnection], object]
_Job = Union[tuple[socket.socket, tuple[object, ...]], None]


class TCPServer:
    """A threaded TCP server that survives bad clients and stops promptly.

    ``bind`` is an endpoint, ``(host, port)`` or text: port 0 picks a free port (see
    :attr:`endpoint`), ``"[::]:port"`` accepts IPv4 too where the OS allows. The socket
    is bound and listening when the constructor returns (:class:`BindError` otherwise).
    ``handler(conn)`` runs for each connection in a pool of worker threads; the
    connection is closed when it returns.

    * ``max_connections`` handlers run at once; further clients wait in the listen
      backlog (``backlog``, default 4096) and are served when a slot frees.
    * ``idle_timeout`` is every connection's default timeout: each read and write must
      finish within it (a deadline for the whole read, so a client trickling one byte
      at a time cannot hold a worker). ``None`` disables it.
    * A handler exception is logged on the ``netbasics`` logger and closes only that
      connection; resets, broken pipes and idle timeouts are logged at debug level, a
      client's oversized message (:class:`FrameTooLarge`) as a warning without traceback.
    * If ``accept`` runs out of file descriptors the server logs once and backs off.

    Run it with :meth:`serve_forever` (blocking) or :meth:`start` (a background thread),
    or as a context manager (start, then stop on exit). :meth:`stop` is prompt.

    For request/response protocols with short replies, :meth:`for_messages` makes a
    server that runs every connection on one event-loop thread instead: in CPython it
    does several times more round trips per second with many clients.

    >>> from netbasics import TCPServer, connect_tcp
    >>> def echo(conn):
    ...     for line in conn:
    ...         conn.send_all(line.upper() + b"\\n")
    >>> with TCPServer("127.0.0.1:0", echo) as server, connect_tcp(server.endpoint, timeout=5) as conn:
    ...     conn.send_all(b"hello\\n")
    ...     conn.recv_until(b"\\n")
    b'HELLO\\n'
    """

    def __init__(
        self,
        bind: EndpointLike,
        handler: ConnectionHandler,
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        backlog: int = DEFAULT_BACKLOG,
        reuse_address: bool = True,
        reuse_port: bool = False,
        name: str | None = None,
    ) -> None:
        if not callable(handler):
            raise TypeError(f"handler must be callable, got {quote(handler)}")
        if isinstance(max_connections, bool) or not isinstance(max_connections, int) or max_connections < 1:
            raise ValueError(f"max_connections must be an int >= 1, got {max_connections!r}")
        self._handler = handler
        self._max = max_connections
        self._idle_timeout = _check_timeout(idle_timeout)
        parsed = coerce_target(bind)
        endpoint = parsed if isinstance(parsed, Endpoint) else resolve(parsed)[0]
        self._listener = listen_socket(endpoint, backlog=backlog, reuse_address=reuse_address, reuse_port=reuse_port)
        try:
            self._listener.setblocking(False)
            self._endpoint = local_endpoint(self._listener)
            self._wake_r, self._wake_w = os.pipe()
        except BaseException:
            self._listener.close()
            raise
        os.set_blocking(self._wake_w, False)
        self._name = name or f"TCPServer {self._endpoint}"
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._conns: set[StreamConnection] = set()
        self._workers: set[threading.Thread] = set()
        self._idle_workers = 0
        self._active = 0
        self._stopping = False
        self._cutting = False
        self._serving = False
        self._accept_thread: threading.Thread | None = None
        self._loop_done = threading.Event()
        self._local = threading.local()
        self._closed_fds = False
        self._message_loop: MessageLoop | None = None

    @classmethod
    def for_messages(
        cls,
        bind: EndpointLike,
        respond: Responder,
        *,
        framer: Framer,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        backlog: int = DEFAULT_BACKLOG,
        reuse_address: bool = True,
        name: str | None = None,
    ) -> TCPServer:
        """A server for request/response protocols: ``respond(message, peer)`` answers each message.

        Message mode runs every connection on one event-loop thread (non-blocking sockets
        on a ``selectors`` selector) instead of a thread per connection, which is several
        times faster for small messages in CPython. Each connection gets its own copy of
        ``framer`` (a :class:`LineFramer` or :class:`LengthPrefixFramer`); for every
        complete message it decodes, ``respond(message, peer)`` is called with the bytes
        and the client's :class:`Endpoint`, and a reply it returns is encoded with the same
        framer and sent back (``None``: no reply). Replies leave in the order of the messages.

        ``respond`` runs on the loop thread: while it runs no other client is served, so it
        must not block for long (no blocking I/O, no sleeping). For blocking work, use the
        threaded ``TCPServer(bind, handler)``.

        The server behaves like the threaded one (``start``, ``stop``, ``serve_forever``,
        the context manager, :attr:`endpoint`, :attr:`active_connections`):

        * an exception from ``respond`` is logged on the ``netbasics`` logger and closes only
          that connection; resets and broken pipes are debug records; a client's oversized
          message (:class:`FrameTooLarge`) closes its connection with a warning;
        * ``idle_timeout`` is a deadline for each complete message, counted from the
          previous one (or the connection), so trickling clients are cut (``None``: none);
        * a client that sends without reading stops being read once about 256 KiB of
          replies wait for it, so it cannot grow the server's memory;
        * at ``max_connections`` new clients wait in the listen backlog;
        * :meth:`stop` closes idle connections at once, lets queued replies drain for up to
          its ``timeout``, closes the rest and joins the loop thread; calling it from
          ``respond`` is fine (the loop stops when ``respond`` returns).

        >>> from netbasics import LineFramer, TCPServer, connect_tcp
        >>> def shout(message, peer):
        ...     return message.upper()
        >>> with TCPServer.for_messages("127.0.0.1:0", shout, framer=LineFramer()) as server:
        ...     with connect_tcp(server.endpoint, timeout=5) as conn:
        ...         conn.send_all(b"hello\\nworld\\n")
        ...         conn.recv_until(b"\\n"), conn.recv_until(b"\\n")
        (b'HELLO\\n', b'WORLD\\n')
        """
        loop = MessageLoop(respond, framer)  # checks its arguments before a socket exists
        server = cls(
            bind,
            _no_handler,
            max_connections=max_connections,
            idle_timeout=idle_timeout,
            backlog=backlog,
            reuse_address=reuse_address,
            name=name,
        )
        server._message_loop = loop
        return server

    @property
    def endpoint(self) -> Endpoint:
        """The endpoint actually bound: with port 0 asked, the port the OS picked."""
        return self._endpoint

    @property
    def active_connections(self) -> int:
        """Connections being handled right now."""
        return self._active

    @property
    def serving(self) -> bool:
        """True while the accept loop runs."""
        return self._serving and not self._stopping

    def __repr__(self) -> str:
        state = "stopped" if self._stopping else "serving" if self._serving else "ready"
        return f"<TCPServer {self._endpoint} {state}, {self._active} connections>"

    # --- running --------------------------------------------------------------------

    def serve_forever(self) -> None:
        """Accept and handle connections until :meth:`stop` (blocking the calling thread).

        If the loop ends with an exception (e.g. ``KeyboardInterrupt``), the server is
        stopped at once and the exception propagates.
        """
        with self._lock:
            if self._serving or self._stopping:
                raise RuntimeError("serve_forever() called on a server that is running or stopped")
            self._serving = True
        try:
            if self._message_loop is None:
                self._accept_loop()
            else:
                self._message_loop.run(self)
        except BaseException:
            self._close_listener()
            self._loop_done.set()
            self.stop(timeout=0)
            raise
        self._close_listener()
        self._loop_done.set()
        self._close_fds()  # the loop only ends when stopping

    def start(self) -> TCPServer:
        """Run :meth:`serve_forever` in a background thread; returns the server once it accepts."""
        thread = threading.Thread(target=self.serve_forever, name=self._name, daemon=True)
        with self._lock:
            if self._serving or self._stopping or self._accept_thread is not None:
                raise RuntimeError("start() called on a server that is running or stopped")
            self._accept_thread = thread
        thread.start()
        return self

    def __enter__(self) -> TCPServer:
        if self._accept_thread is None and not self._serving:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _close_listener(self) -> None:
        try:
            self._listener.close()
        except OSError:  # pragma: no cover - close of a listening socket does not fail
            pass

    def _accept_loop(self) -> None:
        listener = self._listener
        cond = self._cond
        backoff = AcceptBackoff(self, logger)
        with selectors.DefaultSelector() as sel:
            sel.register(listener, selectors.EVENT_READ)
            sel.register(self._wake_r, selectors.EVENT_READ)
            while True:
                with cond:
                    while self._active >= self._max and not self._stopping:
                        cond.wait()  # at capacity: new clients wait in the listen backlog
                    if self._stopping:
                        return
                    free = self._max - self._active
                if backoff.delay:
                    with cond:
                        cond.wait(backoff.delay)  # out of descriptors: give handlers time to free some
                    if self._is_stopping():
                        return
                sel.select()
                if self._is_stopping():
                    return
                while free > 0:
                    try:
                        sock, peer = listener.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError as exc:
                        backoff.failed(exc)
                        break
                    backoff.succeeded()
                    self._dispatch(sock, peer)
                    free -= 1

    def _is_stopping(self) -> bool:
        return self._stopping

    def _dispatch(self, sock: socket.socket, peer: tuple[object, ...]) -> None:
        with self._lock:
            self._active += 1
            if self._idle_workers:
                self._idle_workers -= 1
                self._queue.put((sock, peer))
                return
            thread = threading.Thread(target=self._worker, args=((sock, peer),), name=f"{self._name} worker")
            thread.daemon = True
            self._workers.add(thread)
        try:
            thread.start()
        except RuntimeError as exc:  # can't start new thread: out of memory or a ulimit
            with self._lock:
                self._workers.discard(thread)
                self._active -= 1
                self._cond.notify_all()
            sock.close()
            logger.error("%s: closed a connection from %s unhandled: cannot start a worker: %s", self, peer, exc)

    def _worker(self, job: _Job) -> None:
        try:
            while job is not None:
                self._handle(*job)
                job = self._next_job()
        finally:
            with self._lock:
                self._workers.discard(threading.current_thread())
                self._cond.notify_all()

    def _next_job(self) -> _Job:
        with self._lock:
            if self._stopping:
                return None
            self._idle_workers += 1
        try:
            return self._queue.get(timeout=_WORKER_IDLE)
        except queue.Empty:
            with self._lock:
                try:
                    return self._queue.get_nowait()  # handed over just as the wait ended
                except queue.Empty:
                    self._idle_workers -= 1
                    return None

    def _handle(self, sock: socket.socket, peer: tuple[object, ...]) -> None:
        conn: StreamConnection | None = None
        try:
            conn = StreamConnection._accepted(sock, peer, self._idle_timeout)
            with self._lock:
                self._conns.add(conn)
                cut = self._cutting
            if cut:
                conn._abort()  # accepted just before stop() ran out of grace: it ends at once
            self._local.conn = conn
            self._handler(conn)
        except (ConnectionError, TimeoutError) as exc:
            # Resets, broken pipes, idle clients: normal events on a server.
            logger.debug("%s: connection from %s ended: %s", self, _peer_text(peer), exc)
        except FrameTooLarge as exc:
            # The client broke the protocol, not the handler: no traceback.
            logger.warning("%s: closed connection from %s: %s", self, _peer_text(peer), exc)
        except Exception:
            logger.exception("%s: handler failed for connection from %s", self, _peer_text(peer))
        finally:
            self._local.conn = None
            if conn is not None:
                conn.close()
            else:
                sock.close()
            with self._lock:
                if conn is not None:
                    self._conns.discard(conn)
                self._active -= 1
                self._cond.notify_all()

    # --- stopping -------------------------------------------------------------------

    def stop(self, timeout: float = 5.0) -> None:
        """Stop: refuse new connections now, give handlers ``timeout`` seconds, then cut the rest.

        Phases: the listening socket is closed at once (new clients are refused);
        running handlers get up to ``timeout`` seconds to finish; connections still open
        are then shut down both ways, which ends any read or write blocked on them, and
        closed; every worker thread is joined. Returns within ``timeout`` + 0.1 s even
        with idle clients connected. Safe to call more than once, from any thread,
        including from inside a handler (that handler's own connection is left to it).
        """
        grace = _check_timeout(timeout)
        assert grace is not None or timeout is None
        deadline = _monotonic() + (grace or 0.0)
        hard_deadline = deadline + _STOP_SLACK
        if self._message_loop is not None:
            self._message_loop.stop(self, deadline, hard_deadline)
            return
        own = getattr(self._local, "conn", None)
        me = threading.current_thread()
        with self._lock:
            self._stopping = True
            self._idle_workers = 0
            # One exit sentinel per worker, not per idle one: a worker whose idle wait
            # ends just now may take another's. Spare sentinels are drained below.
            sentinels = len(self._workers)
            self._cond.notify_all()
        for _ in range(sentinels):
            self._queue.put(None)
        self._wake()
        accept_thread = self._accept_thread
        if self._serving:
            if accept_thread is not None and accept_thread is not me:
                accept_thread.join(max(0.0, hard_deadline - _monotonic()))
            elif accept_thread is None and not self._loop_done.is_set() and own is None:
                self._loop_done.wait(max(0.0, hard_deadline - _monotonic()))
        else:
            self._close_listener()
        # Phase 2: let running handlers (and connections accepted before the stop) finish.
        with self._lock:
            while True:
                others = self._active - (1 if own is not None else 0)
                remaining = deadline - _monotonic()
                if others <= 0 or remaining <= 0:
                    break
                self._cond.wait(remaining)
            self._cutting = True
            leftover = [conn for conn in self._conns if conn is not own]
        # Phase 3: cut what is left; blocked reads and writes return at once.
        for conn in leftover:
            logger.info("%s: closing connection from %s at shutdown", self, conn._where())
            conn._abort()
        # Phase 4: join every worker but the caller's.
        with self._lock:
            while True:
                others_alive = [t for t in self._workers if t is not me]
                remaining = hard_deadline - _monotonic()
                if not others_alive or remaining <= 0:
                    break
                self._cond.wait(remaining)
        if others_alive:
            logger.warning(
                "%s: %d handler thread(s) still running after stop(); their connections are closed",
                self,
                len(others_alive),
            )
            for conn in leftover:
                conn.close()
        self._drain_queue()
        if not self._serving or self._loop_done.is_set():
            self._close_fds()  # else serve_forever() closes them as it returns

    def _wake(self) -> None:
        with self._lock:
            if not self._closed_fds:
                try:
                    os.write(self._wake_w, b"x")
                except OSError:
                    pass  # the pipe is full: the accept loop is being woken anyway

    def _drain_queue(self) -> None:
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if job is None:
                continue
            sock, peer = job
            sock.close()
            with self._lock:
                self._active -= 1
                self._cond.notify_all()
            logger.info("%s: closed connection from %s unhandled: server stopping", self, _peer_text(peer))

    def _close_fds(self) -> None:
        with self._lock:
            if self._closed_fds:
                return
            self._closed_fds = True
        os.close(self._wake_r)
        os.close(self._wake_w)


def _no_handler(conn: StreamConnection) -> None:  # pragma: no cover - message mode never calls it
    """The handler of a message-mode server, which serves connections on its loop instead."""
    raise RuntimeError("a message-mode TCPServer has no per-connection handler")


def _peer_text(peer: tuple[object, ...]) -> str:
    try:
        return str(Endpoint.from_sockaddr(peer))
    except Exception:
        return repr(peer)
