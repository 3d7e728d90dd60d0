"""What UDP and Unix datagram sockets share: the received value, the socket's base, payload and reply types.

A datagram is received whole or not at all, whatever the socket family: every receive
here asks for one byte more than the caller's limit, so a datagram that fills that byte
was too large, and is reported instead of being cut (see :func:`oversized_received`).
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar, Union

from ..errors import DatagramTooLarge, NetbasicsError
from .sockets import check_int, check_timeout

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "TRUNC_FLAGS",
    "BytesLike",
    "DatagramSocketBase",
    "ReceivedDatagram",
    "Reply",
    "oversized_received",
    "received_factory",
]

S = TypeVar("S")  # a datagram's sender: an Endpoint or a UnixAddress
A = TypeVar("A")  # a socket's own and its peer's address: likewise

_new = object.__new__

#: What a datagram's payload may be given as: the buffer types the socket module sends.
BytesLike = Union[bytes, bytearray, memoryview]

#: What a datagram server's handler gets to answer with: ``reply(data)`` sends ``data``
#: back to the datagram's sender from the server's socket.
Reply = Callable[[BytesLike], None]

# Linux (and Android) return a datagram's real length when MSG_TRUNC is passed to recv;
# other systems either ignore the flag or mean something else by it, so it is only used
# there. Everywhere, the extra byte in the receive buffer is what detects truncation.
TRUNC_FLAGS: Final = socket.MSG_TRUNC if sys.platform.startswith("linux") and hasattr(socket, "MSG_TRUNC") else 0


def oversized_received(size: int, max_bytes: int, sender: object) -> DatagramTooLarge:
    """The error for a received datagram of ``size`` bytes, more than the ``max_bytes`` asked for."""
    # Without MSG_TRUNC (not Linux) the kernel does not say how large it really was.
    how = f"{size} bytes" if size > max_bytes + 1 or TRUNC_FLAGS else f"more than {max_bytes} bytes"
    return DatagramTooLarge(
        f"datagram from {sender} was {how}, larger than the receive buffer of {max_bytes} bytes; "
        "it was discarded (raise max_bytes to receive it)"
    )


class ReceivedDatagram(Generic[S]):
    """The value base of ``Datagram`` (UDP) and ``UnixDatagram``: a payload and who sent it.

    Immutable through its public names (read-only properties, no other attributes),
    hashable, equal to a datagram of the same class with equal data and sender,
    ``len()`` of the payload, pickled and repr'd as ``Class(data, sender)``. A subclass
    names its sender type (``_sender_type``, ``_sender_text``), turns a socket address
    into one (``_decode``) and defines the documented ``sender`` property; a datagram
    made by :func:`received_factory` decodes its sender's address only when asked, so a
    server that just replies never pays for it.
    """

    __slots__ = ("_data", "_sender", "_sockaddr")
    _data: bytes
    _sender: S | None
    _sockaddr: Any

    #: The type a sender must have, and how the constructor's error names it ("an Endpoint").
    _sender_type: ClassVar[type]
    _sender_text: ClassVar[str]

    def __init__(self, data: bytes, sender: S) -> None:
        if not isinstance(data, bytes):
            raise TypeError(f"data must be bytes, got {type(data).__name__}")
        if not isinstance(sender, self._sender_type):
            raise TypeError(f"sender must be {self._sender_text}, got {type(sender).__name__}")
        self._data = data
        self._sender = sender
        self._sockaddr = None

    def _decode(self, sockaddr: Any) -> S:  # pragma: no cover - each subclass has its own
        raise NotImplementedError

    def _sender_now(self) -> S:
        """The sender, decoded from the socket address on first use."""
        sender = self._sender
        if sender is None:
            sender = self._sender = self._decode(self._sockaddr)
        return sender

    @property
    def data(self) -> bytes:
        """The payload."""
        return self._data

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, type(self)):
            return self._data == other._data and self._sender_now() == other._sender_now()
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._data, self._sender_now()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r}, {self._sender_now()!r})"

    def __reduce__(self) -> tuple[type[Self], tuple[bytes, S]]:
        return (type(self), (self._data, self._sender_now()))


D = TypeVar("D", bound=ReceivedDatagram[Any])


def received_factory(cls: type[D]) -> Callable[[bytes, Any], D]:
    """The fast constructor of a datagram class: ``make(data, sockaddr)`` from a received payload and socket address.

    Unchecked (the kernel gave both) and the sender left undecoded until asked: the
    receive loops of the servers and sockets call it once per datagram.
    """

    def make(data: bytes, sockaddr: Any) -> D:
        obj = _new(cls)
        obj._data = data
        obj._sockaddr = sockaddr
        obj._sender = None
        return obj

    return make


class DatagramSocketBase(Generic[A]):
    """The base of ``UDPSocket`` and ``UnixDatagramSocket``: a socket, its remote, sends, receives, errors translated.

    A subclass gives its address type: ``local`` and the hooks that translate a failed
    send (:meth:`_send_error`) or receive (:meth:`_receive_error`) and describe a
    datagram larger than asked for (:meth:`_too_large`); ``_max_receive`` caps
    ``max_bytes`` and ``_closed_text`` names a closed socket in messages.
    """

    __slots__ = ("_remote", "_sock")
    _sock: socket.socket
    _remote: A | None

    _max_receive: ClassVar[int]
    _closed_text: ClassVar[str]

    @property
    def local(self) -> A:  # pragma: no cover - each subclass documents its own
        raise NotImplementedError

    @property
    def remote(self) -> A | None:
        """The connected peer (the other side), or ``None``."""
        return self._remote

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._sock.fileno() < 0

    @property
    def socket(self) -> socket.socket:
        """The underlying ``socket.socket``, for options netbasics does not cover."""
        return self._sock

    def fileno(self) -> int:
        """The file descriptor (-1 once closed), for ``select``/``selectors``."""
        return self._sock.fileno()

    @property
    def timeout(self) -> float | None:
        """Seconds a send or receive may block, or ``None`` for no limit; settable."""
        return self._sock.gettimeout()

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self._sock.settimeout(check_timeout(value))

    def _where(self) -> str:
        """The local address for error messages, without raising."""
        try:
            return str(self.local)
        except (OSError, NetbasicsError):
            return self._closed_text

    # -- the hooks ------------------------------------------------------------------------

    def _send_error(self, exc: OSError, target: A) -> BaseException:  # pragma: no cover - each subclass has its own
        raise NotImplementedError

    def _receive_error(self, exc: OSError) -> BaseException:  # pragma: no cover - likewise
        raise NotImplementedError

    def _too_large(self, size: int, max_bytes: int, sockaddr: Any) -> BaseException:  # pragma: no cover - likewise
        raise NotImplementedError

    # -- sending and receiving ----------------------------------------------------------

    def _send_to(self, data: BytesLike, sockaddr: Any, target: A) -> None:
        """Send ``data`` to ``sockaddr`` (``target``'s), errors translated by :meth:`_send_error`."""
        try:
            self._sock.sendto(data, sockaddr)
        except OSError as exc:
            raise self._send_error(exc, target) from exc

    def _send(self, data: BytesLike, peer: A) -> None:
        """Send ``data`` to the connected ``peer``, errors translated by :meth:`_send_error`."""
        try:
            self._sock.send(data)
        except OSError as exc:
            raise self._send_error(exc, peer) from exc

    def _recv(self, max_bytes: int) -> tuple[bytes, Any]:
        """The next datagram's payload and socket address; one larger than ``max_bytes`` is discarded and raised."""
        check_int(max_bytes, "max_bytes", 1, self._max_receive)
        # One spare byte: a datagram that fills it did not fit in max_bytes.
        size = max_bytes + 1
        buf = bytearray(size)
        try:
            n, sockaddr = self._sock.recvfrom_into(buf, size, TRUNC_FLAGS)
        except OSError as exc:
            raise self._receive_error(exc) from exc
        if n > max_bytes:
            raise self._too_large(n, max_bytes, sockaddr)
        del buf[n:]
        return bytes(buf), sockaddr

    # -- lifetime -----------------------------------------------------------------------

    def close(self) -> None:
        """Close the socket; further calls do nothing."""
        self._sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
