"""Message framing over a byte stream, sans-I/O: feed bytes in, get whole messages out.

A TCP stream has no message boundaries; a framer restores them. Framers never touch a
socket: any transport (a :class:`~netbasics.StreamConnection`, a file, an asyncio protocol,
a test) feeds them bytes with :meth:`feed` and writes what :meth:`encode` returns.

:class:`Framer` is the protocol every framer follows; :class:`LineFramer` and
:class:`LengthPrefixFramer` are two ready-made ones, and a plain class of your own with
the same four members works everywhere a framer is taken.

Both framers bound their memory. A message longer than ``max_size`` raises
:class:`~netbasics.FrameTooLarge` as soon as that is known and before the excess is
buffered: a length prefix announcing 4 GiB is refused when its header arrives, a line
when ``max_size`` bytes have come without a delimiter. After :class:`FrameTooLarge` the
stream is out of step (the rest of the oversized message would be read as messages), so
drop the connection, or call :meth:`reset` if the transport can resynchronise.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final, Protocol, Union, runtime_checkable

from .errors import FrameTooLarge, quote

__all__ = ["ErrorPendingFramer", "Framer", "HeaderFramer", "LengthPrefixFramer", "LineFramer"]

_Bytes = Union[bytes, bytearray, memoryview]

#: Default largest line: 64 KiB, like common HTTP header-line limits.
DEFAULT_MAX_LINE: Final = 65536
#: Default largest length-prefixed message: 16 MiB (never more than the header can say).
DEFAULT_MAX_MESSAGE: Final = 16 * 1024 * 1024
_HEADER_SIZES: Final = (1, 2, 4, 8)
# Big-endian header codecs by size: a struct call is the cheapest way from bytes to int and back.
_STRUCTS: Final = {1: struct.Struct(">B"), 2: struct.Struct(">H"), 4: struct.Struct(">I"), 8: struct.Struct(">Q")}


class Framer(Protocol):
    """What turns a byte stream into messages and back: the protocol every framer follows.

    A framer is a plain object with four members; subclass nothing.
    :class:`~netbasics.StreamConnection` (``recv_message``, ``messages``,
    ``send_message``) and ``TCPServer.for_messages`` take any object that has them, and
    the server gives each connection its own deep copy (so keep the state of a
    half-received message in ordinary attributes).

    * ``feed(data)`` takes the next bytes of the stream and returns every message they
      complete, in order (often none); it raises :class:`~netbasics.FrameTooLarge` when
      a message is too large, before buffering it, so that a peer cannot grow memory.
    * ``encode(message)`` returns the bytes that carry ``message`` on the stream;
      ``feed(encode(m))`` gives back ``[m]``.
    * ``partial`` is the bytes of the message not yet complete, as they came on the
      stream (what a peer that closes now leaves unfinished).
    * ``reset()`` drops that partial message.

    One member is optional, for a framer that returns the good messages of a ``feed``
    before an error that follows them in the same bytes (as :class:`LineFramer` does
    with an oversized line after complete ones), and raises that error on its next
    ``feed``:

    * ``error_pending`` is true while such an error is held back. Transports read it
      before they wait for more bytes, and when it is true they call ``feed(b"")``, which
      must raise the error, instead of waiting (the peer may send nothing more). Without
      it a transport raises the error only when more bytes arrive. It is read once per
      message: make it a plain attribute rather than a property.

    While an error is held back, ``partial`` should be the bytes after the last message
    returned, as received (the two framers here do so): a transport that goes on with
    another kind of read (:class:`~netbasics.ReceiveBuffer` hands them back) then sees the
    stream as it came, as if the framer had been fed only up to its last message.

    >>> class Netstrings:
    ...     "Netstrings: b'5:hello,' carries b'hello'."
    ...     def __init__(self):
    ...         self.buffer = b""
    ...     def feed(self, data):
    ...         self.buffer += data
    ...         out = []
    ...         while b":" in self.buffer:
    ...             head, _, rest = self.buffer.partition(b":")
    ...             size = int(head)
    ...             if len(rest) <= size:
    ...                 break
    ...             out.append(rest[:size])
    ...             self.buffer = rest[size + 1 :]
    ...         return out
    ...     def encode(self, message):
    ...         return b"%d:%s," % (len(message), message)
    ...     @property
    ...     def partial(self):
    ...         return self.buffer
    ...     def reset(self):
    ...         self.buffer = b""
    >>> framer: Framer = Netstrings()
    >>> framer.feed(framer.encode(b"hi") + b"3:ab")
    [b'hi']
    >>> framer.partial
    b'3:ab'
    """

    def feed(self, data: bytes) -> list[bytes]:
        """Add the next bytes of the stream; return every message they complete, in order."""
        ...

    def encode(self, message: bytes) -> bytes:
        """The bytes that carry ``message`` on the stream."""
        ...

    @property
    def partial(self) -> bytes:
        """The bytes of the message not yet complete, as received."""
        ...

    def reset(self) -> None:
        """Drop the message not yet complete."""
        ...


@runtime_checkable
class ErrorPendingFramer(Framer, Protocol):
    """A :class:`Framer` with the optional ``error_pending`` member: it can hold an error back.

    See :class:`Framer`: while ``error_pending`` is true, the next ``feed(b"")`` raises the
    error held back. Transports check for the member once per connection (``isinstance``
    works: the protocol is runtime-checkable), then read it once per batch of messages.
    :class:`LineFramer` is one.
    """

    @property
    def error_pending(self) -> bool:
        """True while an error found in bytes already fed waits for the next ``feed``."""
        ...


@runtime_checkable
class HeaderFramer(Framer, Protocol):
    """A :class:`Framer` whose messages travel as a header and then the message bytes, unchanged.

    Transports move large messages of such a framer without copying them: a reply is
    sent as ``header(reply)`` and ``reply`` in one ``sendmsg``, and a large body is read
    in one piece of ``read_size(default, most)`` bytes, which ``feed`` returns as the
    message. A framer that has these members promises ``encode(m) == header(m) + m``
    (a subclass of :class:`LengthPrefixFramer` that encodes otherwise must not keep
    them). Transports check for them once per connection (``isinstance`` works).
    :class:`LengthPrefixFramer` is one.

    * ``announced``: the body length announced by the latest header (0 before any); a
      transport skips ``read_size`` while it is at most its usual read size.
    * ``read_size(default, most)``: how many bytes to read next (see
      :meth:`LengthPrefixFramer.read_size`).
    * ``header(message)``: the header that goes before ``message``, alone.
    """

    @property
    def announced(self) -> int:
        """The body length announced by the latest header read (0 before any)."""
        ...

    def read_size(self, default: int, most: int) -> int:
        """How many bytes to read next: ``default``, or up to ``most`` for the rest of a large body."""
        ...

    def header(self, message: bytes) -> bytes:
        """The header that goes before ``message`` on the stream, alone."""
        ...


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
    netbasics.FrameTooLarge: line of at least 8 bytes is longer than max_size=4

    ``error_pending`` (an attribute: read it, do not set it) is true after a ``feed``
    that returned the lines before an oversized one: the next ``feed`` raises
    :class:`FrameTooLarge`, whatever it is given (see :class:`Framer`).

    >>> framer = LineFramer(max_size=4)
    >>> framer.feed(b"ok\\ntoo long"), framer.error_pending
    ([b'ok'], True)
    >>> framer.feed(b"")
    Traceback (most recent call last):
    ...
    netbasics.FrameTooLarge: line of at least 8 bytes is longer than max_size=4
    >>> framer.error_pending
    False
    """

    __slots__ = ("_buf", "_delimiter", "_max_size", "_overflow", "_rest", "error_pending")

    def __init__(self, delimiter: bytes = b"\n", max_size: int = DEFAULT_MAX_LINE) -> None:
        if not isinstance(delimiter, bytes):
            raise TypeError(f"delimiter must be bytes, got {type(delimiter).__name__} {quote(delimiter)}")
        if not delimiter:
            raise ValueError("delimiter must be non-empty bytes, got b''")
        self._delimiter = delimiter
        self._max_size = _check_max(max_size)
        self._buf = bytearray()
        # The size of an oversized line found after complete ones in the same feed():
        # those are returned first, and the next feed() raises FrameTooLarge. It, not the
        # public error_pending (which transports read and a caller could overwrite),
        # decides whether feed() raises.
        self._overflow = 0
        # The bytes of that oversized line (already in memory as the fed data): they are
        # the partial message while the error is held back.
        self._rest = b""
        #: True while feed() holds a FrameTooLarge back for its next call.
        self.error_pending = False

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
        """Bytes held of a message not yet complete: ``len(partial)``, without making ``partial``.

        Never more than ``max_size`` + delimiter - 1, except while an oversized line is
        held back with its error (``error_pending``): then the bytes of that line.
        """
        return len(self._rest) if self._overflow else len(self._buf)

    @property
    def partial(self) -> bytes:
        """The bytes of the message not yet complete (what a peer that closes now leaves unfinished).

        While an error is held back (``error_pending``), the bytes of the oversized line
        received so far.
        """
        return self._rest if self._overflow else bytes(self._buf)

    def reset(self) -> None:
        """Drop any partial message."""
        self._buf.clear()
        self._overflow = 0
        self._rest = b""
        self.error_pending = False

    def feed(self, data: _Bytes) -> list[bytes]:
        """Add ``data`` and return every message it completes, in order (possibly none).

        Raises :class:`FrameTooLarge` when a message exceeds ``max_size``; the bytes of
        that message are not kept. When ``data`` completes some messages before an
        oversized one, they are returned and the next call raises (with any ``data``,
        ``b""`` too), so that no good message is lost. Each byte is scanned once, so a
        peer trickling a long line one byte at a time costs linear, not quadratic, time.
        """
        if self._overflow:
            size, self._overflow = self._overflow, 0
            self._rest = b""
            self.error_pending = False
            raise self._too_long(size)
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
                    raise self._too_long(size)
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
                if out:
                    self._overflow = rest
                    self._rest = data[pos:]
                    self.error_pending = True
                    return out
                raise self._too_long(rest)
            buf += data[pos:]
        return out

    def _too_long(self, size: int) -> FrameTooLarge:
        # The line is still growing: its size is a lower bound (the delimiter not counted).
        return FrameTooLarge(size, self._max_size, at_least=True, what="line")

    def encode(self, message: _Bytes) -> bytes:
        """``message`` followed by the delimiter.

        Raises :class:`FrameTooLarge` when it is longer than ``max_size`` and
        :class:`ValueError` when it contains the delimiter (the peer would see two messages).
        """
        msg = bytes(message)
        if len(msg) > self._max_size:
            raise FrameTooLarge(len(msg), self._max_size)
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
    netbasics.FrameTooLarge: announced message of 4294967295 bytes is longer than max_size=16777216

    For transports that avoid copying large messages, :meth:`header` gives the header
    alone (send it, then the message, with one ``sendmsg``), and :meth:`read_size` says
    how much to read next so that a large body arrives in one piece, which ``feed``
    then returns as the message without joining pieces. ``announced`` (an attribute:
    read it, do not set it) is the body length the latest header announced (0 before
    any); ``read_size(default, most)`` is ``default`` whenever ``announced`` is at most
    ``default``, so a transport that reads small messages checks that attribute and
    makes no call.
    """

    __slots__ = (
        "_have",
        "_head",
        "_header_size",
        "_max_size",
        "_need",
        "_overflow",
        "_pack",
        "_parts",
        "_rest",
        "_unpack",
        "announced",
        "error_pending",
    )

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
        self._bind_codecs()
        self._head = bytearray()  # a header not yet complete
        # The body of a message not yet complete, as the pieces received: joined once
        # when it completes, so a large message is copied once, not once per piece.
        self._parts: list[bytes] = []
        self._have = 0  # bytes in _parts
        self._need = -1  # body length once its header is read; -1 while reading a header
        #: The body length announced by the latest header read (0 before any).
        self.announced = 0
        # An oversized header found after complete messages in the same feed(): those are
        # returned first and the next feed() raises (as LineFramer does); _rest holds the
        # bytes from that header on, the partial message meanwhile.
        self._overflow = -1
        self._rest = b""
        #: True while feed() holds a FrameTooLarge back for its next call.
        self.error_pending = False

    def __getstate__(self) -> dict[str, object]:
        # The header codecs are bound methods of a struct.Struct, which pickle refuses:
        # they are made again from header_size (copy.deepcopy comes this way too).
        return {name: getattr(self, name) for name in self.__slots__ if name not in ("_pack", "_unpack")}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self._bind_codecs()

    def _bind_codecs(self) -> None:
        """The header's ``pack``/``unpack_from``, precompiled for the header size (the hot paths call them)."""
        codec = _STRUCTS[self._header_size]
        self._pack: Callable[[int], bytes] = codec.pack
        self._unpack: Callable[[bytes], tuple[int]] = codec.unpack_from

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
        """Bytes held of a header or body not yet complete: ``len(partial)``, without making ``partial``."""
        if self._overflow >= 0:
            return len(self._rest)
        return len(self._head) + self._have if self._need < 0 else self._header_size + self._have

    @property
    def partial(self) -> bytes:
        """The bytes of the message not yet complete, header included.

        While an error is held back (``error_pending``), the bytes from the oversized
        header on.
        """
        if self._overflow >= 0:
            return self._rest
        if self._need < 0:
            return bytes(self._head)
        return self._need.to_bytes(self._header_size, "big") + b"".join(self._parts)

    def reset(self) -> None:
        """Drop any partial header or message."""
        self._head.clear()
        self._parts.clear()
        self._have = 0
        self._need = -1
        self._overflow = -1
        self._rest = b""
        self.error_pending = False

    def _too_large(self, length: int) -> FrameTooLarge:
        self.reset()
        return FrameTooLarge(length, self._max_size, what="announced message")

    def feed(self, data: _Bytes) -> list[bytes]:
        """Add ``data`` and return every message it completes, in order (possibly none).

        Raises :class:`FrameTooLarge` as soon as a header announces more than ``max_size``;
        when complete messages came before that header in the same ``data``, they are
        returned and the next call raises (``error_pending``), so that no good message is
        lost. A message that arrives in pieces is copied once, when its last piece comes.
        """
        if self._need < 0 and data.__class__ is bytes and not self._head and self._overflow < 0:
            # The usual case of a request/response exchange: one whole message, read at once.
            hsize = self._header_size
            end = len(data)
            if end >= hsize:
                need = self._unpack(data)[0]
                if need + hsize == end and need <= self._max_size:
                    self.announced = need
                    return [data[hsize:]]
        if self._overflow >= 0:
            raise self._too_large(self._overflow)
        if data.__class__ is not bytes:
            data = bytes(data)
        assert isinstance(data, bytes)
        out: list[bytes] = []
        limit = self._max_size
        hsize = self._header_size
        parts = self._parts
        need = self._need
        pos = 0
        end = len(data)
        while pos < end:
            if need < 0:
                head = self._head
                if not head and end - pos >= hsize:
                    need = int.from_bytes(data[pos : pos + hsize], "big")
                    if need > limit:
                        return self._refuse(need, out, data, pos)
                    pos += hsize
                else:
                    take = min(hsize - len(head), end - pos)
                    head += data[pos : pos + take]
                    pos += take
                    if len(head) < hsize:
                        break
                    need = int.from_bytes(head, "big")
                    if need > limit:
                        # (A header completed here began in an earlier feed: no message
                        # came before it in this one, so _refuse raises at once.)
                        return self._refuse(need, out, data, pos - len(head))
                    head.clear()
                self.announced = need
                if need == 0:
                    out.append(b"")
                    need = -1
            elif not parts and end - pos >= need:
                out.append(data[pos : pos + need])
                pos += need
                need = -1
            else:
                take = min(need - self._have, end - pos)
                parts.append(data[pos : pos + take])  # the whole of data when it is all body: no copy
                self._have += take
                pos += take
                if self._have == need:
                    out.append(b"".join(parts))
                    parts.clear()
                    self._have = 0
                    need = -1
        self._need = need
        return out

    def _refuse(self, length: int, out: list[bytes], data: bytes, start: int) -> list[bytes]:
        """An oversized header at ``data[start:]``: raise now, or after the messages in ``out``."""
        if not out:
            raise self._too_large(length)
        self.reset()
        self._overflow = length
        self._rest = data[start:]
        self.error_pending = True
        return out

    def read_size(self, default: int, most: int) -> int:
        """How many bytes a transport should ask for next: ``default``, or more (at most ``most``) for a large message.

        ``default`` is what the transport usually reads at once. While the body of a
        message larger than that is arriving, the answer is the rest of that body (up to
        ``most``): read in one piece, ``feed`` returns it as the message without joining
        pieces. After such a message, the answer is the rest of the next header alone,
        so that the next body (large messages tend to follow each other) can be read in
        one piece too. Otherwise, including whenever ``announced <= default``, it is
        ``default``: small messages are read many at a time.

        >>> framer = LengthPrefixFramer()
        >>> framer.read_size(65536, 1 << 22)
        65536
        >>> framer.feed((1 << 20).to_bytes(4, "big") + bytes(1000))
        []
        >>> framer.read_size(65536, 1 << 22)  # the rest of the 1 MiB body
        1047576
        >>> framer.feed(bytes(1047576))[0] == bytes(1 << 20)
        True
        >>> framer.read_size(65536, 1 << 22)  # the next header alone
        4
        """
        need = self._need
        if need < 0:
            return self._header_size - len(self._head) if self.announced > default else default
        rest = need - self._have
        if rest <= default:
            return default
        return rest if rest < most else most

    def header(self, message: _Bytes) -> bytes:
        """The header that goes before ``message`` on the stream, alone.

        For a transport that sends the header and then ``message`` itself (with
        ``socket.sendmsg([header, message])``, say) rather than the copy :meth:`encode`
        makes. Raises :class:`FrameTooLarge` when ``message`` is longer than ``max_size``.

        >>> LengthPrefixFramer(header_size=2).header(b"hello")
        b'\\x00\\x05'
        """
        size = len(message) if isinstance(message, (bytes, bytearray)) else memoryview(message).nbytes
        if size > self._max_size:
            raise FrameTooLarge(size, self._max_size)
        return self._pack(size)

    def encode(self, message: _Bytes) -> bytes:
        """The header for ``message`` followed by it; :class:`FrameTooLarge` above ``max_size``."""
        if message.__class__ is bytes:  # the usual case, without header()'s checks of the type
            size = len(message)
            if size <= self._max_size:
                return self._pack(size) + message
        msg = bytes(message)
        return self.header(msg) + msg

    def __repr__(self) -> str:
        return f"LengthPrefixFramer(header_size={self._header_size}, max_size={self._max_size})"
