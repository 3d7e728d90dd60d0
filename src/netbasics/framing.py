"""Message framing over a byte stream, sans-I/O: feed bytes in, get whole messages out.

A TCP stream has no message boundaries; a framer restores them. Framers never touch a
socket: any transport (a :class:`~netbasics.StreamConnection`, a file, an asyncio protocol,
a test) feeds them bytes with :meth:`feed` and writes what :meth:`encode` returns.

Both framers bound their memory. A message longer than ``max_size`` raises
:class:`~netbasics.FrameTooLarge` as soon as that is known and before the excess is
buffered: a length prefix announcing 4 GiB is refused when its header arrives, a line
when ``max_size`` bytes have come without a delimiter. After :class:`FrameTooLarge` the
stream is out of step (the rest of the oversized message would be read as messages), so
drop the connection, or call :meth:`reset` if the transport can resynchronise.
"""

from __future__ import annotations

from typing import Final, Union

from .errors import FrameTooLarge, quote

__all__ = ["Framer", "LengthPrefixFramer", "LineFramer"]

_Bytes = Union[bytes, bytearray, memoryview]

#: Default largest line: 64 KiB, like common HTTP header-line limits.
DEFAULT_MAX_LINE: Final = 65536
#: Default largest length-prefixed message: 16 MiB (never more than the header can say).
DEFAULT_MAX_MESSAGE: Final = 16 * 1024 * 1024
_HEADER_SIZES: Final = (1, 2, 4, 8)


def _check_max(max_size: object) -> int:
    if isinstance(max_size, bool) or not isinstance(max_size, int):
        raise TypeError(f"max_size must be an int, got {type(max_size).__name__} {quote(max_size)}")
    if max_size < 0:
        raise ValueError(f"max_size must be >= 0, got {quote(max_size)}")
    return max_size


class LineFramer:
    """Messages separated by a delimiter (``b"\\n"`` by default); messages exclude it.

    ``max_size`` is the longest message in bytes, delimiter not counted. A trailing
    ``b"\\r"`` is kept (use ``delimiter=b"\\r\\n"`` for CRLF protocols).

    >>> framer = LineFramer()
    >>> framer.feed(b"hello\\nwor")
    [b'hello']
    >>> framer.feed(b"ld\\n\\n")
    [b'world', b'']
    >>> framer.encode(b"bye")
    b'bye\\n'
    >>> LineFramer(max_size=4).feed(b"too long")
    Traceback (most recent call last):
    ...
    netbasics.FrameTooLarge: line longer than max_size=4 bytes (8 bytes and no delimiter b'\\n' yet)
    """

    __slots__ = ("_buf", "_delimiter", "_max_size")

    def __init__(self, delimiter: bytes = b"\n", max_size: int = DEFAULT_MAX_LINE) -> None:
        if not isinstance(delimiter, bytes):
            raise TypeError(f"delimiter must be bytes, got {type(delimiter).__name__} {quote(delimiter)}")
        if not delimiter:
            raise ValueError("delimiter must be non-empty bytes, got b''")
        self._delimiter = delimiter
        self._max_size = _check_max(max_size)
        self._buf = bytearray()

    @property
    def delimiter(self) -> bytes:
        """The bytes that end each message."""
        return self._delimiter

    @property
    def max_size(self) -> int:
        """The largest message accepted, in bytes, delimiter not counted."""
        return self._max_size

    @property
    def buffered(self) -> int:
        """Bytes held of a message not yet complete (never more than ``max_size`` + delimiter - 1)."""
        return len(self._buf)

    @property
    def partial(self) -> bytes:
        """The bytes of the message not yet complete (what a peer that closes now leaves unfinished)."""
        return bytes(self._buf)

    def reset(self) -> None:
        """Drop any partial message."""
        self._buf.clear()

    def feed(self, data: _Bytes) -> list[bytes]:
        """Add ``data`` and return every message it completes, in order (possibly none).

        Raises :class:`FrameTooLarge` when a message exceeds ``max_size``; the bytes of
        that message are not kept. Each byte is scanned once, so a peer trickling a
        long line one byte at a time costs linear, not quadratic, time.
        """
        delim = self._delimiter
        dlen = len(delim)
        limit = self._max_size
        out: list[bytes] = []
        buf = self._buf
        if buf:
            # Finish the buffered message first, scanning only bytes not scanned before
            # (less the delimiter's length - 1, for a delimiter split across feeds).
            start = max(0, len(buf) - dlen + 1)
            buf += data
            end = buf.find(delim, start, limit + dlen)
            if end < 0:
                if len(buf) > limit + dlen - 1:
                    size = len(buf)
                    buf.clear()
                    raise FrameTooLarge(self._too_long(size))
                return out
            out.append(bytes(buf[:end]))
            data = bytes(buf[end + dlen :])
            buf.clear()
        elif data.__class__ is not bytes:
            data = bytes(data)
        assert isinstance(data, bytes)
        find = data.find
        pos = 0
        while True:
            end = find(delim, pos, pos + limit + dlen)
            if end < 0:
                break
            out.append(data[pos:end])
            pos = end + dlen
        rest = len(data) - pos
        if rest:
            if rest > limit + dlen - 1:
                raise FrameTooLarge(self._too_long(rest))
            buf += data[pos:]
        return out

    def _too_long(self, size: int) -> str:
        limit, delim = self._max_size, self._delimiter
        return f"line longer than max_size={limit} bytes ({size} bytes and no delimiter {delim!r} yet)"

    def encode(self, message: _Bytes) -> bytes:
        """``message`` followed by the delimiter.

        Raises :class:`FrameTooLarge` when it is longer than ``max_size`` and
        :class:`ValueError` when it contains the delimiter (the peer would see two messages).
        """
        msg = bytes(message)
        if len(msg) > self._max_size:
            raise FrameTooLarge(f"message of {len(msg)} bytes is longer than max_size={self._max_size}")
        if self._delimiter in msg:
            raise ValueError(f"message contains the delimiter {self._delimiter!r}: {quote(msg)}")
        return msg + self._delimiter

    def __repr__(self) -> str:
        return f"LineFramer(delimiter={self._delimiter!r}, max_size={self._max_size})"


class LengthPrefixFramer:
    """Messages preceded by their length as a big-endian unsigned integer of ``header_size`` bytes.

    ``header_size`` is 1, 2, 4 (the default) or 8. ``max_size`` defaults to 16 MiB, or
    to the largest length the header can carry when that is smaller. A header announcing
    more than ``max_size`` raises :class:`FrameTooLarge` as soon as the header is
    complete, before any of the body is buffered.

    >>> framer = LengthPrefixFramer()
    >>> wire = framer.encode(b"hi") + framer.encode(b"")
    >>> wire
    b'\\x00\\x00\\x00\\x02hi\\x00\\x00\\x00\\x00'
    >>> framer.feed(wire[:5]), framer.feed(wire[5:])
    ([], [b'hi', b''])
    >>> framer.feed(b"\\xff\\xff\\xff\\xff")
    Traceback (most recent call last):
    ...
    netbasics.FrameTooLarge: header announces 4294967295 bytes, more than max_size=16777216
    """

    __slots__ = ("_buf", "_header_size", "_max_size", "_need")

    def __init__(self, header_size: int = 4, max_size: int | None = None) -> None:
        if isinstance(header_size, bool) or not isinstance(header_size, int):
            raise TypeError(f"header_size must be an int, got {type(header_size).__name__} {quote(header_size)}")
        if header_size not in _HEADER_SIZES:
            raise ValueError(f"header_size must be one of {_HEADER_SIZES}, got {quote(header_size)}")
        capacity = (1 << (8 * header_size)) - 1
        if max_size is None:
            max_size = min(DEFAULT_MAX_MESSAGE, capacity)
        elif _check_max(max_size) > capacity:
            raise ValueError(
                f"max_size={quote(max_size)} does not fit a {header_size}-byte header (at most {capacity})"
            )
        self._header_size = header_size
        self._max_size = max_size
        self._buf = bytearray()
        self._need = -1  # body length once its header is read; -1 while reading a header

    @property
    def header_size(self) -> int:
        """Bytes in the length header."""
        return self._header_size

    @property
    def max_size(self) -> int:
        """The largest message body accepted, in bytes."""
        return self._max_size

    @property
    def buffered(self) -> int:
        """Bytes held of a header or body not yet complete."""
        return len(self._buf)

    @property
    def partial(self) -> bytes:
        """The bytes of the message not yet complete, header included."""
        if self._need < 0:
            return bytes(self._buf)
        return self._need.to_bytes(self._header_size, "big") + self._buf

    def reset(self) -> None:
        """Drop any partial header or message."""
        self._buf = bytearray()
        self._need = -1

    def _length(self, header: _Bytes) -> int:
        length = int.from_bytes(header, "big")
        if length > self._max_size:
            self.reset()
            raise FrameTooLarge(f"header announces {length} bytes, more than max_size={self._max_size}")
        return length

    def feed(self, data: _Bytes) -> list[bytes]:
        """Add ``data`` and return every message it completes, in order (possibly none).

        Raises :class:`FrameTooLarge` as soon as a header announces more than ``max_size``.
        """
        if data.__class__ is not bytes:
            data = bytes(data)
        out: list[bytes] = []
        hsize = self._header_size
        buf = self._buf
        need = self._need
        pos = 0
        end = len(data)
        while pos < end:
            if need < 0:
                if not buf and end - pos >= hsize:
                    need = self._length(data[pos : pos + hsize])
                    pos += hsize
                else:
                    take = min(hsize - len(buf), end - pos)
                    buf += data[pos : pos + take]
                    pos += take
                    if len(buf) < hsize:
                        break
                    need = self._length(buf)
                    buf.clear()
                if need == 0:
                    out.append(b"")
                    need = -1
            elif not buf and end - pos >= need:
                out.append(data[pos : pos + need])
                pos += need
                need = -1
            else:
                take = min(need - len(buf), end - pos)
                buf += data[pos : pos + take]
                pos += take
                if len(buf) == need:
                    out.append(bytes(buf))
                    buf.clear()
                    need = -1
        self._need = need
        return out

    def encode(self, message: _Bytes) -> bytes:
        """The header for ``message`` followed by it; :class:`FrameTooLarge` above ``max_size``."""
        msg = bytes(message)
        if len(msg) > self._max_size:
            raise FrameTooLarge(f"message of {len(msg)} bytes is longer than max_size={self._max_size}")
        return len(msg).to_bytes(self._header_size, "big") + msg

    def __repr__(self) -> str:
        return f"LengthPrefixFramer(header_size={self._header_size}, max_size={self._max_size})"


#: Either framer: what :meth:`StreamConnection.send_message` and ``recv_message`` accept.
Framer = Union[LineFramer, LengthPrefixFramer]
