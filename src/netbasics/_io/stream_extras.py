"""File objects, ``recv_into`` and ``send_file`` for the stream connection, and Unix peer credentials.

A mixin: the stream connection class inherits these methods. They use the connection's
own buffer and deadlines (``_buf``, ``_recv_first``, ``SO_RCVTIMEO``/``SO_SNDTIMEO``), so
a file handed out by :meth:`StreamExtras.makefile` sees the bytes the connection has
already read, and bytes read ahead for the file stay in the connection for its next
``recv``: there is one buffer, not two.

The rules for arming the kernel's timeouts live here too, for both the connection's own
reads and writes and these: :func:`first_wait` (the first step of a call) and
:meth:`StreamExtras._arm` (any step).
"""

from __future__ import annotations

import errno
import io
import os
import socket
import stat
import time
from typing import TYPE_CHECKING, Final, Literal, overload

from ..errors import NetTimeoutError, PeerClosed, quote
from ..unix_addresses import PeerCredentials
from .sockets import DEFAULT_TIMEOUT, MIN_WAIT, READ_CHUNK, Timeout, check_int

if TYPE_CHECKING:
    from typing_extensions import Buffer
from .unix_sockets import peer_credentials

_DEFAULT: Final = DEFAULT_TIMEOUT

__all__ = ["StreamExtras", "first_wait"]

_CHUNK: Final = READ_CHUNK
_MIN_WAIT: Final = MIN_WAIT
# Bytes os.sendfile is asked for per call: the deadline is re-armed between calls, since
# the kernel's send timeout bounds each internal step of a call, not the whole call.
_SENDFILE_CHUNK: Final = 8 * 1024 * 1024
# Read size of the fallback copy loop (files without a descriptor, or no sendfile).
_COPY_CHUNK: Final = 256 * 1024
# Bytes a binary file collects from write() before it sends them.
_WRITE_BUFFER: Final = 65536
# errno values of os.sendfile meaning "not for this kind of file or socket": copy instead.
_NO_SENDFILE: Final = frozenset({errno.EINVAL, errno.ENOSYS, errno.ENOTSOCK, errno.EOPNOTSUPP, errno.ESPIPE})
_SO_SNDTIMEO: Final = socket.SO_SNDTIMEO
_SO_RCVTIMEO: Final = socket.SO_RCVTIMEO
_monotonic = time.monotonic


def first_wait(timeout: float | None) -> float:
    """The ``SO_RCVTIMEO``/``SO_SNDTIMEO`` for the first step of a call with ``timeout``: it may take all of it.

    0 is the kernel's "no limit" (``timeout=None``); a zero timeout becomes the least wait
    the kernel knows, 1 µs, so that the step takes only what is already there (or fits).
    """
    if timeout is None:
        return 0.0
    return timeout or _MIN_WAIT


BinaryMode = Literal["rb", "wb", "rwb"]
TextMode = Literal["r", "w"]
_MODES: Final = {"rb": "rb", "br": "rb", "wb": "wb", "bw": "wb", "r": "r", "w": "w"}


def _normalise_mode(mode: object) -> tuple[bool, bool, bool]:
    """(reading, writing, binary) for a mode made of the letters r, w and b."""
    if not isinstance(mode, str):
        raise TypeError(f"mode must be str, got {quote(mode)}")
    letters = set(mode)
    if not mode or len(letters) != len(mode) or not letters <= {"r", "w", "b"} or letters == {"b"}:
        raise ValueError(f"mode must be made of 'r', 'w' and 'b' (such as 'rb' or 'w'), got {quote(mode)}")
    return "r" in letters, "w" in letters, "b" in letters


class StreamExtras:
    """File objects, zero-copy reads and file sending, mixed into the stream connection."""

    __slots__ = ()

    if TYPE_CHECKING:
        _sock: socket.socket
        _buf: bytearray
        _timeout: float | None
        _rcvtimeo: float
        _sndtimeo: float
        _closed: bool

        _framer: object

        def _recv_first(self, size: int, timeout: float | None) -> bytes: ...
        def _recv_more(self, size: int, timeout: float | None, start: float) -> bytes: ...
        def _unframe(self) -> None: ...
        def _resolve_timeout(self, timeout: Timeout) -> float | None: ...
        def _set_rcvtimeo(self, seconds: float) -> None: ...
        def _set_sndtimeo(self, seconds: float) -> None: ...
        def _error(self, exc: OSError, operation: str, timeout: float | None) -> BaseException: ...
        def _timed_out(self, operation: str, timeout: float) -> NetTimeoutError: ...
        def _where(self) -> object: ...
        def send_all(self, data: bytes | bytearray | memoryview, *, timeout: float | None = ...) -> None: ...
        def close(self) -> None: ...

    # --- peer credentials -----------------------------------------------------------

    @property
    def peer_credentials(self) -> PeerCredentials:
        """The peer process's pid, uid and gid, for a Unix domain connection (``SO_PEERCRED`` on Linux).

        Raises :class:`ValueError` for a TCP connection and :class:`NotImplementedError`
        on platforms where netbasics cannot ask.
        """
        return peer_credentials(self._sock)

    # --- zero-copy reads --------------------------------------------------------------

    def recv_into(self, buffer: Buffer, nbytes: int = 0, *, timeout: Timeout = _DEFAULT) -> int:
        """Read up to ``nbytes`` bytes (all of ``buffer`` when 0) into ``buffer``; the count, 0 at the end.

        Like :meth:`recv` without making a ``bytes`` object: the kernel writes straight
        into ``buffer`` (a ``bytearray``, ``memoryview``, ``array`` or anything writable
        with the buffer protocol). Bytes the connection already holds (read ahead by
        ``recv_until`` or a file object) are copied first. Raises
        :class:`NetTimeoutError` if nothing arrives in time.
        """
        view = _writable(buffer)
        n = _count(nbytes, len(view))
        if not n:
            return 0
        if self._framer is not None:
            self._unframe()  # bytes a framer holds (recv_until's read-ahead) come first
        buf = self._buf
        if buf:
            k = min(n, len(buf))
            view[:k] = buf[:k]
            del buf[:k]
            return k
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
        view = _writable(buffer)
        n = len(view)
        if self._framer is not None:
            self._unframe()
        buf = self._buf
        got = min(n, len(buf))
        if got:
            view[:got] = buf[:got]
            del buf[:got]
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
            self._buf[:0] = view[:got]  # keep the stream whole for the caller's next read
            raise

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
        fd = _fileno(file)
        total = 0
        if fd is not None and hasattr(os, "sendfile"):
            total, done = self._sendfile(fd, offset, count, t, start)
            if done:
                _seek(file, offset + total)
                return total
        total += self._copy_file(file, offset + total, None if count is None else count - total, t, start)
        _seek(file, offset + total)
        return total

    def _sendfile(
        self, fd: int, offset: int, count: int | None, timeout: float | None, start: float
    ) -> tuple[int, bool]:
        """Send with os.sendfile; (bytes sent, finished). Not finished: copy the rest another way."""
        end = offset + count if count is not None else _regular_size(fd)
        out = self._sock.fileno()
        pos = offset
        while end is None or pos < end:
            want = _SENDFILE_CHUNK if end is None else min(_SENDFILE_CHUNK, end - pos)
            self._arm(_SO_SNDTIMEO, timeout, start, pos == offset)
            try:
                sent = os.sendfile(out, fd, pos, want)
            except OSError as exc:
                if exc.errno in _NO_SENDFILE and pos == offset:
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
        chunk = bytearray(_COPY_CHUNK if count is None else max(1, min(_COPY_CHUNK, count)))
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
        :class:`NetTimeoutError`.
        """
        reading, writing, binary = _normalise_mode(mode)
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
        raw = _ConnectionFile(self, reading, writing, 0 if buffering == 0 else _WRITE_BUFFER, close_connection)
        if binary:
            return raw
        return io.TextIOWrapper(raw, encoding=encoding or "utf-8", errors=errors, newline=newline)

    # --- helpers --------------------------------------------------------------------

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

    def _plain_buffer(self) -> bytearray:
        """The connection's buffer, with any bytes a framer held back (``recv_until``'s read-ahead) put first."""
        if self._framer is not None:
            self._unframe()
        return self._buf

    def _fill(self, timeout: float | None, start: float, first: bool) -> bool:
        """Read once more into the connection's buffer; False at the end of the stream."""
        if self._framer is not None:
            self._unframe()
        chunk = self._recv_first(_CHUNK, timeout) if first else self._recv_more(_CHUNK, timeout, start)
        if not chunk:
            return False
        self._buf += chunk
        return True


class _ConnectionFile(io.BufferedIOBase):
    """The binary file of :meth:`StreamExtras.makefile`: reads the connection's buffer, writes through a small one."""

    def __init__(
        self, conn: StreamExtras, reading: bool, writing: bool, write_buffer: int, close_connection: bool
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
        return self._conn._sock.fileno()

    def _check_read(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        if not self._reading:
            raise io.UnsupportedOperation("not readable")

    def _deadline(self) -> tuple[float | None, float]:
        t = self._conn._timeout
        return t, (0.0 if t is None else _monotonic())

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes, fewer only at the end of the stream; all until the end when ``size`` < 0."""
        self._check_read()
        conn = self._conn
        buf = conn._plain_buffer()
        t, start = self._deadline()
        first = True
        want = -1 if size is None or size < 0 else size
        while want < 0 or len(buf) < want:
            if not conn._fill(t, start, first):
                break
            first = False
        n = len(buf) if want < 0 else min(want, len(buf))
        data = bytes(buf[:n])
        del buf[:n]
        return data

    def read1(self, size: int = -1) -> bytes:
        """What is buffered, or else the result of one read from the socket."""
        self._check_read()
        conn = self._conn
        buf = conn._plain_buffer()
        if not buf:
            t, start = self._deadline()
            if not conn._fill(t, start, True):
                return b""
        n = len(buf) if size < 0 else min(size, len(buf))
        data = bytes(buf[:n])
        del buf[:n]
        return data

    def readinto(self, b: Buffer) -> int:
        view = memoryview(b).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readinto1(self, b: Buffer) -> int:
        self._check_read()
        return self._conn.recv_into(b, timeout=self._conn._timeout)

    def readline(self, size: int | None = -1) -> bytes:
        """One line with its ``\\n``; the rest of the stream if it ends without one; at most ``size`` bytes."""
        self._check_read()
        conn = self._conn
        buf = conn._plain_buffer()
        limit = -1 if size is None or size < 0 else size
        t, start = self._deadline()
        first = True
        scan = 0
        while True:
            end = buf.find(b"\n", scan)
            if end >= 0:
                n = end + 1
                break
            if 0 <= limit <= len(buf):
                n = limit
                break
            scan = len(buf)
            if not conn._fill(t, start, first):
                n = len(buf)
                break
            first = False
        if 0 <= limit < n:
            n = limit
        data = bytes(buf[:n])
        del buf[:n]
        return data

    @property
    def name(self) -> str:
        return f"<connection fd {self.fileno()}>"

    def write(self, b: Buffer) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        if not self._writing:
            raise io.UnsupportedOperation("not writable")
        data = memoryview(b).cast("B")
        n = len(data)
        if not self._limit:
            self._conn.send_all(data)
            return n
        self._pending += data
        if len(self._pending) >= self._limit:
            self.flush()
        return n

    def flush(self) -> None:
        if self.closed:
            return
        pending = self._pending
        if pending:
            self._conn.send_all(pending)
            pending.clear()

    def close(self) -> None:
        if self.closed:
            return
        try:
            if self._writing and not self._conn._closed:
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


def _writable(buffer: object) -> memoryview:
    try:
        view = memoryview(buffer)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"buffer must be a writable bytes-like object, got {type(buffer).__name__}") from None
    if view.readonly:
        raise TypeError(f"buffer must be writable, got a read-only {type(buffer).__name__}")
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


def _count(nbytes: object, size: int) -> int:
    check_int(nbytes, "nbytes", 0)
    assert isinstance(nbytes, int)
    if nbytes > size:
        raise ValueError(f"nbytes={nbytes} is larger than the buffer ({size} bytes)")
    return nbytes or size


def _regular_size(fd: int) -> int | None:
    """The size of the regular file open on ``fd`` (sendfile sends up to it), else ``None``.

    Knowing where the file ends saves asking sendfile for more at the end, a step that a
    zero timeout (one step only) would refuse; the standard library's
    ``socket.sendfile`` likewise sends a file as long as it was when the call began.
    """
    try:
        info = os.fstat(fd)
    except OSError:
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _fileno(file: io.IOBase) -> int | None:
    try:
        return file.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return None


def _seek(file: io.IOBase, position: int) -> None:
    try:
        if file.seekable():
            file.seek(position)
    except (OSError, ValueError):
        pass  # a pipe or socket: there is no position to leave
