"""The receive buffer of a stream connection, sans-I/O: bytes in, complete reads out.

A :class:`ReceiveBuffer` owns every byte received on one stream and not yet handed to
the caller. It never touches a socket: a transport (the blocking
:class:`~netbasics.StreamConnection`, its file objects, an asyncio protocol, a test)
feeds it what it receives and asks it for complete reads, in a loop of the same shape
whatever the transport::

    while (line := buf.take_until(b"\\n", 1024)) is None:
        buf.feed(sock.recv(65536))   # or: await reader.read(...)

Each ``take_*`` method either returns a complete result, taking its bytes out of the
buffer, or returns ``None`` (``take`` returns ``b""``) and takes nothing: the next
``feed`` may complete it. The limits are enforced here, so every transport enforces
them the same way, and the result of a read never depends on how the stream was
split into chunks by the network (the tests feed the same stream in every chunking).

Framed reads (:meth:`ReceiveBuffer.take_message`) go through any
:class:`~netbasics.Framer`. While one framer reads messages the bytes received are
handed to it as they are; a plain read (``take``, ``take_until``...) afterwards gets
back what the framer still held, re-encoded with it (the bytes received, for
:class:`~netbasics.LineFramer` and :class:`~netbasics.LengthPrefixFramer`).
"""

from __future__ import annotations

from collections import deque
from typing import Final, Protocol, Union, runtime_checkable

from .errors import FrameTooLarge, quote
from .framing import Framer

__all__ = ["MAX_READ_SIZE", "ReceiveBuffer"]

_Bytes = Union[bytes, bytearray, memoryview]
_INT: Final = int
_BYTES: Final = bytes

#: The most :meth:`ReceiveBuffer.read_size` asks a transport to read at once (4 MiB), for
#: the body of a large length-prefixed message.
MAX_READ_SIZE: Final = 4 * 1024 * 1024


@runtime_checkable
class _HoldsErrors(Protocol):
    """A framer with the optional ``error_pending`` member (see :class:`~netbasics.Framer`)."""

    @property
    def error_pending(self) -> bool: ...


@runtime_checkable
class _SizesReads(Protocol):
    """A framer that says how much to read next (as :meth:`LengthPrefixFramer.read_size`)."""

    def read_size(self, default: int, most: int) -> int: ...


def _check_count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {quote(value)}")
    if value < 0:
        raise ValueError(f"{what} must be >= 0, got {value}")
    return value


def _held_by(framer: Framer) -> int:
    """Bytes ``framer`` holds of a partial message: its ``buffered`` count (no copy), else ``len(partial)``."""
    buffered = getattr(framer, "buffered", None)
    return buffered if buffered.__class__ is int else len(framer.partial)


def _line_too_long(size: int, limit: int, delimiter: bytes) -> FrameTooLarge:
    return FrameTooLarge(f"line longer than max_size={limit} bytes ({size} bytes and no delimiter {delimiter!r} yet)")


class ReceiveBuffer:
    """The bytes received on one stream and not yet read: feed it bytes, take complete reads out.

    Sans-I/O (no socket, no clock): a transport calls :meth:`feed` with what it
    received and :meth:`feed_eof` when the peer closed its side, and loops until a
    ``take_*`` method returns a result rather than ``None``. :meth:`read_size` says how
    many bytes to ask the socket for next.

    * :meth:`take` returns what is buffered, up to a size (``b""`` if nothing is);
    * :meth:`take_exactly` returns exactly ``n`` bytes, or ``None`` while fewer are here;
    * :meth:`take_until` returns the bytes up to and including a delimiter, or ``None``,
      and raises :class:`FrameTooLarge` once the line is known to exceed its limit;
    * :meth:`take_message` returns the next message of any :class:`Framer`;
    * :meth:`readinto` copies buffered bytes into the caller's buffer;
    * :meth:`take_rest` empties the buffer (what a peer that closed left unfinished).

    Results do not depend on how the stream was cut into chunks: the same bytes fed one
    at a time or all at once give the same reads and the same errors, at the same point.

    >>> buf = ReceiveBuffer()
    >>> buf.feed(b"HELLO 2\\r\\nhi")
    >>> buf.take_until(b"\\r\\n", max_size=100)
    b'HELLO 2\\r\\n'
    >>> buf.take_exactly(3) is None  # only 2 bytes are here yet
    True
    >>> buf.feed(b"!")
    >>> buf.take_exactly(3)
    b'hi!'

    Not thread-safe: one reader at a time, as for the connection it serves.
    """

    __slots__ = (
        "_chunks",
        "_data",
        "_eof",
        "_framer",
        "_held",
        "_messages",
        "_pos",
        "_scan",
        "_scan_delim",
        "_sizer",
    )

    def __init__(self) -> None:
        # The stream, in order: the framer's messages not yet taken, then its partial
        # message, then _chunks (received since, not yet given to it); or, without a
        # framer, _data[_pos:]. A framer and _data never both hold bytes.
        #
        # _data is the bytes object received when reads take from one chunk (the common
        # case: each read is one slice, one copy, and a read of all of it is the object
        # itself), or a bytearray while a long read accumulates small chunks (appending
        # is linear where joining bytes would be quadratic). _pos is where unread bytes
        # start: reads move it rather than deleting from the front.
        self._data: bytes | bytearray = b""
        self._pos = 0
        self._framer: Framer | None = None
        self._messages: deque[bytes] = deque()
        self._chunks: deque[bytes] = deque()
        # The framer again if it can hold an error back (Framer.error_pending), and again
        # if it has read_size(): looked up once per framer, not per message.
        self._held: _HoldsErrors | None = None
        self._sizer: _SizesReads | None = None
        self._eof = False
        # Where take_until's next search for _scan_delim starts, counted from _pos: the
        # bytes before were searched already, so a line trickling in is scanned once.
        self._scan = 0
        self._scan_delim: bytes | None = None

    # --- input --------------------------------------------------------------------

    def feed(self, data: _Bytes) -> None:
        """Add bytes received from the stream (a ``bytes`` object is kept as it is, not copied).

        ``b""`` is ignored (it is not the end of the stream: call :meth:`feed_eof`).
        Raises :class:`ValueError` for data after :meth:`feed_eof`.
        """
        if self._framer is None:
            if data:
                if self._eof:
                    raise ValueError("feed() after feed_eof(): the stream has ended")
                cur = self._data
                pos = self._pos
                rest = len(cur) - pos
                if not rest:
                    self._data = data if isinstance(data, bytes) else bytes(data)
                    self._pos = 0
                elif rest <= len(data):
                    # Back to (or still) one bytes object: the rest is copied once per at
                    # least as many new bytes, so the copying stays linear.
                    with memoryview(cur) as view:
                        self._data = b"".join((view[pos:], data))
                    self._pos = 0
                elif isinstance(cur, bytearray):
                    if pos:
                        del cur[:pos]  # CPython moves the start of a bytearray: no copy
                        self._pos = 0
                    cur += data
                else:
                    grown = bytearray(cur[pos:])
                    grown += data
                    self._data = grown
                    self._pos = 0
        elif data:
            if self._eof:
                raise ValueError("feed() after feed_eof(): the stream has ended")
            # Kept for the framer as received: a bytes object is not copied (the caller may
            # reuse a bytearray or the memory under a memoryview, so those are).
            self._chunks.append(data if isinstance(data, bytes) else bytes(data))

    def feed_eof(self) -> None:
        """Record that the peer closed its side: no more bytes will come (idempotent)."""
        self._eof = True

    @property
    def eof(self) -> bool:
        """True once :meth:`feed_eof` was called (bytes may still be buffered)."""
        return self._eof

    @property
    def framer(self) -> Framer | None:
        """The framer that holds the buffered bytes since the last :meth:`take_message`, if any."""
        return self._framer

    def __len__(self) -> int:
        """Bytes buffered; messages a framer has already split off count by their length."""
        framer = self._framer
        if framer is None:
            return len(self._data) - self._pos
        return sum(map(len, self._chunks)) + sum(map(len, self._messages)) + _held_by(framer)

    def __bool__(self) -> bool:
        """True while anything is buffered."""
        framer = self._framer
        if framer is None:
            return len(self._data) > self._pos
        return bool(self._messages or self._chunks) or _held_by(framer) > 0

    def __repr__(self) -> str:
        state = ", eof" if self._eof else ""
        return f"<ReceiveBuffer {len(self)} bytes{state}>"

    # --- plain reads ----------------------------------------------------------------

    def take(self, max_bytes: int) -> bytes:
        """Up to ``max_bytes`` buffered bytes (the oldest first); ``b""`` when none are buffered."""
        if max_bytes.__class__ is not _INT or max_bytes < 0:
            _check_count(max_bytes, "max_bytes")
        if self._framer is not None:
            self.unframe()
        pos = self._pos
        data = self._data
        end = pos + max_bytes
        if end >= len(data):
            return self._take_rest(data, pos)
        self._pos = end
        self._scan = self._scan - max_bytes if self._scan > max_bytes else 0
        return data[pos:end] if data.__class__ is _BYTES else bytes(data[pos:end])

    def take_exactly(self, n: int) -> bytes | None:
        """Exactly ``n`` bytes, or ``None`` (taking nothing) while fewer are buffered."""
        if n.__class__ is not _INT or n < 0:
            _check_count(n, "n")
        if self._framer is not None:
            self.unframe()
        pos = self._pos
        data = self._data
        end = pos + n
        size = len(data)
        if end >= size:
            return self._take_rest(data, pos) if end == size else None
        self._pos = end
        self._scan = self._scan - n if self._scan > n else 0
        return data[pos:end] if data.__class__ is _BYTES else bytes(data[pos:end])

    def take_until(self, delimiter: bytes, max_size: int) -> bytes | None:
        """The bytes up to and including ``delimiter``, or ``None`` (taking nothing) while it has not come.

        ``max_size`` is the longest line accepted, delimiter not counted (the rule of
        :class:`LineFramer`): :class:`FrameTooLarge` is raised as soon as
        ``max_size + len(delimiter)`` bytes are buffered with no delimiter among them,
        and not before, however the stream was chunked. The bytes stay buffered then
        (the stream is out of step; :meth:`take_rest` empties it). The search resumes
        where the last one stopped, so a line arriving a byte at a time costs linear time.
        """
        if delimiter is not self._scan_delim:
            if not isinstance(delimiter, bytes):
                raise TypeError(f"delimiter must be bytes, got {type(delimiter).__name__} {quote(delimiter)}")
            if not delimiter:
                raise ValueError("delimiter must be non-empty bytes, got b''")
            if delimiter != self._scan_delim:
                self._scan = 0
            self._scan_delim = delimiter
        if max_size.__class__ is not _INT or max_size < 0:
            _check_count(max_size, "max_size")
        if self._framer is not None:
            self.unframe()
        data = self._data
        pos = self._pos
        dlen = len(delimiter)
        bound = max_size + dlen  # a line and its delimiter end within this many bytes
        end = data.find(delimiter, pos + self._scan, pos + bound)
        if end < 0:
            have = len(data) - pos
            if have >= bound:
                raise _line_too_long(have, max_size, delimiter)
            # A delimiter may start in the last dlen - 1 bytes and end in the next feed.
            self._scan = have - dlen + 1 if have >= dlen else 0
            return None
        self._scan = 0
        end += dlen
        if end == len(data):
            return self._take_rest(data, pos)
        self._pos = end
        return data[pos:end] if data.__class__ is _BYTES else bytes(data[pos:end])

    def readinto(self, buffer: memoryview) -> int:
        """Copy buffered bytes into ``buffer`` (a writable, byte-shaped memoryview) and take them; the count.

        0 when nothing is buffered (or ``buffer`` is empty).
        """
        if self._framer is not None:
            self.unframe()
        data = self._data
        pos = self._pos
        n = min(buffer.nbytes, len(data) - pos)
        if n:
            with memoryview(data) as view:
                buffer[:n] = view[pos : pos + n]
            if pos + n == len(data):
                self._data = b""
                self._pos = 0
            else:
                self._pos = pos + n
            self._scan = self._scan - n if self._scan > n else 0
        return n

    def take_rest(self) -> bytes:
        """Everything buffered, emptying the buffer (for :attr:`ConnectionClosed.partial`)."""
        if self._framer is not None:
            self.unframe()
        return self._take_rest(self._data, self._pos)

    def _take_rest(self, data: bytes | bytearray, pos: int) -> bytes:
        """Everything buffered, ``data[pos:]`` (``data`` itself if that is all of it); empties the buffer."""
        self._data = b""
        self._pos = 0
        self._scan = 0
        if isinstance(data, bytes):
            return data[pos:] if pos else data
        return bytes(data[pos:])

    def unread(self, data: _Bytes) -> None:
        """Put ``data`` back in front of the buffered bytes, to be read first.

        For a transport that read straight into the caller's memory and must keep the
        stream whole after all (a deadline passed before the read was complete).
        """
        if self._framer is not None:
            self.unframe()
        if data:
            self._prepend(data)

    def _prepend(self, data: _Bytes) -> None:
        with memoryview(self._data) as view:
            self._data = b"".join((data, view[self._pos :]))
        self._pos = 0
        self._scan = 0

    # --- framed reads ---------------------------------------------------------------

    def take_message(self, framer: Framer) -> bytes | None:
        """The next complete message according to ``framer`` (any :class:`Framer`), or ``None``.

        Use the same framer object for every message of a stream: the bytes of a message
        not yet complete live in it between calls. :class:`FrameTooLarge` (or any error
        the framer raises) comes as ``framer.feed`` raises it; an error the framer holds
        back (``error_pending``) is raised once the messages before it were taken.
        Another framer (or a plain read) gets what the last one still held, re-encoded
        with it (see :meth:`unframe`).
        """
        if framer is not self._framer:
            self._use(framer)
        messages = self._messages
        if messages:
            return messages.popleft()
        held = self._held
        if held is not None and held.error_pending:
            # The error follows the messages already taken: feed(b"") raises it now, not
            # after bytes that may never come.
            messages.extend(framer.feed(b""))
            if messages:
                return messages.popleft()
        chunks = self._chunks
        while chunks:
            got = framer.feed(chunks.popleft())
            if got:
                if len(got) == 1:
                    return got[0]
                messages.extend(got)
                return messages.popleft()
            if held is not None and held.error_pending:
                messages.extend(framer.feed(b""))
                if messages:
                    return messages.popleft()
        return None

    def _use(self, framer: Framer) -> None:
        """Make ``framer`` the one that holds the bytes, handing it what is buffered."""
        if self._framer is not None:
            self.unframe()  # what the old framer holds, re-encoded, goes to the new one
        self._held = framer if isinstance(framer, _HoldsErrors) else None
        self._sizer = framer if isinstance(framer, _SizesReads) else None
        self._framer = framer
        if len(self._data) > self._pos:
            self._chunks.append(self._take_rest(self._data, self._pos))

    def unframe(self) -> None:
        """Stop reading through the current framer: the bytes it holds come back as plain bytes.

        Messages not yet taken are re-encoded with the framer, ahead of its partial
        message and of the bytes received since: for :class:`LineFramer` and
        :class:`LengthPrefixFramer` exactly the bytes received. The framer is reset.
        Plain reads call this themselves; nothing happens when no framer holds bytes.
        """
        framer = self._framer
        if framer is None:
            return
        self._framer = None
        self._held = None
        self._sizer = None
        messages = self._messages
        partial = framer.partial
        pieces = [framer.encode(message) for message in messages] if messages else []
        if partial:
            pieces.append(partial)
        messages.clear()
        framer.reset()
        pieces.extend(self._chunks)
        self._chunks.clear()
        if pieces:
            self._prepend(b"".join(pieces))

    # --- for the transport ------------------------------------------------------------

    def read_size(self, default: int, framer: Framer | None = None) -> int:
        """How many bytes the transport should ask the socket for next: ``default``, or more for a large message.

        A framer with a ``read_size(default, most)`` method (as
        :class:`LengthPrefixFramer`) that holds the buffered bytes may ask for the rest
        of a large body at once (at most :data:`MAX_READ_SIZE`), so that it arrives in one
        piece and is not joined from many.
        """
        sizer = self._sizer
        if sizer is None or framer is not self._framer or self._chunks or self._messages:
            return default
        return sizer.read_size(default, MAX_READ_SIZE)
