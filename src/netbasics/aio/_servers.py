"""asyncio stream servers: :class:`TCPServer` and :class:`UnixServer`, a handler per connection or message mode.

One lifecycle for both, on the running event loop:

* the constructor binds and listens (as the synchronous servers do), so
  :attr:`endpoint` is known at once; ``await start()`` (or ``async with``) begins
  accepting; ``await serve_forever()`` accepts until :meth:`stop`;
* the accept loop takes a slot (``max_connections``) *before* it accepts, so at the
  limit further clients wait in the listen backlog, as with the threaded server;
* ``await stop(timeout)`` closes the listener at once (a Unix socket file is removed
  if it is still ours), gives running handlers ``timeout`` seconds, then cancels what
  is left and aborts its connections: it returns within ``timeout`` + 0.1 s.

Handler mode runs ``async def handler(conn)`` in a task per connection. Message mode
(:meth:`TCPServer.for_messages`) runs no task per connection: the protocol's
``data_received`` feeds the connection's framer and calls ``respond(message, peer)``
directly; a ``respond`` that returns an awaitable is awaited in a task, and messages
that arrive meanwhile wait their turn, so replies leave in order.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import inspect
import socket
import time
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any, Final, Union, cast

from .._io.peers import INET_PEERS
from .._io.server_core import STOP_SLACK, logger
from .._io.sockets import DEFAULT_BACKLOG, AcceptBackoff, check_int, check_timeout, listen_socket, local_endpoint
from .._io.unix_sockets import (
    UNIX_PEERS,
    bind_unix,
    check_uids,
    remove_socket_file,
    socket_file_remover,
    uid_gate,
)
from ..endpoints import Endpoint, EndpointLike, coerce_target
from ..errors import FrameTooLarge, quote
from ..framing import Framer
from ..resolver import resolve as _resolve_sync
from ..tcp import DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS
from ..unix_addresses import UnixAddress, UnixAddressLike, parse_unix_address
from ._named import NamedServer
from ._stream import StreamConnection, open_connection

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["AsyncConnectionHandler", "AsyncResponder", "TCPServer", "UnixServer"]

#: ``async def handler(conn)`` of a :class:`TCPServer` or :class:`UnixServer`.
AsyncConnectionHandler = Callable[[StreamConnection], Awaitable[None]]
#: ``respond(message, peer)`` of message mode: the reply, ``None``, or an awaitable of either.
AsyncResponder = Callable[[bytes, Any], Union[bytes, Awaitable[Union[bytes, None]], None]]

# Messages a message-mode connection holds while an async respond() runs before it stops reading.
_QUEUE_HIGH: Final = 64
# Reply bytes queued for a client that does not read before its connection stops being read.
_REPLY_HIGH: Final = 256 * 1024


def _check_handler(handler: object, what: str) -> None:
    if not callable(handler):
        raise TypeError(f"{what} must be callable, got {quote(handler)}")


class _Server(NamedServer):
    """The lifecycle both servers share; see the module documentation."""

    __slots__ = (
        "_accept_task",
        "_active",
        "_admit",
        "_conns",
        "_handler",
        "_idle_timeout",
        "_label",
        "_listener",
        "_max",
        "_message",
        "_name",
        "_on_close",
        "_peer_of",
        "_protos",
        "_slots",
        "_state",
        "_stopped",
        "_tasks",
    )

    def _setup(
        self,
        listener: socket.socket,
        handler: Callable[..., Any],
        *,
        message: Framer | None,
        max_connections: int,
        idle_timeout: float | None,
        name: str | None,
        kind: str,
        label: str,
        peer_of: Callable[[object], object],
    ) -> None:
        self._listener = listener
        self._handler = handler
        self._message = message
        self._max = max_connections
        self._idle_timeout = idle_timeout
        self._label = label
        self._name = name or f"{kind} {label}"
        self._state = "ready"
        self._accept_task: asyncio.Task[None] | None = None
        self._slots: asyncio.Semaphore | None = None
        self._stopped: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._conns: set[StreamConnection] = set()
        self._protos: set[_MessageProtocol] = set()
        self._active = 0
        self._peer_of = peer_of
        self._on_close: Callable[[], object] | None = None
        self._admit: Callable[[socket.socket, object], bool] | None = None

    # --- state ------------------------------------------------------------------------

    # name, serving and str(): NamedServer's.

    @property
    def active_connections(self) -> int:
        """Connections being handled right now."""
        return self._active

    # --- running ----------------------------------------------------------------------

    async def start(self) -> Self:
        """Begin accepting on the running loop; returns the server. ``RuntimeError`` once started or stopped."""
        if self._state != "ready":
            raise RuntimeError(f"{self}: cannot start a server that is {self._state}")
        self._state = "serving"
        self._slots = asyncio.Semaphore(self._max)
        self._stopped = asyncio.Event()
        self._accept_task = asyncio.get_running_loop().create_task(self._accept_loop())
        return self

    async def serve_forever(self) -> None:
        """Accept and handle connections until :meth:`stop` (starting the server if needed).

        Cancelling it stops the server at once (``stop(0)``) and re-raises.
        """
        if self._state == "ready":
            await self.start()
        elif self._state == "stopped":
            raise RuntimeError(f"{self}: cannot serve: the server was stopped")
        assert self._stopped is not None
        try:
            await self._stopped.wait()
        except asyncio.CancelledError:
            await asyncio.shield(self.stop(0))
            raise

    async def _accept_loop(self) -> None:
        loop = asyncio.get_running_loop()
        listener = self._listener
        slots = self._slots
        assert slots is not None
        backoff = AcceptBackoff(self, logger)
        while True:
            await slots.acquire()
            try:
                sock, address = await loop.sock_accept(listener)
            except OSError as exc:
                slots.release()
                if backoff.failed(exc):
                    await asyncio.sleep(backoff.delay)
                continue
            except BaseException:
                slots.release()
                raise
            backoff.succeeded()
            if address.__class__ is tuple:
                # TCP: small replies leave at once, as with the synchronous servers. (asyncio
                # sets it only on sockets whose proto field says TCP; an accepted one says 0.)
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except OSError:
                    pass
            if self._admit is not None and not self._admit(sock, address):
                sock.close()
                slots.release()
                continue
            self._active += 1
            if self._message is not None:
                await self._add_message_connection(loop, sock, address)
            else:
                task = loop.create_task(self._handle(sock, address))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    def _release(self) -> None:
        self._active -= 1
        if self._slots is not None:
            self._slots.release()

    async def _handle(self, sock: socket.socket, address: object) -> None:
        conn: StreamConnection | None = None
        # The peer as the threaded servers name it in logs (an Unix peer by pid/uid if unnamed).
        peer = (INET_PEERS if isinstance(address, tuple) else UNIX_PEERS).describe(address, sock)
        cut = False  # cancelled: the connection is aborted, not closed after its queued writes
        try:
            conn = await open_connection(sock, timeout=self._idle_timeout, peer=address)
            self._conns.add(conn)
            await self._handler(conn)
        except asyncio.CancelledError:
            cut = True
            if self._state == "serving":
                raise  # cancelled by someone else than stop()
            logger.info("%s: closed connection from %s at shutdown", self, peer)
        except (ConnectionError, TimeoutError) as exc:
            logger.debug("%s: connection from %s ended: %s", self, peer, exc)
        except FrameTooLarge as exc:
            logger.warning("%s: closed connection from %s: %s", self, peer, exc)
        except Exception:
            logger.exception("%s: handler failed for connection from %s", self, peer)
        finally:
            self._release()
            if conn is not None:
                self._conns.discard(conn)
                if cut:
                    conn.abort()
                else:
                    # What the handler sent still leaves (within its idle deadline, and
                    # until stop() runs out of grace, which cancels this wait).
                    conn.close()
                    try:
                        await conn.wait_closed()
                    except asyncio.CancelledError:
                        conn.abort()
                        if self._state == "serving":
                            raise

    async def _add_message_connection(
        self, loop: asyncio.AbstractEventLoop, sock: socket.socket, address: object
    ) -> None:
        assert self._message is not None
        framer = copy.deepcopy(self._message)  # each connection its own buffers, whatever the framer keeps
        try:
            peer = self._peer_of(address)
        except Exception:
            peer = address
        try:
            sock.setblocking(False)
            await loop.connect_accepted_socket(
                lambda: _MessageProtocol(self, framer, peer, self._handler, self._idle_timeout), sock
            )
        except OSError as exc:
            sock.close()
            self._release()
            logger.debug("%s: closed connection from %s at once: %s", self, peer, exc)

    async def stop(self, timeout: float | None = 5.0) -> None:
        """Stop: refuse new connections now, give handlers ``timeout`` seconds, then cancel the rest.

        The listening socket is closed at once (a Unix socket file removed if it is
        still the one this server created); in message mode idle connections close at
        once and the others get ``timeout`` seconds to finish their replies; running
        handlers get up to ``timeout`` seconds, then are cancelled and their
        connections aborted. Returns within ``timeout`` + 0.1 s. Safe to call twice.
        """
        grace = check_timeout(timeout)
        if self._state == "stopped":
            return
        was = self._state
        self._state = "stopping"
        loop = asyncio.get_running_loop()
        end = None if grace is None else loop.time() + grace
        if self._accept_task is not None:
            self._accept_task.cancel()
            try:
                await self._accept_task
            except asyncio.CancelledError:
                pass
        self._close_listener()
        current = asyncio.current_task()
        tasks = {t for t in self._tasks if t is not current}
        for proto in list(self._protos):
            proto.stop_requested()
        if was == "serving" and (tasks or self._protos):
            left = None if end is None else max(0.0, end - loop.time())
            waiting: set[asyncio.Future[Any]] = set(tasks)
            waiting |= {p.done for p in self._protos if not p.done.done()}
            if waiting:
                await asyncio.wait(waiting, timeout=left)
        for task in tasks:
            task.cancel()
        for proto in list(self._protos):
            proto.abort()
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_SLACK)
        self._state = "stopped"
        if self._stopped is not None:
            self._stopped.set()

    def _close_listener(self) -> None:
        if self._listener.fileno() >= 0:
            self._listener.close()
            if self._on_close is not None:
                self._on_close()

    def __del__(self) -> None:
        listener = getattr(self, "_listener", None)
        if listener is not None and listener.fileno() >= 0:
            listener.close()  # a server never started: nothing else holds the socket


class _MessageProtocol(asyncio.Protocol):
    """One message-mode connection: framer fed in ``data_received``, replies written in order."""

    def __init__(
        self, server: _Server, framer: Framer, peer: object, respond: Callable[..., Any], idle: float | None
    ) -> None:
        self.server = server
        self.framer = framer
        self.peer = peer
        self.respond = respond
        self.idle = idle
        self.transport: asyncio.Transport | None = None
        self.queue: collections.deque[bytes] | None = None  # messages waiting behind an async respond
        self.task: asyncio.Task[None] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.last = 0.0
        self.writing_paused = False
        self.reading_paused = False
        self.stopping = False
        self.eof = False  # the client sent all it will send
        self.held = hasattr(framer, "error_pending")
        self.feed = framer.feed
        self.encode = framer.encode
        self.loop = loop = asyncio.get_running_loop()
        # asyncio's own clock is time.monotonic: called directly, a Python call fewer per message.
        self.now: Callable[[], float] = time.monotonic if type(loop).time is asyncio.BaseEventLoop.time else loop.time
        self.done: asyncio.Future[None] = self.loop.create_future()

    # --- transport callbacks ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport; they have its methods.
        self.transport = cast(asyncio.Transport, transport)
        self.transport.set_write_buffer_limits(high=_REPLY_HIGH)
        self.server._protos.add(self)
        if self.idle is not None:
            self.last = self.now()
            self.timer = self.loop.call_at(self.last + self.idle, self._idle_check)

    def data_received(self, data: bytes) -> None:
        try:
            messages = self.feed(data)
        except FrameTooLarge as exc:
            logger.warning("%s: closed connection from %s: %s", self.server, self.peer, exc)
            self.abort()
            return
        except Exception:
            logger.exception("%s: feed() of the framer failed for connection from %s", self.server, self.peer)
            self.abort()
            return
        if messages:
            if self.idle is not None:
                self.last = self.now()
            if self.queue is not None:
                self.queue.extend(messages)
                if len(self.queue) > _QUEUE_HIGH:
                    self._pause_reading()
            elif len(messages) == 1:
                # One request, one reply (the usual case), without _answer's loop and list.
                try:
                    reply = self.respond(messages[0], self.peer)
                    if reply.__class__ is bytes:
                        transport = self.transport
                        if transport is not None and not transport.is_closing():
                            transport.write(self.encode(reply))
                    elif reply is not None:
                        self._reply(reply)
                except Exception:
                    logger.exception("%s: respond() failed for connection from %s", self.server, self.peer)
                    self.abort()
                    return
            else:
                self._answer(messages, 0)
        if self.held and self.framer.error_pending and self.transport is not None:  # type: ignore[attr-defined]
            self.data_received(b"")  # the held-back error: feed(b"") raises it now

    def _reply(self, reply: Any) -> None:
        """The reply of a single message that is not ``bytes``: an awaitable (run in a task) or bytes-like."""
        if inspect.isawaitable(reply):
            self.queue = collections.deque()
            self.task = self.loop.create_task(self._run_async(reply))
        else:
            self._write([self.encode(reply)])

    def _answer(self, messages: list[bytes], start: int) -> None:
        """Answer ``messages[start:]`` in order; an awaitable reply hands the rest to a task."""
        replies: list[bytes] = []
        respond = self.respond
        peer = self.peer
        framer = self.framer
        for i in range(start, len(messages)):
            try:
                reply = respond(messages[i], peer)
                if reply is None:
                    continue
                if reply.__class__ is bytes:
                    replies.append(framer.encode(reply))
                    continue
                if inspect.isawaitable(reply):
                    self._write(replies)
                    self.queue = collections.deque(messages[i + 1 :])
                    self.task = self.loop.create_task(self._run_async(reply))
                    return
                replies.append(framer.encode(reply))
            except Exception:
                self._write(replies)
                logger.exception("%s: respond() failed for connection from %s", self.server, peer)
                self.abort()
                return
        self._write(replies)

    def _write(self, replies: list[bytes]) -> None:
        if not replies or self.transport is None or self.transport.is_closing():
            return
        self.transport.write(replies[0] if len(replies) == 1 else b"".join(replies))

    async def _run_async(self, first: Awaitable[bytes | None]) -> None:
        pending: Awaitable[bytes | None] | None = first
        queue = self.queue
        assert queue is not None
        try:
            while True:
                if pending is not None:
                    reply = await pending
                    if reply is not None:
                        self._write([self.framer.encode(reply)])
                    pending = None
                if not queue:
                    break
                message = queue.popleft()
                result = self.respond(message, self.peer)
                if inspect.isawaitable(result):
                    pending = result
                elif result is not None:
                    self._write([self.framer.encode(result)])
                if self.reading_paused and len(queue) <= _QUEUE_HIGH // 2 and not self.writing_paused:
                    self._resume_reading()
        except asyncio.CancelledError:
            return
        except Exception:
            logger.exception("%s: respond() failed for connection from %s", self.server, self.peer)
            self.abort()
            return
        finally:
            self.task = None
        self.queue = None
        if self.eof and self.transport is not None:
            self.transport.close()
        elif self.stopping:
            self._close_if_idle()

    def eof_received(self) -> bool:
        if self.framer.partial:
            logger.debug("%s: connection from %s closed in the middle of a message", self.server, self.peer)
        self.eof = True
        if self.task is None and self.transport is not None:
            self.transport.close()  # sends the replies still queued, then closes
        return True  # else the replies of the respond() in flight are sent first (see _run_async)

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            logger.debug("%s: connection from %s ended: %s", self.server, self.peer, exc)
        if self.timer is not None:
            self.timer.cancel()
        if self.task is not None:
            self.task.cancel()
        if self in self.server._protos:
            self.server._protos.discard(self)
            self.server._release()
        if not self.done.done():
            self.done.set_result(None)

    def pause_writing(self) -> None:
        # A client that sends without reading: stop reading it until its replies drain.
        self.writing_paused = True
        self._pause_reading()

    def resume_writing(self) -> None:
        self.writing_paused = False
        if self.queue is None or len(self.queue) <= _QUEUE_HIGH // 2:
            self._resume_reading()

    # --- helpers ------------------------------------------------------------------------

    def _pause_reading(self) -> None:
        if not self.reading_paused and self.transport is not None and not self.transport.is_closing():
            self.reading_paused = True
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if self.reading_paused and self.transport is not None and not self.transport.is_closing():
            self.reading_paused = False
            self.transport.resume_reading()

    def _idle_check(self) -> None:
        assert self.idle is not None
        due = self.last + self.idle
        if self.now() >= due:
            logger.debug(
                "%s: connection from %s ended: no complete message within %g s", self.server, self.peer, self.idle
            )
            self.abort()
        else:
            self.timer = self.loop.call_at(due, self._idle_check)

    def stop_requested(self) -> None:
        self.stopping = True
        self._close_if_idle()

    def _close_if_idle(self) -> None:
        if self.transport is not None and self.task is None and not self.framer.partial:
            self.transport.close()  # sends what is queued, then closes

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


def _check_limits(max_connections: int, idle_timeout: float | None) -> float | None:
    check_int(max_connections, "max_connections", 1)
    return check_timeout(idle_timeout, "idle_timeout")


class TCPServer(_Server):
    """An asyncio TCP server: ``async def handler(conn)`` per connection, with limits and a prompt stop.

    The asynchronous twin of :class:`netbasics.TCPServer`, with the same keywords and
    defaults. ``bind`` is an endpoint, ``(host, port)`` or text (port 0: a free port,
    see :attr:`endpoint`); the socket is bound and listening when the constructor
    returns. ``handler`` gets a :class:`netbasics.aio.StreamConnection`, closed when it returns.

    * ``max_connections`` handlers run at once; further clients wait in the backlog.
    * ``idle_timeout`` is every connection's default timeout (each await on it).
    * A handler exception is logged on the ``netbasics`` logger and closes only that
      connection; resets and timeouts are debug records, :class:`FrameTooLarge` a warning.

    ``async with TCPServer(bind, handler) as server:`` serves until the block ends, then
    ``await server.stop()``; ``await server.serve_forever()`` serves until stopped.
    """

    __slots__ = ("_endpoint",)

    def __init__(
        self,
        bind: EndpointLike,
        handler: AsyncConnectionHandler,
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        backlog: int = DEFAULT_BACKLOG,
        reuse_address: bool = True,
        reuse_port: bool = False,
        name: str | None = None,
    ) -> None:
        _check_handler(handler, "handler")
        idle = _check_limits(max_connections, idle_timeout)
        self._bind(handler, None, bind, max_connections, idle, backlog, reuse_address, reuse_port, name)

    def _bind(
        self,
        handler: Callable[..., Any],
        message: Framer | None,
        bind: EndpointLike,
        max_connections: int,
        idle: float | None,
        backlog: int,
        reuse_address: bool,
        reuse_port: bool,
        name: str | None,
    ) -> None:
        parsed = coerce_target(bind)
        endpoint = parsed if isinstance(parsed, Endpoint) else _resolve_sync(parsed)[0]
        listener = listen_socket(endpoint, backlog=backlog, reuse_address=reuse_address, reuse_port=reuse_port)
        try:
            listener.setblocking(False)
            self._endpoint = local_endpoint(listener)
        except BaseException:
            listener.close()
            raise
        self._setup(
            listener,
            handler,
            message=message,
            max_connections=max_connections,
            idle_timeout=idle,
            name=name,
            kind="TCPServer",
            label=str(self._endpoint),
            peer_of=lambda address: Endpoint.from_sockaddr(address),  # type: ignore[arg-type]
        )

    @classmethod
    def for_messages(
        cls,
        bind: EndpointLike,
        respond: AsyncResponder,
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

        As :meth:`netbasics.TCPServer.for_messages`: each connection gets its own copy of
        ``framer``; for every message it decodes, ``respond(message, peer)`` is called
        with the bytes and the client's :class:`~netbasics.Endpoint`, and a reply is
        encoded with the framer and sent (``None``: no reply). ``respond`` may be a plain
        function (called straight from the protocol: the fastest) or ``async def`` (awaited;
        later messages of that connection wait, so replies keep their order).
        ``idle_timeout`` is a deadline for each message, counted from the previous one.
        """
        _check_handler(respond, "respond")
        idle = _check_limits(max_connections, idle_timeout)
        copy.deepcopy(framer)  # a framer that cannot be copied fails here, not at the first client
        server = cls.__new__(cls)
        server._bind(respond, framer, bind, max_connections, idle, backlog, reuse_address, reuse_port, name)
        return server

    @property
    def endpoint(self) -> Endpoint:
        """The endpoint actually bound: with port 0 asked, the port the OS picked."""
        return self._endpoint

    def __repr__(self) -> str:
        return f"<netbasics.aio.TCPServer {self._endpoint} {self._state}, {self._active} connections>"


class UnixServer(_Server):
    """An asyncio server on a Unix stream socket: :class:`TCPServer` with a path (or abstract name).

    The asynchronous twin of :class:`netbasics.UnixServer`, with its rules for the
    socket file: a stale file (nobody listens) is replaced, a live one gives
    :class:`~netbasics.BindError`, a path that is not a socket is never deleted;
    ``mode`` sets the file's permissions with no window; on stop the file is removed
    only if it is still the one this server created. ``allowed_uids`` refuses other
    users' clients before any handler runs.
    """

    __slots__ = ("_address",)

    def __init__(
        self,
        bind: UnixAddressLike,
        handler: AsyncConnectionHandler,
        *,
        mode: int | None = None,
        allowed_uids: Collection[int] | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        backlog: int = DEFAULT_BACKLOG,
        name: str | None = None,
    ) -> None:
        _check_handler(handler, "handler")
        idle = _check_limits(max_connections, idle_timeout)
        self._bind(handler, None, bind, mode, allowed_uids, max_connections, idle, backlog, name)

    def _bind(
        self,
        handler: Callable[..., Any],
        message: Framer | None,
        bind: UnixAddressLike,
        mode: int | None,
        allowed_uids: Collection[int] | None,
        max_connections: int,
        idle: float | None,
        backlog: int,
        name: str | None,
    ) -> None:
        address = parse_unix_address(bind)
        allowed = check_uids(allowed_uids)
        listener, identity = bind_unix(address, socket.SOCK_STREAM, mode=mode, backlog=backlog)
        try:
            listener.setblocking(False)
        except BaseException:
            listener.close()
            if address.path is not None:
                remove_socket_file(address.path, identity)
            raise
        self._address = address
        self._setup(
            listener,
            handler,
            message=message,
            max_connections=max_connections,
            idle_timeout=idle,
            name=name,
            kind="UnixServer",
            label=str(address),
            peer_of=UnixAddress.from_sockaddr,  # type: ignore[arg-type]
        )
        self._on_close = socket_file_remover(address, identity)
        if allowed is not None:
            self._admit = uid_gate(self, allowed)

    @classmethod
    def for_messages(
        cls,
        bind: UnixAddressLike,
        respond: AsyncResponder,
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

        ``peer`` is the client's :class:`~netbasics.UnixAddress` (unnamed unless it bound one).
        """
        _check_handler(respond, "respond")
        idle = _check_limits(max_connections, idle_timeout)
        copy.deepcopy(framer)
        server = cls.__new__(cls)
        server._bind(respond, framer, bind, mode, allowed_uids, max_connections, idle, backlog, name)
        return server

    @property
    def endpoint(self) -> UnixAddress:
        """The address the server listens on."""
        return self._address

    def __repr__(self) -> str:
        return f"<netbasics.aio.UnixServer {self._address} {self._state}, {self._active} connections>"
