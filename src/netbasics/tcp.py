"""TCP clients and servers: :func:`connect_tcp`, :func:`port_open` and :class:`TCPServer`.

:func:`connect_tcp` resolves a target and races its addresses with Happy Eyeballs
(RFC 8305), optionally checking the destination against a :class:`DestinationPolicy`
first; it returns a :class:`StreamConnection` (:mod:`netbasics.stream`).

:class:`TCPServer` runs thread-per-connection or in message mode. Both modes share one
lifecycle (``start``, ``serve_forever``, ``stop`` with its phases, the context manager),
kept by the private server core; what differs is the engine: a pool of worker threads
running ``handler(conn)`` on a :class:`StreamConnection`, or one event-loop thread
calling ``respond(message, peer)`` (:meth:`TCPServer.for_messages`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Union

from ._io.happy_eyeballs import ATTEMPT_DELAY, SourceLike, checked_target, open_tcp_socket, source_endpoint
from ._io.message_loop import MessageLoop, Responder
from ._io.peers import INET_PEERS
from ._io.server_core import ServerCore
from ._io.servers import StreamServerBase
from ._io.sockets import DEFAULT_BACKLOG, check_timeout, listen_socket, local_endpoint, remote_endpoint
from ._io.threaded import ThreadedEngine
from ._timeouts import LONGEST_WAIT
from .endpoints import Endpoint, EndpointLike, coerce_target
from .errors import ConnectError, NetTimeoutError
from .framing import Framer
from .resolver import Resolver, resolve
from .safety import DestinationPolicy
from .stream import StreamConnection, accepted_connection

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_MAX_CONNECTIONS",
    "ConnectionHandler",
    "TCPServer",
    "connect_tcp",
    "port_open",
]

#: Seconds ``connect_tcp()`` waits for the whole Happy Eyeballs race by default.
DEFAULT_CONNECT_TIMEOUT: Final = 10.0
#: Seconds a server waits for any one read or write of a client by default.
DEFAULT_IDLE_TIMEOUT: Final = 60.0
#: Connections a server handles at once by default (one worker thread each).
DEFAULT_MAX_CONNECTIONS: Final = 256

#: A :class:`TCPServer` handler: ``handler(conn)`` serves one connection in a worker thread.
ConnectionHandler = Callable[[StreamConnection], object]


class TCPServer(StreamServerBase):
    """A threaded TCP server that survives bad clients and stops promptly.

    ``bind`` is an endpoint, ``(host, port)`` or text: port 0 picks a free port (see
    :attr:`endpoint`), ``"[::]:port"`` accepts IPv4 too where the OS allows. The socket
    is bound and listening when the constructor returns (:class:`BindError` otherwise).
    ``handler(conn)`` runs for each connection in a pool of worker threads; the
    connection is closed when it returns.

    * ``max_connections`` handlers run at once; further clients wait in the listen
      backlog (``backlog``, default 4096) and are served when a slot frees.
    * ``idle_timeout`` is every connection's default timeout: each read and write must
      finish within it (a deadline for the whole read, so a client trickling one byte
      at a time cannot hold a worker). ``None`` disables it.
    * A handler exception is logged on the ``netbasics`` logger and closes only that
      connection; resets, broken pipes and idle timeouts are logged at debug level, a
      client's oversized message (:class:`FrameTooLarge`) as a warning without traceback.
    * If ``accept`` runs out of file descriptors the server logs once and backs off.

    Run it with :meth:`serve_forever` (blocking) or :meth:`start` (a background thread),
    or as a context manager (start, then stop on exit). :meth:`stop` is prompt.

    For request/response protocols with short replies, :meth:`for_messages` makes a
    server that runs every connection on one event-loop thread instead: in CPython it
    does several times more round trips per second with many clients.

    >>> from netbasics import TCPServer, connect_tcp
    >>> def echo(conn):
    ...     for line in conn:
    ...         conn.send_all(line.upper() + b"\\n")
    >>> with TCPServer("127.0.0.1:0", echo) as server, connect_tcp(server.endpoint, timeout=5) as conn:
    ...     conn.send_all(b"hello\\n")
    ...     conn.recv_until(b"\\n")
    b'HELLO\\n'
    """

    __slots__ = ("_endpoint",)

    def __init__(
        self,
        bind: EndpointLike,
        handler: ConnectionHandler,
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        backlog: int = DEFAULT_BACKLOG,
        reuse_address: bool = True,
        reuse_port: bool = False,
        name: str | None = None,
    ) -> None:
        # The engine checks its arguments before any socket exists.
        engine = ThreadedEngine(
            handler, max_connections, idle_timeout, accept=accepted_connection, peers=INET_PEERS, tcp=True
        )
        self._bind(engine, bind, backlog, reuse_address, reuse_port, name)

    def _bind(
        self,
        engine: Union[ThreadedEngine[StreamConnection], MessageLoop[Endpoint]],
        bind: EndpointLike,
        backlog: int,
        reuse_address: bool,
        reuse_port: bool,
        name: str | None,
    ) -> None:
        parsed = coerce_target(bind)
        endpoint = parsed if isinstance(parsed, Endpoint) else resolve(parsed)[0]
        listener = listen_socket(endpoint, backlog=backlog, reuse_address=reuse_address, reuse_port=reuse_port)
        try:
            listener.setblocking(False)
            self._endpoint = local_endpoint(listener)
            self._core = ServerCore(listener, engine, kind="TCPServer", label=str(self._endpoint), name=name)
        except BaseException:
            listener.close()
            raise
        self._engine = engine

    @classmethod
    def for_messages(
        cls,
        bind: EndpointLike,
        respond: Responder,
        *,
        framer: Framer,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        backlog: int = DEFAULT_BACKLOG,
        reuse_address: bool = True,
        reuse_port: bool = False,
        name: str | None = None,
    ) -> TCPServer:
        """A server for request/response protocols: ``respond(message, peer)`` answers each message.

        Message mode runs every connection on one event-loop thread (non-blocking sockets
        on a ``selectors`` selector) instead of a thread per connection, which is several
        times faster for small messages in CPython. Each connection gets its own copy of
        ``framer`` (any :class:`Framer`: a :class:`LineFramer`, a :class:`LengthPrefixFramer` or your own;
        a framer that cannot be deep-copied, e.g. one holding a lock, is a ``TypeError`` here); for every
        complete message it decodes, ``respond(message, peer)`` is called with the bytes
        and the client's :class:`Endpoint`, and a reply it returns is encoded with the same
        framer and sent back (``None``: no reply). Replies leave in the order of the messages.

        ``respond`` runs on the loop thread: while it runs no other client is served, so it
        must not block for long (no blocking I/O, no sleeping). For blocking work, use the
        threaded ``TCPServer(bind, handler)``.

        The server behaves like the threaded one (``start``, ``stop``, ``serve_forever``,
        the context manager, :attr:`endpoint`, :attr:`active_connections`):

        * an exception from ``respond`` is logged on the ``netbasics`` logger and closes only
          that connection; resets and broken pipes are debug records; a client's oversized
          message (:class:`FrameTooLarge`) closes its connection with a warning;
        * ``idle_timeout`` is a deadline for each complete message, counted from the
          previous one (or the connection), so trickling clients are cut (``None``: none);
        * a client that sends without reading stops being read once about 256 KiB of
          replies wait for it, and the requests it already sent wait unanswered until
          it reads, so it cannot grow the server's memory (:attr:`pending_output` shows
          what replies the server holds);
        * at ``max_connections`` new clients wait in the listen backlog;
        * :meth:`stop` closes idle connections at once, lets queued replies drain for up to
          its ``timeout``, closes the rest and joins the loop thread; calling it from
          ``respond`` is fine (the loop stops when ``respond`` returns).

        >>> from netbasics import LineFramer, TCPServer, connect_tcp
        >>> def shout(message, peer):
        ...     return message.upper()
        >>> with TCPServer.for_messages("127.0.0.1:0", shout, framer=LineFramer()) as server:
        ...     with connect_tcp(server.endpoint, timeout=5) as conn:
        ...         conn.send_all(b"hello\\nworld\\n")
        ...         conn.recv_until(b"\\n"), conn.recv_until(b"\\n")
        (b'HELLO\\n', b'WORLD\\n')
        """
        engine = MessageLoop(respond, framer, max_connections, idle_timeout, peers=INET_PEERS)  # checks its arguments
        server = cls.__new__(cls)
        server._bind(engine, bind, backlog, reuse_address, reuse_port, name)
        return server

    @property
    def endpoint(self) -> Endpoint:
        """The endpoint actually bound: with port 0 asked, the port the OS picked."""
        return self._endpoint

    def __repr__(self) -> str:
        return f"<TCPServer {self._endpoint} {self._core.state}, {self._engine.active} connections>"


# --- clients ------------------------------------------------------------------------


def _targets(
    target: EndpointLike, policy: DestinationPolicy | None, resolver: Resolver | None = None
) -> tuple[object, list[Endpoint]]:
    parsed = checked_target(target, policy)
    if isinstance(parsed, Endpoint):
        return parsed, [parsed]
    # With a policy, resolve once and check every answer; the race below then uses exactly
    # these endpoints, so a DNS answer that changes after the check is never used.
    return parsed, resolve(parsed, policy=policy, resolver=resolver)


def connect_tcp(
    target: EndpointLike,
    *,
    timeout: float | None = None,
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    source: SourceLike | None = None,
    nodelay: bool = True,
    keepalive: bool | float = False,
    attempt_delay: float = ATTEMPT_DELAY,
    policy: DestinationPolicy | None = None,
    resolver: Resolver | None = None,
) -> StreamConnection:
    """Open a TCP connection to ``target``: an :class:`Endpoint`, ``(host, port)`` or ``"host:port"``.

    A name is resolved (``localhost`` without DNS) and its addresses raced with Happy
    Eyeballs (RFC 8305): families interleaved, a new attempt every ``attempt_delay``
    seconds (250 ms) or as soon as one fails, the first to answer wins and the others
    are closed. ``connect_timeout`` bounds the whole race; ``timeout`` becomes the
    connection's default per-call timeout. ``source`` binds the local side (an address,
    or an endpoint to fix the port too); only addresses of its family are tried.

    With a ``policy`` (:class:`DestinationPolicy`), the destination is checked before any
    packet is sent: a name is resolved once, refused if any answer is unsafe, and only
    the checked addresses are connected to, which closes the DNS-rebinding window.
    :class:`UnsafeDestination` is raised for a refused destination. ``resolver`` (a
    :class:`Resolver`) looks names up instead of the system resolver.

    Raises :class:`ConnectError` (refused, unreachable) or :class:`NetTimeoutError`,
    naming every address tried; :class:`ResolveError` if the name does not resolve;
    :class:`EndpointError` for bad text.

    >>> from netbasics import TCPServer, connect_tcp
    >>> with TCPServer("127.0.0.1:0", lambda conn: conn.send_all(conn.recv())) as server:
    ...     with connect_tcp(server.endpoint, timeout=5) as conn:
    ...         conn.send_all(b"ping")
    ...         conn.recv()
    b'ping'
    """
    connect_timeout = check_timeout(connect_timeout, "connect_timeout")
    delay = check_timeout(attempt_delay, "attempt_delay")  # None: the next address only once one fails
    shown, endpoints = _targets(target, policy, resolver)
    src = None if source is None else source_endpoint(source)
    sock = open_tcp_socket(
        endpoints, target=shown, timeout=connect_timeout, source=src, delay=LONGEST_WAIT if delay is None else delay
    )
    try:
        # Remembered now, while the socket can say: after a reset getpeername fails, and the
        # error would have to call the other side just "peer".
        remote = remote_endpoint(sock)
    except OSError:
        remote = None
    try:
        return StreamConnection(sock, timeout=timeout, nodelay=nodelay, keepalive=keepalive, remote=remote)
    except BaseException:
        sock.close()
        raise


def port_open(target: EndpointLike, timeout: float = 1.0, *, resolver: Resolver | None = None) -> bool:
    """True if something accepts TCP connections at ``target`` within ``timeout`` seconds (like ``nc -z``).

    Refused, unreachable and timed-out connects give ``False``; a name that does not
    resolve raises :class:`ResolveError` and bad text :class:`EndpointError`, since
    those are mistakes rather than answers.

    >>> from netbasics import TCPServer, port_open
    >>> with TCPServer("127.0.0.1:0", lambda conn: None) as server:
    ...     port_open(server.endpoint)
    True
    """
    try:
        conn = connect_tcp(target, connect_timeout=timeout, resolver=resolver)
    except (ConnectError, NetTimeoutError):
        return False
    conn.close()
    return True
