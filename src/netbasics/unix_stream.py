"""Unix stream sockets: the client :func:`connect_unix` and the server :class:`UnixServer`.

The same API as TCP (:mod:`netbasics.tcp`) with a :class:`~netbasics.UnixAddress` where
that takes an IP endpoint: :func:`connect_unix` returns a :class:`~netbasics.StreamConnection`
(deadlines, exact reads, framing, file objects, peer credentials), and :class:`UnixServer`
is :class:`~netbasics.TCPServer` on a path or abstract name, thread-per-connection or in
message mode. Datagrams are in :mod:`netbasics.unix_datagram`.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Collection
from typing import Union

from ._io.message_loop import MessageLoop
from ._io.servers import StreamServerBase, unix_server_core
from ._io.sockets import DEFAULT_BACKLOG
from ._io.sockets import check_timeout as _check_timeout
from ._io.threaded import ThreadedEngine
from ._io.unix_sockets import UNIX_PEERS, check_uids, connect_unix_socket, uid_gate
from .framing import Framer
from .stream import StreamConnection, accepted_connection
from .tcp import DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, ConnectionHandler
from .unix_addresses import UnixAddress, UnixAddressLike, parse_unix_address

__all__ = [
    "UnixResponder",
    "UnixServer",
    "connect_unix",
]

#: ``respond(message, peer)`` of :meth:`UnixServer.for_messages`: the reply, or ``None``.
UnixResponder = Callable[[bytes, UnixAddress], Union[bytes, None]]


def connect_unix(
    target: UnixAddressLike,
    *,
    timeout: float | None = None,
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
) -> StreamConnection:
    """Connect to the Unix stream socket at ``target`` (``"unix:/run/app.sock"``, ``"unix:@name"``, a path object).

    Returns the same :class:`StreamConnection` as :func:`connect_tcp`: ``timeout`` is its
    default per-call timeout, and :attr:`~StreamConnection.peer_credentials` tells who
    the server runs as. ``connect_timeout`` bounds the connect (it waits only when the
    server's listen backlog is full).

    Raises :class:`ConnectError` naming the address and why: no such socket file,
    connection refused (a stale file: nobody listens), permission denied;
    :class:`NetTimeoutError` if the backlog stays full; :class:`EndpointError` for bad text.

    >>> import tempfile
    >>> from netbasics import UnixServer, connect_unix
    >>> tmp = tempfile.TemporaryDirectory(dir="/tmp")  # socket paths must be short
    >>> path = f"{tmp.name}/echo.sock"
    >>> with UnixServer(f"unix:{path}", lambda conn: conn.send_all(conn.recv())):
    ...     with connect_unix(f"unix:{path}", timeout=5) as conn:
    ...         conn.send_all(b"ping")
    ...         conn.recv()
    b'ping'
    >>> tmp.cleanup()
    """
    address = parse_unix_address(target)
    sock = connect_unix_socket(address, socket.SOCK_STREAM, _check_timeout(connect_timeout, "connect_timeout"))
    try:
        return StreamConnection(sock, timeout=timeout, nodelay=False)
    except BaseException:
        sock.close()
        raise


# --- server ---------------------------------------------------------------------------


class UnixServer(StreamServerBase):
    """A threaded server on a Unix stream socket: :class:`TCPServer` with a path (or abstract name) for an endpoint.

    ``bind`` is ``"unix:/run/app.sock"``, ``"unix:@name"`` (Linux abstract), a
    ``pathlib.Path`` or a :class:`UnixAddress`. ``handler(conn)`` gets the same
    :class:`StreamConnection` as on TCP, plus :attr:`~StreamConnection.peer_credentials`;
    ``max_connections``, ``idle_timeout``, ``backlog``, ``name``, the lifecycle
    (``start``, ``serve_forever``, ``stop`` with its phases, the context manager) and
    the logging are :class:`TCPServer`'s. :meth:`for_messages` is message mode.

    What a server on a path gets right:

    * **Stale files**: a socket file nobody listens on (left by a crashed process) is
      replaced; a path where a server listens gives :class:`BindError` "already in
      use"; a path that is not a socket (a regular file, a directory) is never deleted.
    * ``mode`` (e.g. ``0o660``) sets the socket file's permissions, exactly (the umask
      does not apply) and with no moment in which the file is reachable with wider
      ones (on Linux the socket is given its mode before ``bind`` creates the file).
      Connecting needs write permission on the file.
    * On stop the file is removed, but only if it is still the one this server created
      (another process may have put its own there since).
    * ``allowed_uids``: peers whose user id (``SO_PEERCRED``) is not in it are refused
      as soon as they are accepted, before any handler runs, with one warning on the
      ``netbasics`` logger and no traceback.

    >>> import tempfile
    >>> from netbasics import UnixServer, connect_unix
    >>> tmp = tempfile.TemporaryDirectory(dir="/tmp")  # socket paths must be short
    >>> path = f"{tmp.name}/app.sock"
    >>> def whoami(conn):
    ...     conn.send_all(b"uid %d\\n" % conn.peer_credentials.uid)
    >>> with UnixServer(f"unix:{path}", whoami, mode=0o600) as server:
    ...     with connect_unix(server.endpoint, timeout=5) as conn:
    ...         conn.recv_until(b"\\n").startswith(b"uid ")
    True
    >>> tmp.cleanup()
    """

    __slots__ = ("_address",)

    def __init__(
        self,
        bind: UnixAddressLike,
        handler: ConnectionHandler,
        *,
        mode: int | None = None,
        allowed_uids: Collection[int] | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        backlog: int = DEFAULT_BACKLOG,
        name: str | None = None,
    ) -> None:
        # The engine checks its arguments before any socket exists.
        engine = ThreadedEngine(handler, max_connections, idle_timeout, accept=accepted_connection, peers=UNIX_PEERS)
        self._bind(engine, bind, mode, allowed_uids, backlog, name)

    def _bind(
        self,
        engine: ThreadedEngine[StreamConnection] | MessageLoop[UnixAddress],
        bind: UnixAddressLike,
        mode: int | None,
        allowed_uids: Collection[int] | None,
        backlog: int,
        name: str | None,
    ) -> None:
        address = parse_unix_address(bind)
        allowed = check_uids(allowed_uids)
        core = unix_server_core(
            address, socket.SOCK_STREAM, engine, server="UnixServer", mode=mode, name=name, backlog=backlog
        )
        if allowed is not None:
            core.admit = uid_gate(core, allowed)
        self._core = core
        self._engine = engine
        self._address = address

    @classmethod
    def for_messages(
        cls,
        bind: UnixAddressLike,
        respond: UnixResponder,
        *,
        framer: Framer,
        mode: int | None = None,
        allowed_uids: Collection[int] | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        backlog: int = DEFAULT_BACKLOG,
        name: str | None = None,
    ) -> UnixServer:
        """A message-mode server on a Unix socket: :meth:`TCPServer.for_messages` with a path.

        ``respond(message, peer)`` answers each message decoded by ``framer``, on one
        event-loop thread; ``peer`` is the client's :class:`UnixAddress` (unnamed unless
        the client bound one). ``mode`` and ``allowed_uids`` as for :class:`UnixServer`.

        >>> import tempfile
        >>> from netbasics import LineFramer, UnixServer, connect_unix
        >>> tmp = tempfile.TemporaryDirectory(dir="/tmp")  # socket paths must be short
        >>> path = f"{tmp.name}/shout.sock"
        >>> with UnixServer.for_messages(f"unix:{path}", lambda m, peer: m.upper(), framer=LineFramer()):
        ...     with connect_unix(f"unix:{path}", timeout=5) as conn:
        ...         conn.send_all(b"hello\\n")
        ...         conn.recv_until(b"\\n")
        b'HELLO\\n'
        >>> tmp.cleanup()
        """
        # The engine checks its arguments before any socket exists.
        engine = MessageLoop(respond, framer, max_connections, idle_timeout, peers=UNIX_PEERS, nodelay=False)
        server = cls.__new__(cls)
        server._bind(engine, bind, mode, allowed_uids, backlog, name)
        return server

    @property
    def endpoint(self) -> UnixAddress:
        """The address the server listens on."""
        return self._address

    def __repr__(self) -> str:
        return f"<UnixServer {self._address} {self._core.state}, {self._engine.active} connections>"
