"""STAND-IN until branch ``rbuf`` lands: the receive buffer of CONTRACTS.md section 2.

Only here so that the asyncio connection (``netbasics.aio``) can be built and tested
against the contract's API while the real module is written on branch ``rbuf``. When
``rbuf`` is merged its file replaces this one as a whole (take theirs on conflict).
"""

from __future__ import annotations

from typing import Union

from .errors import FrameTooLarge
from .framing import Framer

__all__ = ["ReceiveBuffer"]

_Bytes = Union[bytes, bytearray, memoryview]


class ReceiveBuffer:
    """The bytes received on one stream connection and not yet handed to the caller."""

    __slots__ = ("_buf", "_eof", "_framer", "_messages", "_scanned")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._eof = False
        self._scanned = 0
        self._framer: Framer | None = None
        self._messages: list[bytes] = []

    def feed(self, data: _Bytes) -> None:
        self._buf += data

    def feed_eof(self) -> None:
        self._eof = True

    @property
    def eof(self) -> bool:
        return self._eof

    def __len__(self) -> int:
        return len(self._buf)

    def _unframe(self) -> None:
        framer = self._framer
        if framer is not None:
            self._framer = None
            pending = b"".join(framer.encode(m) for m in self._messages) + framer.partial
            self._messages.clear()
            framer.reset()
            self._buf[:0] = pending

    def take(self, max_bytes: int) -> bytes:
        self._unframe()
        self._scanned = 0
        data = bytes(self._buf[:max_bytes])
        del self._buf[:max_bytes]
        return data

    def take_exactly(self, n: int) -> bytes | None:
        self._unframe()
        if len(self._buf) < n:
            return None
        self._scanned = 0
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def take_until(self, delimiter: bytes, max_size: int) -> bytes | None:
        self._unframe()
        buf = self._buf
        start = max(0, self._scanned - len(delimiter) + 1)
        end = buf.find(delimiter, start, max_size + len(delimiter))
        if end < 0:
            if len(buf) > max_size + len(delimiter) - 1:
                raise FrameTooLarge(f"line longer than {max_size} bytes", )
            self._scanned = len(buf)
            return None
        self._scanned = 0
        end += len(delimiter)
        data = bytes(buf[:end])
        del buf[:end]
        return data

    def take_message(self, framer: Framer) -> bytes | None:
        if framer is not self._framer:
            self._unframe()
            self._framer = framer
        if self._buf:
            data = bytes(self._buf)
            self._buf.clear()
            self._messages.extend(framer.feed(data))
        if self._messages:
            return self._messages.pop(0)
        if getattr(framer, "error_pending", False):
            self._messages.extend(framer.feed(b""))
            if self._messages:
                return self._messages.pop(0)
        return None

    def readinto(self, buffer: memoryview) -> int:
        self._unframe()
        k = min(len(buffer), len(self._buf))
        buffer[:k] = self._buf[:k]
        del self._buf[:k]
        self._scanned = 0
        return k

    def take_rest(self) -> bytes:
        framer = self._framer
        partial = b""
        if framer is not None:
            partial = framer.partial
            framer.reset()
        data = bytes(self._buf) + partial
        self._buf.clear()
        return data

    def read_size(self, default: int, framer: Framer | None = None) -> int:
        return default
