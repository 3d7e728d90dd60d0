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
import io
import os
import socket
import sys
import time
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Final, Union, overload

from ._io.happy_eyeballs import ATTEMPT_DELAY, open_tcp_socket
from ._io.held_send import Crowd, held_send_failed
from ._io.sockets import (
    DEFAULT_TIMEOUT,
    MIN_WAIT,
    READ_CHUNK,
    SEND_FLAGS,
    STREAM_READ,
    Timeout,
    check_int,
    check_timeout,
    local_endpoint,
    remote_endpoint,
    set_io_timeout,
    set_keepalive,
    translate_os_error,
)
from ._io.stream_extras import (
    COPY_CHUNK,
    NO_SENDFILE,
    SENDFILE_CHUNK,
    WRITE_BUFFER,
    BinaryMode,
    TextMode,
    check_nbytes,
    file_descriptor,
    first_wait,
    normalise_mode,
    regular_size,
    seek_quietly,
    writable_view,
)
from ._io.unix_sockets import peer_credentials, unix_name
from ._timeouts import LONGEST_WAIT
from .addresses import IPv4Address, IPv6Address
from .endpoints import Endpoint, EndpointLike, HostPort, coerce_target
from .errors import ClosedLocally, ConnectError, EndpointError, FrameTooLarge, NetTimeoutError, PeerClosed, quote
from .framing import Framer, LineFramer
from .receive_buffer import ReceiveBuffer
from .resolver import Resolver, resolve
from .safety import DestinationPolicy, check_destination, refuse_target
from .unix_addresses import PeerCredentials, UnixAddress

if TYPE_CHECKING:
    from typing_extensions import Buffer

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
# take(_ALL): everything buffered; take_until(..., _ALL): no limit (file readline).
_ALL: Final = sys.maxsize
_NEWLINE: Final = b"\n"


_DEFAULT: Final = DEFAULT_TIMEOUT
# What StreamConnection._fast holds while recv() cannot take its fast path: no timeout
# argument is this object, so ``timeout is self._fast`` is then always false.
_SLOW: Final = object()
SourceLike = Union[EndpointLike, IPv4Address, IPv6Address]


def _check_count(value: object, what: str, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {quote(value)}")
    if value < low:
        raise ValueError(f"{what} must be >= {low}, got {value}")


def _stream_closed(what: str, partial: bytes = b"") -> PeerClosed:
    return PeerClosed(what, partial=partial)


class StreamConnection:
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
        "_closed",
        "_crowd",
        "_default_rcv",
        "_fast",
        "_line_framer",
        "_local",
        "_peer",
        "_rbuf",
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
        # Every byte received and not yet returned (plain reads, framers, file objects).
        self._rbuf = ReceiveBuffer()
        self._closed = False
        self._rcvtimeo = 0.0
        self._sndtimeo = 0.0
        self._local: Endpoint | UnixAddress | None = None
        self._remote: Endpoint | UnixAddress | None = remote
        self._peer: tuple[object, ...] | None = None
        # SO_RCVTIMEO as the default timeout needs it: reads with the default timeout
        # skip every check while the socket already holds it (the common case).
        self._default_rcv = first_wait(self._timeout)
        self._line_framer: LineFramer | None = None  # lines()
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
            return ClosedLocally(operation)
        target = self._where() if operation not in ("getsockname", "getpeername") else None
        error = translate_os_error(exc, operation, target, timeout)
        if isinstance(error, PeerClosed) and not error.partial and operation == "recv from":
            # Reset mid-message: what arrived of it is the caller's, as when the peer closes.
            error.partial = self._rbuf.take_rest()
        return error

    def _timed_out(self, operation: str, timeout: float) -> NetTimeoutError:
        return NetTimeoutError(f"{operation} {self._where()}", timeout)

    def _set_rcvtimeo(self, seconds: float) -> None:
        try:
            set_io_timeout(self._sock, _SO_RCVTIMEO, seconds)
        except OSError as exc:
            raise self._error(exc, "setsockopt", None) from exc
        self._rcvtimeo = seconds
        self._refresh_fast()

    def _refresh_fast(self) -> None:
        """Make ``_fast`` true to the state: called wherever ``SO_RCVTIMEO`` or the default changes.

        ``_fast`` is the default-timeout marker while ``SO_RCVTIMEO`` holds what the
        default timeout needs and the receive buffer is empty, so that :meth:`recv`
        tests both (and the ``timeout`` argument) with one ``is``. Feeding the buffer
        turns it off (:meth:`_fed`); reads that empty the buffer call this again.
        """
        fast = self._rcvtimeo == self._default_rcv and not self._rbuf
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

    # --- reading --------------------------------------------------------------------
    #
    # Bytes received and not yet returned live in one place, the connection's
    # ReceiveBuffer (sans-I/O, see receive_buffer.py): every read below, the file objects
    # and recv_into take from it first and feed it what the socket gives. A read that
    # finds it empty and gets exactly what it wants from one recv returns that without
    # buffering it. Whatever feeds the buffer turns recv()'s fast path off (_fed).

    def _fed(self, chunk: bytes) -> None:
        """Feed ``chunk`` to the receive buffer (the one way bytes enter it)."""
        self._fast = _SLOW  # recv() must look at the buffer now
        self._rbuf.feed(chunk)

    def recv(self, max_bytes: int = _READ, *, timeout: Timeout = _DEFAULT) -> bytes:
        """Up to ``max_bytes`` bytes, as soon as any are available; ``b""`` at the end of the stream.

        Raises :class:`NetTimeoutError` if nothing arrives in time, :class:`ConnectionClosed`
        if the peer reset the connection.
        """
        if timeout is self._fast and (max_bytes is _READ or (max_bytes.__class__ is _INT and max_bytes > 0)):
            # The fast path: the default timeout, which the kernel already enforces, and
            # nothing buffered (_fast says both). Each check spared here is time held
            # under the GIL per message.
            try:
                return self._sock.recv(max_bytes)
            except OSError as exc:
                raise self._error(exc, "recv from", self._default_rcv or None) from exc
        _check_count(max_bytes, "max_bytes", 1)
        t = self._resolve_timeout(timeout)
        rbuf = self._rbuf
        if rbuf:
            data = rbuf.take(max_bytes)
            if not rbuf:
                self._refresh_fast()
            return data
        self._refresh_fast()
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
        rbuf = self._rbuf
        have = 0
        if self._fast is not _DEFAULT:  # else the buffer is empty: no need to ask it
            data = rbuf.take_exactly(n)
            if data is not None:
                return data
            have = len(rbuf)
        start = 0.0 if t is None else _monotonic()
        # The first read may take the whole timeout: usually what SO_RCVTIMEO holds already.
        if want != self._rcvtimeo:
            self._set_rcvtimeo(want)
        try:
            chunk = self._sock.recv(max(n - have, _READ))
        except OSError as exc:
            raise self._error(exc, "recv from", want or None) from exc
        if not have and len(chunk) == n:
            return chunk
        while True:
            if not chunk:
                partial = rbuf.take_rest()
                raise _stream_closed(
                    f"recv_exactly: {self._where()} closed the connection after {len(partial)} of {n} bytes", partial
                )
            self._fed(chunk)
            data = rbuf.take_exactly(n)
            if data is not None:
                return data
            chunk = self._recv_more(max(n - len(rbuf), _READ), t, start)

    def _lines_framer(self, delimiter: bytes, max_size: int) -> LineFramer:
        framer = self._line_framer
        if framer is None or framer.delimiter != delimiter or framer.max_size != max_size:
            framer = self._line_framer = LineFramer(delimiter, max_size)
        return framer

    def recv_until(self, delimiter: bytes = b"\n", *, max_size: int = _CHUNK, timeout: Timeout = _DEFAULT) -> bytes:
        """Bytes up to and including ``delimiter``.

        Raises :class:`FrameTooLarge` when ``max_size`` bytes (delimiter not counted)
        arrive without it (the rule of :class:`LineFramer`), :class:`ConnectionClosed`
        (``.partial`` holds what arrived) when the stream ends first,
        :class:`NetTimeoutError` when the deadline passes (what arrived stays buffered).
        """
        t = self._timeout if timeout is _DEFAULT else check_timeout(timeout)
        rbuf = self._rbuf
        line = rbuf.take_until(delimiter, max_size)
        if line is not None:
            return line
        start = 0.0 if t is None else _monotonic()
        chunk = self._recv_first(_READ, t)
        while True:
            if not chunk:
                partial = rbuf.take_rest()
                what = f"before delimiter {delimiter!r} ({len(partial)} bytes of an unfinished message)"
                raise _stream_closed(f"{self._where()} closed the connection {what}", partial)
            self._fed(chunk)
            line = rbuf.take_until(delimiter, max_size)
            if line is not None:
                return line
            chunk = self._recv_more(_READ, t, start)

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

    def _next_message(self, framer: Framer, t: float | None, eof_ok: bool) -> bytes | None:
        """The next message of ``framer``; ``None`` at a clean end of the stream if ``eof_ok``."""
        rbuf = self._rbuf
        message = rbuf.take_message(framer)
        if message is not None:
            return message
        start = 0.0 if t is None else _monotonic()
        # The first read takes the whole timeout: with the default one, what SO_RCVTIMEO
        # already holds, so the common case is this one recv, one feed and one take.
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
            self._fed(chunk)  # the framer may keep bytes: recv() must look at the buffer
            message = rbuf.take_message(framer)
            if message is not None:
                return message
            # A large length-prefixed body is read in one piece (the framer says how much).
            chunk = self._recv_more(rbuf.read_size(_READ, framer), t, start)

    def _ended(self, framer: Framer, eof_ok: bool) -> None:
        partial = self._rbuf.take_rest()
        if eof_ok and not partial:
            return
        if framer is self._line_framer:
            what = f"before delimiter {framer.delimiter!r} ({len(partial)} bytes of an unfinished message)"
        else:
            what = f"in the middle of a message ({len(partial)} bytes)" if partial else "at a message boundary"
        raise _stream_closed(f"{self._where()} closed the connection {what}", partial)

    def recv_message(self, framer: Framer, *, timeout: Timeout = _DEFAULT) -> bytes:
        """The next message according to ``framer`` (any :class:`Framer`).

        Use the same framer object for every message of a connection: it keeps the
        bytes of a message not yet complete. Raises :class:`FrameTooLarge` as soon as a
        message is known to exceed the framer's ``max_size``, :class:`ConnectionClosed`
        when the stream ends (``.partial`` holds an unfinished message). Bytes another
        framer (or a plain read) left buffered are read through this one, re-encoded
        with the framer that held them (see :meth:`ReceiveBuffer.unframe`).
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

    # --- zero-copy reads --------------------------------------------------------------

    def recv_into(self, buffer: Buffer, nbytes: int = 0, *, timeout: Timeout = _DEFAULT) -> int:
        """Read up to ``nbytes`` bytes (all of ``buffer`` when 0) into ``buffer``; the count, 0 at the end.

        Like :meth:`recv` without making a ``bytes`` object: the kernel writes straight
        into ``buffer`` (a ``bytearray``, ``memoryview``, ``array`` or anything writable
        with the buffer protocol). Bytes the connection already holds (read ahead by
        ``recv_until`` or a file object) are copied first. Raises
        :class:`NetTimeoutError` if nothing arrives in time.
        """
        view = writable_view(buffer)
        n = check_nbytes(nbytes, len(view))
        if not n:
            return 0
        rbuf = self._rbuf
        if rbuf:
            return rbuf.readinto(view[:n])
        t = self._resolve_timeout(timeout)
        self._arm(_SO_RCVTIMEO, t, 0.0, True)
        try:
            return self._sock.recv_into(view, n)
        except OSError as exc:
            raise self._error(exc, "recv from", t if t != 0 else _MIN_WAIT) from exc

    def recv_exactly_into(self, buffer: Buffer, *, timeout: Timeout = _DEFAULT) -> None:
        """Fill all of ``buffer`` from the stream, or raise; the exact-read twin of :meth:`recv_into`.

        ``timeout`` is a deadline for the whole buffer. Raises :class:`ConnectionClosed`
        (``.partial`` holds what arrived) when the stream ends first, and
        :class:`NetTimeoutError` when the deadline passes first: then the bytes that did
        arrive go back to the connection's buffer, so the next read still sees them.
        """
        view = writable_view(buffer)
        n = len(view)
        got = self._rbuf.readinto(view) if n else 0
        if got == n:
            return
        t = self._resolve_timeout(timeout)
        start = 0.0 if t is None else _monotonic()
        first = True
        sock = self._sock
        try:
            while got < n:
                self._arm(_SO_RCVTIMEO, t, start, first)
                first = False
                try:
                    k = sock.recv_into(view[got:], n - got)
                except OSError as exc:
                    raise self._error(exc, "recv from", t if t != 0 else _MIN_WAIT) from exc
                if not k:
                    raise PeerClosed(
                        f"recv_exactly_into: {self._where()} closed the connection after {got} of {n} bytes",
                        partial=bytes(view[:got]),
                    )
                got += k
        except NetTimeoutError:
            if got:
                self._fast = _SLOW
                self._rbuf.unread(view[:got])  # keep the stream whole for the caller's next read
            raise

    def _fill(self, timeout: float | None, start: float, first: bool) -> bool:
        """Read once more into the receive buffer (for the file objects); False at the end of the stream."""
        chunk = self._recv_first(_CHUNK, timeout) if first else self._recv_more(_CHUNK, timeout, start)
        if not chunk:
            return False
        self._fed(chunk)
        return True

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
            # Released on the way out, even by an error: a traceback must not keep the
            # caller's bytearray exported (it could not be resized while one lives).
            with memoryview(data) as raw, raw.cast("B") as view:
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

    def _send_counted(self, data: bytes | bytearray | memoryview, t: float | None) -> tuple[int, Exception | None]:
        """Send ``data`` within ``t`` seconds; the bytes sent and the error that stopped it (or ``None``).

        For the file objects, which must know exactly what went out when a deadline
        passes or the connection fails, so that they send no byte twice. No view of
        ``data`` outlives the call (the views are released even when an error is
        returned), so the caller may resize a ``bytearray`` it passed.
        """
        start = 0.0 if t is None else _monotonic()
        sent = 0
        with memoryview(data) as raw, raw.cast("B") as view:
            total = view.nbytes
            try:
                first = True
                while sent < total:
                    self._arm(_SO_SNDTIMEO, t, start, first)
                    first = False
                    try:
                        sent += self._sock.send(view[sent:], _SEND_FLAGS)
                    except OSError as exc:
                        raise self._error(exc, "send to", t if t != 0 else _MIN_WAIT) from exc
            except Exception as exc:  # handed to the caller, which raises it once its books are right
                return sent, exc
        return sent, None

    # --- sending files ----------------------------------------------------------------

    def send_file(
        self, file: io.IOBase, offset: int = 0, count: int | None = None, *, timeout: Timeout = _DEFAULT
    ) -> int:
        """Send ``count`` bytes of a binary ``file`` from ``offset`` (all to its end by default); the bytes sent.

        With a regular file on Linux and the BSDs the kernel copies the pages straight to
        the socket (``os.sendfile``): no copy through Python. Files without a descriptor
        (``io.BytesIO``) or that sendfile refuses (pipes, some file systems) are copied in
        256 KiB reads instead. ``timeout`` is a deadline for the whole file. Afterwards
        the file position is just after the last byte sent, as with
        ``socket.sendfile``. Raises :class:`NetTimeoutError` (part of the file was sent)
        and :class:`ConnectionClosed` like :meth:`send_all`.
        """
        if isinstance(file, io.TextIOBase):
            raise TypeError("send_file needs a file opened in binary mode, got a text file")
        check_int(offset, "offset", 0)
        if count is not None:
            check_int(count, "count", 0)
        t = self._resolve_timeout(timeout)
        start = _monotonic()
        fd = file_descriptor(file)
        total = 0
        if fd is not None and hasattr(os, "sendfile"):
            total, done = self._sendfile(fd, offset, count, t, start)
            if done:
                seek_quietly(file, offset + total)
                return total
        total += self._copy_file(file, offset + total, None if count is None else count - total, t, start)
        seek_quietly(file, offset + total)
        return total

    def _sendfile(
        self, fd: int, offset: int, count: int | None, timeout: float | None, start: float
    ) -> tuple[int, bool]:
        """Send with os.sendfile; (bytes sent, finished). Not finished: copy the rest another way."""
        end = offset + count if count is not None else regular_size(fd)
        out = self._sock.fileno()
        pos = offset
        while end is None or pos < end:
            want = SENDFILE_CHUNK if end is None else min(SENDFILE_CHUNK, end - pos)
            self._arm(_SO_SNDTIMEO, timeout, start, pos == offset)
            try:
                sent = os.sendfile(out, fd, pos, want)
            except OSError as exc:
                if exc.errno in NO_SENDFILE and pos == offset:
                    return 0, False
                raise self._error(exc, "send to", timeout if timeout != 0 else _MIN_WAIT) from exc
            if not sent:
                break  # end of file
            pos += sent
        return pos - offset, True

    def _copy_file(self, file: io.IOBase, offset: int, count: int | None, timeout: float | None, start: float) -> int:
        """The portable path: read chunks into one reused buffer and send each."""
        if offset or file.seekable():
            if not file.seekable():
                raise ValueError(f"offset={offset} needs a seekable file")
            file.seek(offset)
        readinto = getattr(file, "readinto", None)
        if readinto is None:
            raise TypeError(f"send_file needs a binary file with readinto(), got {type(file).__name__}")
        chunk = bytearray(COPY_CHUNK if count is None else max(1, min(COPY_CHUNK, count)))
        view = memoryview(chunk)
        total = 0
        while count is None or total < count:
            want = len(view) if count is None else min(len(view), count - total)
            n = readinto(view[:want])
            if not n:
                break
            remaining: float | None = timeout  # None (no limit) or 0 (what fits now) as they are
            if timeout:
                remaining = timeout - (_monotonic() - start)
                if remaining <= 0:
                    raise self._timed_out("send to", timeout)
            self.send_all(view[:n], timeout=remaining)
            total += n
        return total

    # --- file objects -----------------------------------------------------------------

    @overload
    def makefile(
        self,
        mode: BinaryMode,
        buffering: int | None = None,
        *,
        encoding: None = None,
        errors: None = None,
        newline: None = None,
        close_connection: bool = False,
    ) -> io.BufferedIOBase: ...

    @overload
    def makefile(
        self,
        mode: TextMode,
        buffering: int | None = None,
        *,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
        close_connection: bool = False,
    ) -> io.TextIOWrapper: ...

    @overload
    def makefile(
        self,
        mode: str = "rb",
        buffering: int | None = None,
        *,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
        close_connection: bool = False,
    ) -> io.BufferedIOBase | io.TextIOWrapper: ...

    def makefile(
        self,
        mode: str = "rb",
        buffering: int | None = None,
        *,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
        close_connection: bool = False,
    ) -> io.BufferedIOBase | io.TextIOWrapper:
        """A file object reading from and/or writing to this connection, for code that wants a file.

        ``mode`` is ``"rb"``, ``"wb"`` or ``"rwb"`` for a binary file, ``"r"`` or ``"w"`` for
        a text file (for both directions as text, make two) (``encoding`` defaults to UTF-8, not the locale's;
        ``errors`` and ``newline`` as for :func:`open`). So ``json.load``, ``csv``,
        ``pickle`` and line parsers work on a connection.

        Unlike ``socket.makefile``:

        * Every read and write keeps the connection's deadline (:attr:`timeout`): a
          timeout raises :class:`NetTimeoutError`, and the file stays usable afterwards
          (a ``socket.makefile`` file is broken for good after one timeout, and without
          a socket timeout it waits forever).
        * It reads through the connection's own buffer: bytes already read by
          ``recv_until`` or ``lines`` are seen by the file, and bytes the binary file has
          not handed out yet are seen by the connection's next ``recv`` (a text file
          decodes ahead in chunks of its own, like any ``TextIOWrapper``).
        * Closing the file flushes it and leaves the connection open, unless
          ``close_connection=True``.

        Writes are collected up to 64 KiB and sent on :meth:`~io.IOBase.flush`, on
        ``close`` or when the buffer fills; ``buffering=0`` (binary only) sends each write
        at once. Errors are the connection's: :class:`ConnectionClosed`,
        :class:`NetTimeoutError`. A write or flush that times out has sent part of the
        bytes: the rest stays in the file's buffer and goes first on the next write,
        flush or close (do not write it again; no byte is ever sent twice).
        """
        reading, writing, binary = normalise_mode(mode)
        if buffering is not None and (isinstance(buffering, bool) or not isinstance(buffering, int)):
            raise TypeError(f"buffering must be an int or None, got {quote(buffering)}")
        if binary and (encoding is not None or errors is not None or newline is not None):
            raise ValueError("encoding, errors and newline apply to text mode only")
        if not binary and reading and writing:
            # TextIOWrapper drops what it has decoded ahead whenever it writes (it assumes
            # a seekable file to rewind), which on a stream loses received text.
            raise ValueError("a text file reads or writes, not both: use makefile('r') and makefile('w')")
        if not binary and buffering == 0:
            raise ValueError("text mode needs buffering (buffering=0 is for binary files)")
        raw = _ConnectionFile(self, reading, writing, 0 if buffering == 0 else WRITE_BUFFER, close_connection)
        if binary:
            return raw
        return io.TextIOWrapper(raw, encoding=encoding or "utf-8", errors=errors, newline=newline)

    # --- peer credentials -----------------------------------------------------------

    @property
    def peer_credentials(self) -> PeerCredentials:
        """The peer process's pid, uid and gid, for a Unix domain connection (``SO_PEERCRED`` on Linux).

        Raises :class:`ValueError` for a TCP connection and :class:`NotImplementedError`
        on platforms where netbasics cannot ask.
        """
        return peer_credentials(self._sock)

    # --- deadlines --------------------------------------------------------------------

    def _arm(self, option: int, timeout: float | None, start: float, first: bool) -> None:
        """Set ``option`` (``SO_RCVTIMEO``/``SO_SNDTIMEO``) for one step of a call with deadline ``start + timeout``.

        The one place for these rules, used by every read and write of the connection
        that may take more than one step: the first step may take the whole timeout
        (:func:`first_wait`; usually what the option holds already, so no system call),
        a later one what is left of it, and once nothing is left the call raises
        :class:`NetTimeoutError` (with a zero timeout, at the second step). Hot paths
        spell the first step out as ``first_wait`` and a comparison, to save this call.
        """
        if first or timeout is None:
            want = first_wait(timeout)
        else:
            want = timeout - (_monotonic() - start)
            if want <= 0:
                raise self._timed_out("recv from" if option == _SO_RCVTIMEO else "send to", timeout)
        if option == _SO_RCVTIMEO:
            if want != self._rcvtimeo:
                self._set_rcvtimeo(want)
        elif want != self._sndtimeo:
            self._set_sndtimeo(want)

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


class _ConnectionFile(io.BufferedIOBase):
    """The binary file of :meth:`StreamConnection.makefile`: reads the connection's buffer, writes through its own.

    Reads take from the connection's :class:`ReceiveBuffer` and feed it, so the file and
    the connection see one stream. Writes collect in ``_pending`` and leave with
    ``_send_counted``, which says exactly how much went out: after a timeout the rest
    stays here, to go first next time, and nothing is sent twice.
    """

    def __init__(
        self, conn: StreamConnection, reading: bool, writing: bool, write_buffer: int, close_connection: bool
    ) -> None:
        super().__init__()
        self._conn = conn
        self._reading = reading
        self._writing = writing
        self._limit = write_buffer
        self._pending = bytearray()
        self._close_connection = close_connection

    def readable(self) -> bool:
        return self._reading

    def writable(self) -> bool:
        return self._writing

    def seekable(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._conn.fileno()

    def _check_read(self) -> ReceiveBuffer:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        if not self._reading:
            raise io.UnsupportedOperation("not readable")
        rbuf = self._conn._rbuf
        rbuf.unframe()  # bytes a framer holds are plain bytes to a file: len() counts them exactly
        return rbuf

    def _deadline(self) -> tuple[float | None, float]:
        t = self._conn.timeout
        return t, (0.0 if t is None else _monotonic())

    def _take(self, rbuf: ReceiveBuffer, size: int) -> bytes:
        data = rbuf.take(size)
        if not rbuf:
            self._conn._refresh_fast()
        return data

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes, fewer only at the end of the stream; all until the end when ``size`` < 0."""
        rbuf = self._check_read()
        conn = self._conn
        t, start = self._deadline()
        first = True
        want = -1 if size is None or size < 0 else size
        while want < 0 or len(rbuf) < want:
            if not conn._fill(t, start, first):
                break
            first = False
        return self._take(rbuf, _ALL if want < 0 else want)

    def read1(self, size: int = -1) -> bytes:
        """What is buffered, or else the result of one read from the socket."""
        rbuf = self._check_read()
        if not rbuf:
            t, start = self._deadline()
            if not self._conn._fill(t, start, True):
                return b""
        return self._take(rbuf, _ALL if size < 0 else size)

    def readinto(self, b: Buffer) -> int:
        view = memoryview(b).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readinto1(self, b: Buffer) -> int:
        self._check_read()
        return self._conn.recv_into(b, timeout=self._conn.timeout)

    def readline(self, size: int | None = -1) -> bytes:
        """One line with its ``\\n``; the rest of the stream if it ends without one; at most ``size`` bytes."""
        rbuf = self._check_read()
        limit = -1 if size is None or size < 0 else size
        if not limit:
            return b""
        conn = self._conn
        t, start = self._deadline()
        first = True
        longest = _ALL if limit < 0 else limit - 1  # the line without its b"\n"
        while True:
            try:
                line = rbuf.take_until(_NEWLINE, longest)
            except FrameTooLarge:
                return self._take(rbuf, limit)  # no b"\n" in the first ``size`` bytes
            if line is not None:
                if not rbuf:
                    conn._refresh_fast()
                return line
            if not conn._fill(t, start, first):
                return self._take(rbuf, _ALL)
            first = False

    @property
    def name(self) -> str:
        return f"<connection fd {self.fileno()}>"

    def write(self, b: Buffer) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        if not self._writing:
            raise io.UnsupportedOperation("not writable")
        pending = self._pending
        with memoryview(b) as raw, raw.cast("B") as data:
            n = data.nbytes
            if not self._limit and not pending:
                # Unbuffered: straight from the caller's memory. What a timeout leaves
                # unsent is kept, to go first on the next write, flush or close.
                sent, error = self._conn._send_counted(data, self._conn.timeout)
                if error is not None:
                    pending += data[sent:]
                    raise error
                return n
            pending += data
        if len(pending) >= self._limit:
            self.flush()
        return n

    def flush(self) -> None:
        if self.closed:
            return
        pending = self._pending
        if pending:
            sent, error = self._conn._send_counted(pending, self._conn.timeout)
            del pending[:sent]  # sent is exact: what is left goes next time, never twice
            if error is not None:
                raise error

    def close(self) -> None:
        if self.closed:
            return
        try:
            if self._writing and not self._conn.closed:
                self.flush()
        finally:
            super().close()
            if self._close_connection:
                self._conn.close()

    def __del__(self) -> None:
        # Dropped without close(): flush like any file, but a finalizer has nobody to
        # report a broken connection to.
        try:
            self.close()
        except Exception:
            pass

    def detach(self) -> io.RawIOBase:
        raise io.UnsupportedOperation("a connection file has no raw stream to detach")


def accepted_connection(
    sock: socket.socket, address: object, timeout: float | None, crowd: Crowd | None = None
) -> StreamConnection:
    """The connection a server's handler gets for a socket it accepted from ``address`` (what ``accept()`` gave).

    ``timeout`` is its default deadline; ``crowd`` is the server's flag for "several
    connection threads compete for the GIL": while it is up, small sends keep the GIL
    (see ``_io.held_send``). The server's engine calls it (it is the ``accept`` of
    ``_io.threaded.ThreadedEngine``), so the engine never needs to know this class.
    """
    sock.setblocking(True)  # BSDs hand out accepted sockets non-blocking like the listener
    conn = StreamConnection(sock, timeout=timeout)
    if isinstance(address, tuple):  # an IP peer, decoded when asked; a Unix-domain peer's address is text
        conn._peer = address
    conn._crowd = crowd
    return conn


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
    from ._io.sockets import refuse_port_zero  # here, so the function moves whole

    try:
        parsed = coerce_target(target)
        refuse_port_zero(parsed, target)  # with a policy, refused like any bad destination
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
    connect_timeout = check_timeout(connect_timeout, "connect_timeout")
    delay = check_timeout(attempt_delay, "attempt_delay")  # None: the next address only once one fails
    shown, endpoints = _targets(target, policy, resolver)
    src = None if source is None else _source_endpoint(source)
    sock = open_tcp_socket(
        endpoints, target=shown, timeout=connect_timeout, source=src, delay=LONGEST_WAIT if delay is None else delay
    )
    try:
        # Remembered now, while the socket can say: after a reset getpeername fails, and the
        # error would have to call the other side just "peer".
        remote = remote_endpoint(sock)
    except OSError:
        remote = None
    try:
        return StreamConnection(sock, timeout=timeout, nodelay=nodelay, keepalive=keepalive, remote=remote)
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
