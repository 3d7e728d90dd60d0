"""The public face every server shares: ``start``, ``serve_forever``, ``stop``, the context manager.

:class:`StreamServerBase` (``TCPServer``, ``UnixServer``) and :class:`DatagramServerBase`
(``UDPServer``, ``UnixDatagramServer``) hold a :class:`~netbasics._io.server_core.ServerCore`
and an engine; a subclass binds its kind of socket and builds both, and what a user calls
is the same whatever the endpoint. So a Unix server is the TCP or UDP server with another
kind of socket, not a copy of it.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from ..errors import quote
from ..unix_addresses import UnixAddress
from .server_core import Engine, ServerCore
from .sockets import check_int
from .unix_sockets import bind_unix, remove_socket_file, socket_file_remover

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "DatagramEngineLike",
    "DatagramServerBase",
    "StreamEngine",
    "StreamServerBase",
    "check_datagram_server",
    "unix_server_core",
]


class StreamEngine(Engine, Protocol):
    """A stream server's engine (thread per connection, or message loop): it counts its connections."""

    @property
    def active(self) -> int:
        """Connections being handled right now."""

    @property
    def pending_output(self) -> int:
        """Bytes of replies the engine holds for clients that have not read them yet."""


class DatagramEngineLike(Engine, Protocol):
    """A datagram server's engine: ``started`` is set once every worker thread runs."""

    @property
    def started(self) -> threading.Event:
        """Set once every worker was started."""


class _ServerBase:
    """The parts of the lifecycle that do not depend on the kind of server: name, state, context manager."""

    __slots__ = ("_core",)

    _core: ServerCore

    @property
    def name(self) -> str:
        """The server's name: its thread names and the prefix of its log records."""
        return self._core.name

    @property
    def serving(self) -> bool:
        """True from :meth:`start` or :meth:`serve_forever` until :meth:`stop`."""
        return self._core.serving

    def start(self) -> Self:  # pragma: no cover - each kind of server defines its own
        raise NotImplementedError

    def stop(self, timeout: float | None = 5.0) -> None:  # pragma: no cover - likewise
        raise NotImplementedError

    def __enter__(self) -> Self:
        if self._core.state == "ready":
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class StreamServerBase(_ServerBase):
    """What every stream server (:class:`TCPServer`, ``UnixServer``) shares: the lifecycle around its core and engine.

    A subclass binds its kind of listening socket and builds ``_core`` and ``_engine``;
    everything else (``start``, ``serve_forever``, ``stop``, the context manager,
    ``name``, ``serving``, ``active_connections``) is the same whatever the endpoint.
    """

    __slots__ = ("_engine",)

    _engine: StreamEngine

    @property
    def active_connections(self) -> int:
        """Connections being handled right now."""
        return self._engine.active

    @property
    def pending_output(self) -> int:
        """Bytes of replies the server holds right now for clients that have not read them yet.

        In message mode (``for_messages``) this is the replies the kernel has not taken
        yet, over every connection: backpressure keeps it near 256 KiB per connection
        (a client past that is not read, and its further requests wait unanswered),
        so it shows which share of the server's memory its clients hold. In threaded
        mode it is always 0: a handler's send waits for the client instead.
        """
        return self._engine.pending_output

    # --- running --------------------------------------------------------------------

    def serve_forever(self) -> None:
        """Accept and handle connections until :meth:`stop` (blocking the calling thread).

        If the loop ends with an exception (e.g. ``KeyboardInterrupt``), the server is
        stopped at once and the exception propagates. ``RuntimeError`` if the server is
        already running or was stopped.
        """
        self._core.serve_forever()

    def start(self) -> Self:
        """Run :meth:`serve_forever` in a background thread; returns the server, already accepting."""
        self._core.start()
        return self

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop: refuse new connections now, give handlers ``timeout`` seconds, then cut the rest.

        Phases: the listening socket is closed at once (new clients are refused);
        running handlers get up to ``timeout`` seconds to finish; connections still open
        are then shut down both ways, all at once, which ends any read or write blocked
        on them; once every handler has returned (its connection closed) ``stop``
        returns, and the idle worker threads exit on their own, running no more user
        code. Returns within ``timeout`` + 0.1 s, also with hundreds of busy clients (a
        handler that ignores the errors from its cut connection and keeps running is
        the exception: it is logged as still running). Safe to call more than once, from any thread,
        including from inside a handler (that handler's own connection is left to it).
        """
        self._core.stop(timeout)


class DatagramServerBase(_ServerBase):
    """What every datagram server (:class:`UDPServer`, ``UnixDatagramServer``) shares: the lifecycle around its core.

    A subclass binds its kind of datagram socket and builds ``_core`` and ``_engine``
    (the datagram engine of _io.datagram_engine); ``start``, ``serve_forever``, ``stop``, the context
    manager, ``name`` and ``serving`` are the same whatever the endpoint.
    """

    __slots__ = ("_engine",)

    _engine: DatagramEngineLike

    @property
    def _sock(self) -> socket.socket:
        """The server's socket, which its core owns."""
        return self._core.sock

    def start(self) -> Self:
        """Serve in ``workers`` background (daemon) threads; returns the server at once, its socket already bound."""
        self._core.start()
        self._engine.started.wait()
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread (plus ``workers - 1`` others) until :meth:`stop` or Ctrl-C; then stop."""
        self._core.serve_forever()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop: wake every worker, give busy handlers ``timeout`` seconds, join them and close the socket.

        Returns within ``timeout`` + 0.1 s. Safe to call more than once, from any thread,
        including from a handler (its batch's queued replies are sent first).
        """
        self._core.stop(timeout)


def check_datagram_server(handler: object, workers: object, max_datagram: object, largest: int, name: object) -> None:
    """The argument checks of a datagram server (UDP or Unix), before any socket exists."""
    if not callable(handler):
        raise TypeError(f"handler must be callable, got {quote(handler)}")
    check_int(workers, "workers", 1, 1024)
    check_int(max_datagram, "max_datagram", 1, largest)
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be a str or None, got {quote(name)}")


def unix_server_core(
    address: UnixAddress,
    kind: socket.SocketKind,
    engine: Engine,
    *,
    server: str,
    mode: int | None,
    name: str | None,
    backlog: int | None = None,
) -> ServerCore:
    """The core of a Unix server (``server`` names its class): its socket bound at ``address``.

    A stream socket listens (``backlog``) and is made non-blocking for the accept loop.
    If anything fails, the socket is closed and the file it created removed; once the
    core is closed, its file is removed if it is still the one the server created.
    """
    sock, identity = bind_unix(address, kind, mode=mode, backlog=backlog)
    try:
        if kind == socket.SOCK_STREAM:
            sock.setblocking(False)
        core = ServerCore(sock, engine, kind=server, label=str(address), name=name)
    except BaseException:
        sock.close()
        if address.path is not None:
            remove_socket_file(address.path, identity)
        raise
    core.on_close = socket_file_remover(address, identity)
    return core
