"""Stream connections: :class:`StreamConnection` and the TCP client :func:`connect_tcp`.

A :class:`StreamConnection` wraps any connected stream socket (TCP, or a Unix-domain
stream socket) with deadlines, exact reads, delimited reads and framing. It is what
:func:`connect_tcp` returns and what a server hands its handler.

Blocking and typed. Every blocking call has a timeout: the connection's default
(``timeout=`` when it is made) or the ``timeout=`` of the call, a deadline for the whole
call (``recv_exactly(1000, timeout=2)`` returns 1000 bytes within 2 s or raises, however
slowly they trickle in). Timeouts are enforced by the kernel (``SO_RCVTIMEO``/
``SO_SNDTIMEO`` on a blocking socket), which costs no system call per read, unlike Python
socket timeouts (a ``poll()`` before each ``recv``).

Errors are netbasics errors, translated from ``OSError`` in one place
(``translate_os_error``): :class:`ConnectError` and :class:`NetTimeoutError` when
connecting, :class:`ConnectionClosed` (with ``.partial``) when the peer goes away,
:class:`NetTimeoutError` when a deadline passes, :class:`FrameTooLarge` when a message is
over its limit.
"""

from __future__ import annotations

import errno
import socket
import time
from collections import deque
from collections.abc import Iterator
from types import TracebackType
from typing import Final, Protocol, Union, cast

from ._io.happy_eyeballs import ATTEMPT_DELAY, open_tcp_socket
from ._io.held_send import Crowd, held_send_failed
from ._io.sockets import (
    DEFAULT_TIMEOUT,
    MIN_WAIT,
    READ_CHUNK,
    SEND_FLAGS,
    STREAM_READ,
    Timeout,
    check_timeout,
    local_endpoint,
    remote_endpoint,
    set_io_timeout,
    set_keepalive,
    translate_os_error,
)
from ._io.stream_extras import StreamExtras, first_wait
from ._io.unix_sockets import unix_name
from .addresses import IPv4Address, IPv6Address
from .endpoints import Endpoint, EndpointLike, HostPort, coerce_target
from .errors import ConnectError, ConnectionClosed, EndpointError, NetTimeoutError, quote
from .framing import Framer, LineFramer
from .resolver import Resolver, resolve
from .safety import DestinationPolicy, check_destination, refuse_target
from .unix_addresses import UnixAddress

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "StreamConnection",
    "Timeout",
    "connect_tcp",
    "port_open",
]

#: Seconds ``connect_tcp()`` waits for the whole Happy Eyeballs race by default.
DEFAULT_CONNECT_TIMEOUT: Final = 10.0
_CHUNK: Final = READ_CHUNK
_READ: Final = STREAM_READ
_SEND_FLAGS: Final = SEND_FLAGS
# The first send of send_all(): it never blocks (so it needs no deadline set up).
_SEND_NOW: Final = _SEND_FLAGS | getattr(socket, "MSG_DONTWAIT", 0)
# The largest data send_all() first tries to send that way.
_SEND_NOW_MAX: Final = 32768
_BYTES: Final = bytes
# The largest data a held send takes (see _io.held_send): the GIL is kept while the kernel
# copies it, so bulk data, whose copy takes longer than a GIL hand-off, is sent releasing it.
_HOLD_MAX: Final = 8192
# Module globals are found faster than builtins (the hot paths check these classes).
_MEMORYVIEW: Final = memoryview
_INT: Final = int
_SO_RCVTIMEO: Final = socket.SO_RCVTIMEO
_SO_SNDTIMEO: Final = socket.SO_SNDTIMEO
_monotonic = time.monotonic
_INET: Final = (socket.AF_INET, socket.AF_INET6)
_MIN_WAIT: Final = MIN_WAIT


_DEFAULT: Final = DEFAULT_TIMEOUT
# What StreamConnection._fast holds while recv() cannot take its fast path: no timeout
# argument is this object, so ``timeout is self._fast`` is then always false.
_SLOW: Final = object()
SourceLike = Union[EndpointLike, IPv4Address, IPv6Address]


class _HoldsErrors(Protocol):
    """A framer with the optional ``error_pending`` member (see :class:`Framer`)."""

    @property
    def error_pending(self) -> bool: ...


def _check_count(value: object, what: str, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {quote(value)}")
    if value < low:
        raise ValueError(f"{what} must be >= {low}, got {value}")


def _stream_closed(what: str, partial: bytes = b"") -> ConnectionClosed:
    return ConnectionClosed(what, partial=partial)


class StreamConnection(StreamExtras):
    """A connected byte stream (TCP or Unix-domain) with deadlines, exact reads, delimited reads and framing.

    Made by :func:`connect_tcp` or :func:`connect_unix`, or handed to a :class:`TCPServer`
    or :class:`UnixServer` handler; wrapping a connected ``socket.socket`` yourself also
    works. A context manager: leaving the block closes it. Besides reads and writes it
    hands out file objects (:meth:`makefile`), reads into your own buffers
    (:meth:`recv_into`, :meth:`recv_exactly_into`), sends files (:meth:`send_file`) and,
    on a Unix-domain connection, says who the peer is (:attr:`peer_credentials`).

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
        "_crowd",
        "_default_rcv",
        "_fast",
        "_framer",
        "_held",
        "_line_framer",
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
        if not isinstance(sock, socket.socket):
            raise TypeError(f"StreamConnection needs a socket.socket, got {type(sock).__name__}")
        if sock.type != socket.SOCK_STREAM:
            raise ValueError(f"StreamConnection needs a SOCK_STREAM socket, got {sock.type!r}")
        if sock.gettimeout() is not None:
            sock.settimeout(None)  # timeouts are SO_RCVTIMEO/SO_SNDTIMEO, see the module docs
        self._sock = sock
        self._timeout = check_timeout(timeout)
        self._buf = bytearray()
        self._closed = False
        self._rcvtimeo = 0.0
        self._sndtimeo = 0.0
        self._local: Endpoint | UnixAddress | None = None
        self._remote: Endpoint | UnixAddress | None = remote
        self._peer: tuple[object, ...] | None = None
        # SO_RCVTIMEO as the default timeout needs it: reads with the default timeout
        # skip every check while the socket already holds it (the common case).
        self._default_rcv = first_wait(self._timeout)
        # The framer whose messages (and partial message) are buffered, if any: bytes
        # received go either to _buf (plain reads) or to this framer, never both.
        self._framer: Framer | None = None
        # That framer again if it can hold an error back (Framer.error_pending), else None.
        self._held: _HoldsErrors | None = None
        self._line_framer: LineFramer | None = None  # recv_until() and lines()
        self._messages: deque[bytes] = deque()
        self._fast: object = _SLOW
        self._refresh_fast()
        self._crowd: Crowd | None = None
        try:
            # TCP options only on TCP: the class also wraps Unix-domain stream sockets.
            tcp = sock.family in _INET
            if nodelay and tcp:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if keepalive is not False and tcp:
                idle = 60.0 if keepalive is True else float(keepalive)
                set_keepalive(sock, idle=idle)
        except OSError as exc:
            raise translate_os_error(exc, "setsockopt", self._remote) from exc

    @classmethod
    def _accepted(
        cls, sock: socket.socket, peer: object, timeout: float | None, crowd: Crowd | None = None
    ) -> StreamConnection:
        """A connection for a socket a server accepted from ``peer`` (the address ``accept()`` gave).

        ``crowd`` is the server's flag for "several connection threads compete for the
        GIL": while it is up, small sends keep the GIL (see ``_io.held_send``).
        """
        sock.setblocking(True)  # BSDs hand out accepted sockets non-blocking like the listener
        conn = cls(sock, timeout=timeout)
        if isinstance(peer, tuple):  # an IP peer; a Unix-domain peer's address is text
            conn._peer = peer
        conn._crowd = crowd
        return conn

    # --- properties -----------------------------------------------------------------

    @property
    def socket(self) -> socket.socket:
        """The underlying socket, for options this class does not cover. Do not read from it directly."""
        return self._sock

    @property
    def local(self) -> Endpoint | UnixAddress:
        """The local endpoint (address and port this side uses); a :class:`UnixAddress` on a Unix-domain connection."""
        if self._local is None:
            try:
                self._local = local_endpoint(self._sock) if self._sock.family in _INET else unix_name(self._sock)
            except OSError as exc:
                raise self._error(exc, "getsockname", None) from exc
        return self._local

    @property
    def remote(self) -> Endpoint | UnixAddress:
        """The peer's endpoint; a :class:`UnixAddress` on a Unix-domain connection (unnamed for most clients)."""
        if self._remote is None:
            if self._peer is not None:
                self._remote = Endpoint.from_sockaddr(self._peer)
            else:
                try:
                    sock = self._sock
                    self._remote = remote_endpoint(sock) if sock.family in _INET else unix_name(sock, peer=True)
                except OSError as exc:
                    raise self._error(exc, "getpeername", None) from exc
        return self._remote

    @property
    def timeout(self) -> float | None:
        """The default timeout of every call, in seconds; ``None`` for no limit. Settable."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self._timeout = check_timeout(value)
        self._default_rcv = first_wait(self._timeout)
        self._refresh_fast()

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
            remote = self.remote
            if isinstance(remote, UnixAddress) and remote.is_unnamed:
                return f"the peer on {self.local}"  # a Unix client that did not bind: name the server's side
            return remote
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
        self._refresh_fast()

    def _refresh_fast(self) -> None:
        """Keep ``_fast`` true to the state: called wherever ``SO_RCVTIMEO``, the default or the framer changes.

        ``_fast`` is the default-timeout marker while ``SO_RCVTIMEO`` holds what the
        default timeout needs and no framer holds bytes, so that :meth:`recv` tests
        both (and the ``timeout`` argument) with one ``is``.
        """
        fast = self._rcvtimeo == self._default_rcv and self._framer is None
        self._fast = _DEFAULT if fast else _SLOW

    def _set_sndtimeo(self, seconds: float) -> None:
        try:
            set_io_timeout(self._sock, _SO_SNDTIMEO, seconds)
        except OSError as exc:
            raise self._error(exc, "setsockopt", None) from exc
        self._sndtimeo = seconds

    def _recv_first(self, size: int, timeout: float | None) -> bytes:
        """The first ``recv`` of a call: it may take the whole timeout.

        That is what ``SO_RCVTIMEO`` already holds in the common case (the same timeout
        as the last call): no system call besides the ``recv``.
        """
        want = first_wait(timeout)
        if want != self._rcvtimeo:
            self._set_rcvtimeo(want)
        try:
            return self._sock.recv(size)
        except OSError as exc:
            # timeout=0 waited the 1 µs SO_RCVTIMEO minimum: that EAGAIN is a timeout too.
            raise self._error(exc, "recv from", want or None) from exc

    def _recv_more(self, size: int, timeout: float | None, start: float) -> bytes:
        """A later ``recv`` of a call: what is left of the deadline ``start + timeout``."""
        self._arm(_SO_RCVTIMEO, timeout, start, False)
        try:
            return self._sock.recv(size)
        except OSError as exc:
            raise self._error(exc, "recv from", timeout) from exc

    def _resolve_timeout(self, timeout: Timeout) -> float | None:
        if timeout is _DEFAULT:
            return self._timeout
        return check_timeout(timeout)

    def _unframe(self) -> None:
        """Give the bytes a framer holds back to the plain buffer (before a plain read).

        Messages not yet returned are re-encoded with the framer, ahead of its partial
        message: for :class:`LineFramer` (so for ``recv_until``) and
        :class:`LengthPrefixFramer` these are exactly the bytes that were received.
        """
        framer = self._framer
        self._framer = None
        if framer is None:
            return
        self._refresh_fast()
        messages = self._messages
        partial = framer.partial
        if messages or partial:
            pending = b"".join([framer.encode(message) for message in messages]) + partial
            messages.clear()
            framer.reset()
            self._buf[:0] = pending

    # --- reading --------------------------------------------------------------------

    def recv(self, max_bytes: int = _READ, *, timeout: Timeout = _DEFAULT) -> bytes:
        """Up to ``max_bytes`` bytes, as soon as any are available; ``b""`` at the end of the stream.

        Raises :class:`NetTimeoutError` if nothing arrives in time, :class:`ConnectionClosed`
        if the peer reset the connection.
        """
        if (
            timeout is self._fast
            and not self._buf
            and (max_bytes is _READ or (max_bytes.__class__ is _INT and max_bytes > 0))
        ):
            # The fast path: the default timeout, which the kernel already enforces, and
            # nothing buffered. Each check spared here is time held under the GIL per message.
            try:
                return self._sock.recv(max_bytes)
            except OSError as exc:
                raise self._error(exc, "recv from", self._default_rcv or None) from exc
        _check_count(max_bytes, "max_bytes", 1)
        t = self._resolve_timeout(timeout)
        if self._framer is not None:
            self._unframe()
        buf = self._buf
        if buf:
            data = bytes(buf[:max_bytes])
            del buf[:max_bytes]
            return data
        return self._recv_first(max_bytes, t)

    def recv_exactly(self, n: int, *, timeout: Timeout = _DEFAULT) -> bytes:
        """Exactly ``n`` bytes.

        Raises :class:`ConnectionClosed` (``.partial`` holds what arrived) if the stream
        ends first, :class:`NetTimeoutError` if the deadline passes first (what arrived
        stays buffered for the next read).
        """
        if n.__class__ is not int or n < 0:
            _check_count(n, "n", 0)
        if timeout is _DEFAULT:
            t = self._timeout
            want = self._default_rcv
        else:
            t = check_timeout(timeout)
            want = first_wait(t)
        if self._framer is not None:
            self._unframe()
        buf = self._buf
        if len(buf) >= n:
            data = bytes(buf[:n])
            del buf[:n]
            return data
        start = 0.0 if t is None else _monotonic()
        # The first read may take the whole timeout: usually what SO_RCVTIMEO holds already.
        if want != self._rcvtimeo:
            self._set_rcvtimeo(want)
        try:
            chunk = self._sock.recv(max(n - len(buf), _READ))
        except OSError as exc:
            raise self._error(exc, "recv from", want or None) from exc
        while True:
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
            chunk = self._recv_more(max(n - len(buf), _READ), t, start)

    def _lines_framer(self, delimiter: bytes, max_size: int) -> LineFramer:
        framer = self._line_framer
        if framer is None or framer.delimiter != delimiter or framer.max_size != max_size:
            framer = self._line_framer = LineFramer(delimiter, max_size)
        return framer

    def recv_until(self, delimiter: bytes = b"\n", *, max_size: int = _CHUNK, timeout: Timeout = _DEFAULT) -> bytes:
        """Bytes up to and including ``delimiter``.

        Raises :class:`FrameTooLarge` when ``max_size`` bytes (delimiter not counted)
        arrive without it, :class:`ConnectionClosed` (``.partial`` holds what arrived) when
        the stream ends first, :class:`NetTimeoutError` when the deadline passes. The
        lines are split by a :class:`LineFramer`, with its limits and errors.
        """
        framer = self._lines_framer(delimiter, max_size)
        line = self._next_message(framer, self._timeout if timeout is _DEFAULT else check_timeout(timeout), False)
        assert line is not None
        return line + delimiter

    def lines(
        self, delimiter: bytes = b"\n", *, max_size: int = _CHUNK, timeout: Timeout = _DEFAULT
    ) -> Iterator[bytes]:
        """Iterate over lines, without their delimiter, until the peer closes the stream.

        ``timeout`` applies to each line. A last line without a delimiter raises
        :class:`ConnectionClosed` with it in ``.partial``. Iterating over the connection
        itself is ``lines()``. The same as ``messages(LineFramer(delimiter, max_size))``.
        """
        yield from self.messages(self._lines_framer(delimiter, max_size), timeout=timeout)

    def __iter__(self) -> Iterator[bytes]:
        return self.lines()

    def _use_framer(self, framer: Framer) -> None:
        """Make ``framer`` the connection's framer, feeding it the bytes plain reads left buffered."""
        old = self._framer
        if old is not None:
            if self._messages or old.partial:
                if old is not self._line_framer:
                    raise ValueError("messages of another framer are still buffered on this connection")
                self._unframe()  # what recv_until() left: exactly the bytes received
            self._framer = None
        if self._buf:
            data = bytes(self._buf)
            self._buf.clear()
            self._messages.extend(framer.feed(data))
        self._framer = framer
        # Looked up once per framer: framers without error_pending cost one None test per message.
        self._held = cast(_HoldsErrors, framer) if hasattr(framer, "error_pending") else None
        self._fast = _SLOW

    def _next_message(self, framer: Framer, t: float | None, eof_ok: bool) -> bytes | None:
        """The next message of ``framer``; ``None`` at a clean end of the stream if ``eof_ok``."""
        if framer is not self._framer:
            self._use_framer(framer)
        messages = self._messages
        if messages:
            return messages.popleft()
        held = self._held
        if held is not None and held.error_pending:
            # An error followed the messages already returned: feed(b"") raises it now,
            # rather than after a read that may wait for a peer with nothing more to send.
            messages.extend(framer.feed(b""))
            if messages:
                return messages.popleft()
        start = 0.0 if t is None else _monotonic()
        # The first read takes the whole timeout: with the default one, what SO_RCVTIMEO
        # already holds, so the common case is this one recv and one feed.
        want = self._default_rcv if t is self._timeout else first_wait(t)
        if want != self._rcvtimeo:
            self._set_rcvtimeo(want)
        try:
            chunk = self._sock.recv(_READ)
        except OSError as exc:
            raise self._error(exc, "recv from", want or None) from exc
        while True:
            if not chunk:
                self._ended(framer, eof_ok)
                return None
            got = framer.feed(chunk)
            if got:
                if len(got) == 1:
                    return got[0]
                messages.extend(got)
                return messages.popleft()
            chunk = self._recv_more(_READ, t, start)

    def _ended(self, framer: Framer, eof_ok: bool) -> None:
        partial = framer.partial
        if eof_ok and not partial:
            return
        framer.reset()
        if framer is self._line_framer:
            what = f"before delimiter {self._line_framer.delimiter!r} ({len(partial)} bytes of an unfinished message)"
        else:
            what = f"in the middle of a message ({len(partial)} bytes)" if partial else "at a message boundary"
        raise _stream_closed(f"{self._where()} closed the connection {what}", partial)

    def recv_message(self, framer: Framer, *, timeout: Timeout = _DEFAULT) -> bytes:
        """The next message according to ``framer`` (any :class:`Framer`).

        Use the same framer object for every message of a connection: it keeps the
        bytes of a message not yet complete. Raises :class:`FrameTooLarge` as soon as a
        message is known to exceed the framer's ``max_size``, :class:`ConnectionClosed`
        when the stream ends (``.partial`` holds an unfinished message).
        """
        message = self._next_message(framer, self._timeout if timeout is _DEFAULT else check_timeout(timeout), False)
        assert message is not None
        return message

    def messages(self, framer: Framer, *, timeout: Timeout = _DEFAULT) -> Iterator[bytes]:
        """Iterate over messages according to ``framer`` until the peer closes the stream cleanly."""
        t = self._resolve_timeout(timeout)
        next_message = self._next_message
        while True:
            message = next_message(framer, t, True)
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
        if timeout is _DEFAULT:
            size = len(data)
            if size <= _SEND_NOW_MAX:
                # The fast path: one send that does not block (no clock, no socket
                # option); what the kernel does not take at once goes through the timed
                # loop. Large data skips it: it would often find the buffer full, costing
                # a system call, and saves nothing that matters next to copying the data.
                crowd = self._crowd
                try:
                    if crowd is not None and crowd.busy and size <= _HOLD_MAX and data.__class__ is _BYTES:
                        # Other connection threads wait for the GIL: keep it (_io.held_send).
                        sent = crowd.send(self._sock.fileno(), data, size, _SEND_NOW)
                        if sent < 0:
                            sent = held_send_failed()
                    else:
                        sent = self._sock.send(data, _SEND_NOW)
                except BlockingIOError:
                    sent = 0
                except OSError as exc:
                    raise self._error(exc, "send to", self._timeout) from exc
                if sent == size and data.__class__ is not _MEMORYVIEW:
                    return
            elif self._sndtimeo == self._default_rcv and data.__class__ is _BYTES:
                # Large data, SO_SNDTIMEO already holding the default timeout: one blocking
                # send takes it all unless the deadline passes (the loop below then runs).
                start = _monotonic()
                try:
                    sent = self._sock.send(data, _SEND_FLAGS)
                except OSError as exc:
                    raise self._error(exc, "send to", self._timeout) from exc
                if sent != size:
                    self._send_rest(data, sent, self._timeout, start)
                return
            else:
                sent = 0
            self._send_rest(data, sent, self._timeout)
        else:
            self._send_rest(data, 0, check_timeout(timeout))

    def _send_rest(
        self, data: bytes | bytearray | memoryview, sent: int, t: float | None, start: float | None = None
    ) -> None:
        """Send ``data[sent:]``, blocking, within ``t`` seconds from ``start`` (default: now)."""
        if start is None:
            start = 0.0 if t is None else _monotonic()
        # The first step, as _arm() does it; the default timeout's value is known already.
        want = self._default_rcv if t is self._timeout else first_wait(t)
        if want != self._sndtimeo:
            self._set_sndtimeo(want)
        sock = self._sock
        try:
            if not sent:
                # A blocking send takes everything unless the deadline passes: usually one call.
                sent = sock.send(data, _SEND_FLAGS)
                if sent == len(data) and data.__class__ is not _MEMORYVIEW:
                    return
            view = memoryview(data).cast("B")
            total = view.nbytes
            while sent < total:
                if t is not None:
                    self._arm(_SO_SNDTIMEO, t, start, False)
                sent += sock.send(view[sent:], _SEND_FLAGS)
        except OSError as exc:
            raise self._error(exc, "send to", t if t != 0 else _MIN_WAIT) from exc

    def send_message(self, message: bytes, framer: Framer, *, timeout: Timeout = _DEFAULT) -> None:
        """Encode ``message`` with ``framer`` and send it; :class:`FrameTooLarge` above its limit."""
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


def _targets(
    target: EndpointLike, policy: DestinationPolicy | None, resolver: Resolver | None = None
) -> tuple[object, list[Endpoint]]:
    try:
        parsed = coerce_target(target)
    except EndpointError as exc:
        if policy is None:
            raise
        raise refuse_target(target, exc) from exc
    if isinstance(parsed, Endpoint):
        if policy is not None:
            check_destination(parsed, policy=policy)
        return parsed, [parsed]
    # With a policy, resolve once and check every answer; the race below then uses exactly
    # these endpoints, so a DNS answer that changes after the check is never used.
    return parsed, resolve(parsed, policy=policy, resolver=resolver)


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
    resolver: Resolver | None = None,
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
    :class:`UnsafeDestination` is raised for a refused destination. ``resolver`` (a
    :class:`Resolver`) looks names up instead of the system resolver.

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
    connect_timeout = check_timeout(connect_timeout)
    shown, endpoints = _targets(target, policy, resolver)
    src = None if source is None else _source_endpoint(source)
    sock = open_tcp_socket(endpoints, target=shown, timeout=connect_timeout, source=src, delay=attempt_delay)
    try:
        return StreamConnection(sock, timeout=timeout, nodelay=nodelay, keepalive=keepalive)
    except BaseException:
        sock.close()
        raise


def port_open(target: EndpointLike, timeout: float = 1.0, *, resolver: Resolver | None = None) -> bool:
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
        conn = connect_tcp(target, connect_timeout=timeout, resolver=resolver)
    except (ConnectError, NetTimeoutError):
        return False
    conn.close()
    return True
