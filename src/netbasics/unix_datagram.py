"""Unix datagram sockets: :class:`UnixDatagramSocket` (:func:`open_unix_datagram`) and :class:`UnixDatagramServer`.

The same API as UDP (:mod:`netbasics.udp`) with a :class:`~netbasics.UnixAddress` where
that takes an IP endpoint: a received :class:`UnixDatagram` names its sender, and
:class:`UnixDatagramServer` is :class:`~netbasics.UDPServer` on a path or abstract name.
Stream connections are in :mod:`netbasics.unix_stream`.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable
from typing import Final

from ._io.datagram_engine import DatagramEngine
from ._io.datagrams import BytesLike, DatagramSocketBase, ReceivedDatagram, Reply, received_factory
from ._io.server_core import logger
from ._io.servers import DatagramServerBase, check_datagram_server, unix_server_core
from ._io.sockets import check_timeout as _check_timeout
from ._io.sockets import translate_os_error
from ._io.unix_sockets import (
    FileIdentity,
    UnixPeers,
    bind_unix,
    remove_socket_file,
    unix_address_error,
)
from .errors import ClosedLocally, DatagramTooLarge, EndpointError
from .unix_addresses import UnixAddress, UnixAddressLike, parse_unix_address

__all__ = [
    "UnixDatagram",
    "UnixDatagramHandler",
    "UnixDatagramServer",
    "UnixDatagramSocket",
    "open_unix_datagram",
]

# Bytes a Unix datagram receive takes by default. Unix datagrams can be larger than
# UDP's (up to the socket's send buffer, about 200 KiB on Linux); max_bytes raises it.
_MAX_DATAGRAM: Final = 65536
# The largest max_bytes accepted: well above any default socket buffer.
_MAX_RECEIVE: Final = 16 * 1024 * 1024
_AUTOBIND: Final = sys.platform.startswith("linux")
_DONTWAIT: Final = getattr(socket, "MSG_DONTWAIT", 0)


class UnixDatagram(ReceivedDatagram[UnixAddress]):
    """One received Unix datagram: its bytes (:attr:`data`) and who sent it (:attr:`sender`).

    Immutable and hashable, like :class:`~netbasics.Datagram` for UDP. The sender is
    unnamed (:attr:`UnixAddress.is_unnamed`) when it sent from an unbound socket: then
    nothing can be sent back.

    >>> d = UnixDatagram(b"ping", UnixAddress("/run/client.sock"))
    >>> d
    UnixDatagram(b'ping', UnixAddress('/run/client.sock'))
    >>> d.data, str(d.sender), len(d)
    (b'ping', 'unix:/run/client.sock', 4)
    """

    __slots__ = ()

    _sender_type = UnixAddress
    _sender_text = "a UnixAddress"

    def __init__(self, data: bytes, sender: UnixAddress) -> None:
        super().__init__(data, sender)  # here for the signature that help() shows

    def _decode(self, sockaddr: str | bytes | None) -> UnixAddress:
        return UnixAddress.from_sockaddr(sockaddr)

    @property
    def sender(self) -> UnixAddress:
        """The address the datagram came from (unnamed for an unbound sender)."""
        return self._sender_now()


_unix_datagram = received_factory(UnixDatagram)


def _send_error(exc: OSError, target: UnixAddress, timeout: float | None, operation: str = "send to") -> BaseException:
    if exc.errno == errno.EMSGSIZE:
        return DatagramTooLarge(f"{operation} {target}: datagram larger than the socket's send buffer")
    return unix_address_error(exc, operation, target, timeout, socket.SOCK_DGRAM)


class UnixDatagramSocket(DatagramSocketBase[UnixAddress]):
    """A Unix datagram socket with typed addresses and translated errors; open one with :func:`open_unix_datagram`.

    ``send_to(data, target)`` and ``recv_from()`` work on any socket; ``send(data)`` and
    ``recv()`` need one opened with ``connect=``. Unix datagrams are reliable and ordered
    between two sockets (the kernel blocks a sender whose receiver is full, rather than
    dropping), but like UDP they keep message boundaries. A context manager; a socket
    file this socket bound is removed on :meth:`close`.
    """

    __slots__ = ("_file", "_identity", "_private_dir")

    _max_receive = _MAX_RECEIVE
    _closed_text = "a closed Unix datagram socket"

    def __init__(self, sock: socket.socket) -> None:
        if sock.family != socket.AF_UNIX or sock.type != socket.SOCK_DGRAM:
            raise ValueError(f"UnixDatagramSocket needs an AF_UNIX SOCK_DGRAM socket, got {sock!r}")
        self._sock = sock
        # The socket file this socket created (absolute, so a later chdir does not
        # matter) and its identity: close() removes it if it is still that file.
        self._file: str | None = None
        self._identity: FileIdentity | None = None
        self._private_dir: str | None = None
        try:
            self._remote = UnixAddress.from_sockaddr(sock.getpeername())
        except OSError:
            self._remote = None

    @classmethod
    def _owning(
        cls, sock: socket.socket, file: str | None, identity: FileIdentity | None, private_dir: str | None
    ) -> UnixDatagramSocket:
        """A socket that owns the socket file ``file`` (``identity``) and/or the directory ``private_dir``."""
        result = cls(sock)
        result._file = None if file is None or identity is None else os.path.abspath(file)
        result._identity = identity
        result._private_dir = private_dir
        return result

    @property
    def local(self) -> UnixAddress:
        """The address this socket is bound to (unnamed if unbound)."""
        try:
            return UnixAddress.from_sockaddr(self._sock.getsockname())
        except OSError as exc:
            raise translate_os_error(exc, "getsockname") from exc

    def send_to(self, data: BytesLike, target: UnixAddressLike) -> None:
        """Send ``data`` as one datagram to the socket bound at ``target``.

        Raises :class:`ConnectError` when no socket is bound there (no such file, or a
        stale one), :class:`DatagramTooLarge` when ``data`` exceeds the send buffer, and
        :class:`NetTimeoutError` when the receiver's queue stays full past the timeout.
        """
        address = parse_unix_address(target)
        if address.is_unnamed:
            raise EndpointError("cannot send to an unnamed Unix address: the sender did not bind one")
        self._send_to(data, address.sockaddr, address)

    def send(self, data: BytesLike) -> None:
        """Send ``data`` to the connected peer; see :meth:`send_to` for the errors."""
        if self._remote is None:
            raise EndpointError("send() needs a connected socket: use send_to() or open_unix_datagram(connect=...)")
        self._send(data, self._remote)

    def recv_from(self, max_bytes: int = _MAX_DATAGRAM) -> UnixDatagram:
        """Wait for the next datagram and return it with its sender.

        A datagram larger than ``max_bytes`` raises :class:`DatagramTooLarge` (it is
        discarded, never cut); :class:`NetTimeoutError` after the timeout.
        """
        data, sockaddr = self._recv(max_bytes)
        return _unix_datagram(data, sockaddr)

    def recv(self, max_bytes: int = _MAX_DATAGRAM) -> bytes:
        """Wait for the next datagram and return its bytes; see :meth:`recv_from`."""
        return self.recv_from(max_bytes).data

    def _closed_here(self, exc: OSError) -> ClosedLocally | None:
        """The error for a call on a socket this side closed (EBADF), or None for any other failure."""
        if exc.errno == errno.EBADF or self._sock.fileno() < 0:
            return ClosedLocally(what="the Unix datagram socket")
        return None

    def _send_error(self, exc: OSError, target: UnixAddress) -> BaseException:
        return self._closed_here(exc) or _send_error(exc, target, self._sock.gettimeout())

    def _receive_error(self, exc: OSError) -> BaseException:
        closed = self._closed_here(exc)
        return closed or translate_os_error(exc, "receive on", self._where(), self._sock.gettimeout())

    def _too_large(self, size: int, max_bytes: int, sockaddr: str | bytes | None) -> BaseException:
        return DatagramTooLarge(
            f"datagram from {UnixAddress.from_sockaddr(sockaddr)} is larger than max_bytes={max_bytes}; "
            "it was discarded"
        )

    def close(self) -> None:
        """Close the socket (idempotent) and remove the socket file it bound, if still its own."""
        self._sock.close()
        if self._file is not None:
            remove_socket_file(self._file, self._identity)
            self._file = self._identity = None
        if self._private_dir is not None:
            shutil.rmtree(self._private_dir, ignore_errors=True)
            self._private_dir = None

    def __repr__(self) -> str:
        if self.closed:
            return "<UnixDatagramSocket closed>"
        peer = f" -> {self._remote}" if self._remote is not None else ""
        return f"<UnixDatagramSocket {self._where()}{peer}>"


def open_unix_datagram(
    *,
    bind: UnixAddressLike | None = None,
    connect: UnixAddressLike | None = None,
    timeout: float | None = None,
    mode: int | None = None,
    autobind: bool = True,
) -> UnixDatagramSocket:
    """Open a Unix datagram socket, bound to ``bind`` and/or connected to ``connect``.

    A datagram socket needs an address of its own to get replies. Without ``bind`` it
    gets one automatically (``autobind=True``): on Linux a kernel-chosen abstract name
    (autobind), elsewhere a socket file in a private temporary directory removed on
    :meth:`~UnixDatagramSocket.close`. ``autobind=False`` leaves it unbound (send only).

    ``bind`` replaces a stale socket file and refuses a live one or a file that is not
    a socket (:class:`BindError`); ``mode`` sets the file's permissions (see
    :class:`UnixServer`). ``timeout`` is seconds a send or receive may block.

    >>> import tempfile
    >>> from netbasics import open_unix_datagram
    >>> tmp = tempfile.TemporaryDirectory(dir="/tmp")  # socket paths must be short
    >>> path = f"{tmp.name}/d.sock"
    >>> with open_unix_datagram(bind=f"unix:{path}", timeout=5) as server:
    ...     with open_unix_datagram(connect=f"unix:{path}", timeout=5) as client:
    ...         client.send(b"hi")
    ...         d = server.recv_from()
    ...         server.send_to(d.data.upper(), d.sender)
    ...         client.recv()
    b'HI'
    >>> tmp.cleanup()
    """
    t = _check_timeout(timeout)
    identity: FileIdentity | None = None
    private_dir: str | None = None
    file: str | None = None
    if bind is not None:
        address = parse_unix_address(bind)
        sock, identity = bind_unix(address, socket.SOCK_DGRAM, mode=mode)
        file = address.path
    else:
        if mode is not None:
            raise ValueError("mode= needs bind=: an automatic address has no file to set it on")
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        except OSError as exc:
            raise translate_os_error(exc, "socket") from exc
    try:
        if bind is None and autobind:
            if _AUTOBIND:
                sock.bind("")  # Linux autobind: an abstract name of five hex digits
            else:  # pragma: no cover - Linux
                private_dir = tempfile.mkdtemp(prefix="nb", dir="/tmp")
                sock.bind(os.path.join(private_dir, "c"))
        sock.settimeout(t)
        if connect is not None:
            target = parse_unix_address(connect)
            try:
                sock.connect(target.sockaddr)
            except OSError as exc:
                raise _send_error(exc, target, t, "connect to") from exc
        return UnixDatagramSocket._owning(sock, file, identity, private_dir)
    except BaseException:
        sock.close()
        if file is not None:
            remove_socket_file(file, identity)
        if private_dir is not None:  # pragma: no cover - Linux
            shutil.rmtree(private_dir, ignore_errors=True)
        raise


# --- server ---------------------------------------------------------------------------

#: ``handler(datagram, reply)`` of a :class:`UnixDatagramServer`.
UnixDatagramHandler = Callable[[UnixDatagram, Reply], None]


def _unix_reply(sock: socket.socket, to: str | bytes | None) -> Reply:
    """The ``reply`` of a Unix datagram: send to the sender's address, errors translated.

    The send never waits. A Unix datagram to a socket whose receive queue is full blocks
    the sender (UDP would drop it), so a client that sends requests and never reads the
    replies would stall the server's worker for good; its reply is dropped instead, as
    UDP drops it, with a debug record.
    """

    sendto = sock.sendto

    def reply(data: BytesLike) -> None:
        if to is None or to == "":
            raise EndpointError("cannot reply: the sender is unnamed (it sent from an unbound socket)")
        try:
            sendto(data, _DONTWAIT, to)
        except BlockingIOError:
            logger.debug("reply to %s dropped: its receive queue is full", UnixAddress.from_sockaddr(to))
        except OSError as exc:
            raise _send_error(exc, UnixAddress.from_sockaddr(to), None) from exc

    return reply


class _UnixDatagrams(UnixPeers):
    """The Unix kind of datagram server (``_io.datagram_engine.DatagramKind``); its servers never batch."""

    __slots__ = ()

    reply_fits = 0
    datagram = staticmethod(_unix_datagram)
    reply = staticmethod(_unix_reply)

    def check_reply(self, data: object, sockaddr: str | bytes | None) -> None:
        """Nothing to check before the send: the batched loop (which asks) decodes IP addresses only."""

    def reply_error(self, exc: OSError, sockaddr: str | bytes | None) -> BaseException:
        """The error of a failed reply to ``sockaddr``."""
        return _send_error(exc, UnixAddress.from_sockaddr(sockaddr), None)


_UNIX_DATAGRAMS: Final = _UnixDatagrams()


class UnixDatagramServer(DatagramServerBase):
    """A datagram server on a Unix socket: :class:`UDPServer` with a path (or abstract name) for an endpoint.

    ``handler(datagram, reply)`` runs for every datagram, a :class:`UnixDatagram`;
    ``reply(data)`` sends back to its sender (which needs an address of its own:
    :func:`open_unix_datagram` binds one automatically; a reply to an unnamed sender
    raises :class:`EndpointError`; a reply to a client whose receive queue is full is
    dropped, as UDP would drop it, so a client that never reads cannot stall the server).
    ``workers``, ``name``, the lifecycle and the logging are :class:`UDPServer`'s;
    ``max_datagram`` is the receive size (64 KiB by default: Unix datagrams may be larger
    than UDP's, so raise it for those); a larger datagram is logged and dropped, never
    cut. ``bind`` and ``mode``, stale files and cleanup on stop are as for
    :class:`UnixServer`.

    >>> import tempfile
    >>> from netbasics import UnixDatagramServer, open_unix_datagram
    >>> tmp = tempfile.TemporaryDirectory(dir="/tmp")  # socket paths must be short
    >>> path = f"{tmp.name}/dgram.sock"
    >>> def shout(datagram, reply):
    ...     reply(datagram.data.upper())
    >>> with UnixDatagramServer(f"unix:{path}", shout) as server:
    ...     with open_unix_datagram(connect=server.endpoint, timeout=5) as client:
    ...         client.send(b"hello")
    ...         client.recv()
    b'HELLO'
    >>> tmp.cleanup()
    """

    __slots__ = ("_address",)

    _engine: DatagramEngine

    def __init__(
        self,
        bind: UnixAddressLike,
        handler: UnixDatagramHandler,
        *,
        mode: int | None = None,
        workers: int = 1,
        max_datagram: int = _MAX_DATAGRAM,
        name: str | None = None,
    ) -> None:
        check_datagram_server(handler, workers, max_datagram, _MAX_RECEIVE, name)
        address = parse_unix_address(bind)
        # Never batched: the batched receive decodes IP socket addresses only.
        engine = DatagramEngine(handler, workers, max_datagram, _UNIX_DATAGRAMS, batched=False)
        self._core = unix_server_core(
            address, socket.SOCK_DGRAM, engine, server="UnixDatagramServer", mode=mode, name=name
        )
        self._engine = engine
        self._address = address

    @property
    def endpoint(self) -> UnixAddress:
        """The address the server is bound to."""
        return self._address

    def __repr__(self) -> str:
        return f"<UnixDatagramServer {self._address} {self._core.state}, workers={self._engine.workers}>"
