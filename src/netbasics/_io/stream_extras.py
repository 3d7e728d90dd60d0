"""Helpers of the stream connection that need none of its state: argument checks and file plumbing.

The connection (``stream.py``) holds the methods themselves (reads into the caller's
buffers, file objects, ``send_file``); what is here takes plain values: the first step
of a deadline (:func:`first_wait`), ``makefile`` modes, writable views, ``nbytes``
checks, and the file questions ``send_file`` asks (descriptor, regular size, seeking).
"""

from __future__ import annotations

import errno
import io
import os
import stat
from typing import Final, Literal

from ..errors import quote
from .sockets import MIN_WAIT, check_int

__all__ = [
    "COPY_CHUNK",
    "NO_SENDFILE",
    "SENDFILE_CHUNK",
    "WRITE_BUFFER",
    "BinaryMode",
    "TextMode",
    "check_nbytes",
    "file_descriptor",
    "first_wait",
    "normalise_mode",
    "regular_size",
    "seek_quietly",
    "writable_view",
]

_MIN_WAIT: Final = MIN_WAIT
#: Bytes os.sendfile is asked for per call: the deadline is re-armed between calls, since
#: the kernel's send timeout bounds each internal step of a call, not the whole call.
SENDFILE_CHUNK: Final = 8 * 1024 * 1024
#: Read size of the fallback copy loop (files without a descriptor, or no sendfile).
COPY_CHUNK: Final = 256 * 1024
#: Bytes a binary file collects from write() before it sends them.
WRITE_BUFFER: Final = 65536
#: errno values of os.sendfile meaning "not for this kind of file or socket": copy instead.
NO_SENDFILE: Final = frozenset({errno.EINVAL, errno.ENOSYS, errno.ENOTSOCK, errno.EOPNOTSUPP, errno.ESPIPE})


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


def normalise_mode(mode: object) -> tuple[bool, bool, bool]:
    """(reading, writing, binary) for a mode made of the letters r, w and b."""
    if not isinstance(mode, str):
        raise TypeError(f"mode must be str, got {quote(mode)}")
    letters = set(mode)
    if not mode or len(letters) != len(mode) or not letters <= {"r", "w", "b"} or letters == {"b"}:
        raise ValueError(f"mode must be made of 'r', 'w' and 'b' (such as 'rb' or 'w'), got {quote(mode)}")
    return "r" in letters, "w" in letters, "b" in letters


def writable_view(buffer: object) -> memoryview:
    """A flat, byte-shaped view of ``buffer``; :class:`TypeError` unless it is writable bytes-like memory."""
    try:
        view = memoryview(buffer)  # type: ignore[arg-type]  # checked here at run time; no Buffer type before 3.12
    except TypeError:
        raise TypeError(f"buffer must be a writable bytes-like object, got {type(buffer).__name__}") from None
    if view.readonly:
        raise TypeError(f"buffer must be writable, got a read-only {type(buffer).__name__}")
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


def check_nbytes(nbytes: object, size: int) -> int:
    """The byte count a ``recv_into(buffer, nbytes)`` asks for: ``nbytes``, or all ``size`` bytes when 0."""
    check_int(nbytes, "nbytes", 0)
    assert isinstance(nbytes, int)
    if nbytes > size:
        raise ValueError(f"nbytes={nbytes} is larger than the buffer ({size} bytes)")
    return nbytes or size


def regular_size(fd: int) -> int | None:
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


def file_descriptor(file: io.IOBase) -> int | None:
    """The descriptor under ``file``, or ``None`` if it has none (``io.BytesIO``)."""
    try:
        return file.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return None


def seek_quietly(file: io.IOBase, position: int) -> None:
    """Leave a seekable ``file`` at ``position``; nothing for a pipe or socket."""
    try:
        if file.seekable():
            file.seek(position)
    except (OSError, ValueError):
        pass  # a pipe or socket: there is no position to leave
