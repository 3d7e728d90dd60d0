"""Framers of the user's own, written against the Framer protocol only, for the tests of framing through streams."""

from __future__ import annotations

from netbasics import FrameTooLarge

__all__ = ["Digitstrings", "Netstrings"]


class Netstrings:
    """Netstrings (``b"5:hello,"``), written against the Framer protocol only: subclasses nothing."""

    def __init__(self, max_size: int = 1 << 20) -> None:
        self.max_size = max_size
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self.buffer += data
        out: list[bytes] = []
        while True:
            colon = self.buffer.find(b":", 0, 12)
            if colon < 0:
                if len(self.buffer) >= 12:
                    raise FrameTooLarge(f"netstring length prefix too long: {bytes(self.buffer[:12])!r}")
                return out
            size = int(self.buffer[:colon])
            if size > self.max_size:
                raise FrameTooLarge(f"netstring of {size} bytes, more than max_size={self.max_size}")
            end = colon + 1 + size
            if len(self.buffer) <= end:
                return out
            if self.buffer[end] != ord(","):
                raise ValueError("netstring does not end with a comma")
            out.append(bytes(self.buffer[colon + 1 : end]))
            del self.buffer[: end + 1]

    def encode(self, message: bytes) -> bytes:
        return b"%d:%s," % (len(message), message)

    @property
    def partial(self) -> bytes:
        return bytes(self.buffer)

    def reset(self) -> None:
        self.buffer.clear()


class Digitstrings(Netstrings):
    """``b"3:abc,"`` carries ``b"abc"``: a one-digit length, at most ``max_size``.

    A user framer as the Framer protocol describes it: an error found after good
    messages in the same feed is held back for the next feed (``error_pending``), and
    meanwhile ``partial`` is the bytes from the bad message on.
    """

    def __init__(self, max_size: int = 5) -> None:
        super().__init__(max_size)
        self.error_pending = False
        self.held: Exception | None = None

    def feed(self, data: bytes) -> list[bytes]:
        if self.held is not None:
            error, self.held = self.held, None
            self.reset()
            raise error
        buf = self.buffer
        buf += data
        out: list[bytes] = []
        while buf:
            problem = self._check(buf)
            if problem is not None:
                if out:
                    self.held, self.error_pending = problem, True
                    return out
                buf.clear()
                raise problem
            size = int(buf[:1])
            if len(buf) < size + 3:
                break
            out.append(bytes(buf[2 : size + 2]))
            del buf[: size + 3]
        return out

    def _check(self, buf: bytearray) -> Exception | None:
        if not buf[:1].isdigit():
            return ValueError("digitstring header is not a digit")
        size = int(buf[:1])
        if size > self.max_size:
            return FrameTooLarge(f"digitstring longer than max_size={self.max_size}")
        if bytes(buf[1:2]) not in (b"", b":") or bytes(buf[size + 2 : size + 3]) not in (b"", b","):
            return ValueError("digitstring is malformed")
        return None

    # encode() and partial: the netstring's (a digitstring is a netstring of one digit).

    def reset(self) -> None:
        super().reset()
        self.held = None
        self.error_pending = False
