"""The event loop behind :meth:`TCPServer.for_messages`: request/response on one thread.

Thread-per-connection costs CPython a GIL hand-off per message, which caps a threaded
echo server well below a single thread that multiplexes every socket. Message mode is
that single thread: non-blocking sockets on a ``selectors.DefaultSelector`` (epoll on
Linux, kqueue on the BSDs), a sans-I/O framer per connection that turns received bytes
into messages, and ``respond(message, peer)`` called for each one on the loop thread. A
reply is encoded with the same framer and sent at once; what the kernel does not take
waits in the connection's output buffer.

The same guarantees as the threaded server, kept by the loop itself:

* Backpressure: a connection whose output buffer reaches ``_HIGH_WATER`` bytes is not
  read again until the buffer drains below ``_LOW_WATER``. The messages of one read are
  answered one by one, and once the replies reach ``_HIGH_WATER`` the rest wait
  (unanswered, as received) until the buffer drains: a client that sends many small
  requests for large replies and never reads costs at most about ``_HIGH_WATER`` plus
  one reply plus one read of requests.
* Deadlines: every connection must complete a message within ``idle_timeout`` of the
  previous one (or of being accepted). All deadlines are "now + idle_timeout", assigned
  in time order, so an insertion-ordered dict kept in that order is a priority queue
  with O(1) updates: the first entry always expires first.
* Capacity: at ``max_connections`` the listener leaves the selector; new clients wait in
  the listen backlog until a connection closes. When ``accept`` runs out of descriptors
  it leaves the selector for a back-off period, logged once, instead of spinning.
* Shutdown: once the server is stopping the listener is closed, connections with
  nothing to send are closed, the others may drain their output until the grace
  deadline (then end their stream and wait for the client to close: a "lingering
  close", so that a reset cannot destroy replies in flight), and whatever is left at
  the deadline is then closed.

Only the loop thread touches connections; other threads talk to it through the server
core (its stopping flag and wake-up pipe). It serves any listening stream socket (TCP or
Unix-domain): the server's kind of peer (``_io.peers``) turns the address ``accept``
gives into what ``respond`` receives as ``peer``, and names it in log records.

Each connection gets its own copy of the server's framer. The copy is made (and
checked) once when the server is built, so a framer that cannot be copied is a
``TypeError`` there; any failure setting up one connection later closes that
connection alone, logged. A framer that implements the optional
:class:`~netbasics.HeaderFramer` protocol has its large messages read and sent without
copies; one that implements :class:`~netbasics.ErrorPendingFramer` has an error it holds
back raised at once (both looked up once per connection, never per message).
"""

from __future__ import annotations

import copy
import logging
import selectors
import socket
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final, Generic, TypeGuard, TypeVar, Union

from ..endpoints import Endpoint
from ..errors import FrameTooLarge, quote
from ..framing import ErrorPendingFramer, Framer, HeaderFramer
from .peers import PeerKind
from .server_core import ServerCore, logger
from .sockets import READ_CHUNK, SEND_FLAGS, check_int, check_timeout

__all__ = ["MessageLoop", "Responder"]

P = TypeVar("P")

#: ``respond(message, peer)``: the reply to send back, or ``None`` for no reply.
Responder = Callable[[bytes, Endpoint], Union[bytes, None]]

_CHUNK: Final = READ_CHUNK
#: The most bytes asked of the kernel at once for the body of a large message.
_MOST: Final = 4 * 1024 * 1024
#: Reads of one connection in a row while each fills what it asked for.
_READS_PER_EVENT: Final = 4
#: Output bytes buffered for one connection at which it is no longer read.
_HIGH_WATER: Final = 256 * 1024
#: Output bytes below which a connection paused by backpressure is read again.
_LOW_WATER: Final = 64 * 1024
_SEND_FLAGS: Final = SEND_FLAGS
_READ: Final = selectors.EVENT_READ
_WRITE: Final = selectors.EVENT_WRITE
_monotonic = time.monotonic


class _Conn:
    """One client connection, owned by the loop thread."""

    __slots__ = (
        "address",
        "closing",
        "deadline",
        "events",
        "framer",
        "held",
        "kind",
        "out",
        "peer",
        "pending",
        "sized",
        "sock",
    )

    def __init__(
        self,
        sock: socket.socket,
        address: object,
        peer: object,
        kind: PeerKind[object],
        framer: Framer,
        deadline: float,
    ) -> None:
        self.sock = sock
        self.address = address  # as accept() gave it, for log records
        self.kind = kind
        self.peer = peer
        self.framer = framer
        # The framer again if it reads and sends large messages without copies
        # (HeaderFramer), or holds an error back (ErrorPendingFramer); else None. Set by
        # the loop when it accepts the connection.
        self.sized: HeaderFramer | None = None
        self.held: ErrorPendingFramer | None = None
        self.out = bytearray()  # encoded replies the kernel has not taken yet
        # Messages received but not answered yet, held back by backpressure, and the
        # index of the next one; None while there are none (then the connection is read).
        self.pending: tuple[list[bytes], int] | None = None
        self.deadline = deadline
        self.events = _READ
        self.closing = False  # read no more; close once ``out`` is sent

    def __str__(self) -> str:
        """The client, for log records: call it before the socket is closed (a Unix peer is named through it)."""
        return self.kind.describe(self.address, self.sock if self.sock.fileno() >= 0 else None)


def _is_sized(framer: Framer, known: bool | None) -> TypeGuard[HeaderFramer]:
    """Whether ``framer`` is a :class:`HeaderFramer`: ``known`` (the answer for its class) if given."""
    return isinstance(framer, HeaderFramer) if known is None else known


def _holds_errors(framer: Framer, known: bool | None) -> TypeGuard[ErrorPendingFramer]:
    """Whether ``framer`` is an :class:`ErrorPendingFramer`: ``known`` (the answer for its class) if given."""
    return isinstance(framer, ErrorPendingFramer) if known is None else known


def _fresh_framer(framer: Framer) -> Framer:
    """A framer configured like ``framer``, with nothing buffered (one per connection).

    Any framer works: a deep copy has its own buffers, whatever the class keeps them in,
    and ``reset()`` drops a partial message the prototype may have held.
    """
    fresh = copy.deepcopy(framer)
    fresh.reset()
    return fresh


class MessageLoop(Generic[P]):
    """The message-mode engine of one server: ``respond(message, peer)`` for every message.

    Made before the server binds (so bad arguments leak no socket); the server core
    calls :meth:`run` on its serving thread and :meth:`stop_requested`/:meth:`finish`
    from ``stop()``. ``peers`` turns an accepted address into the ``peer`` argument (an
    :class:`Endpoint` on TCP) and names it in log records; ``nodelay`` sets
    ``TCP_NODELAY`` on each accepted socket (TCP only).
    """

    def __init__(
        self,
        respond: Callable[[bytes, P], Union[bytes, None]],
        framer: Framer,
        max_connections: int,
        idle_timeout: float | None,
        *,
        peers: PeerKind[P],
        nodelay: bool = True,
    ) -> None:
        # The server's arguments, checked here before any socket exists, in their order.
        max_connections = check_int(max_connections, "max_connections", 1)
        idle_timeout = check_timeout(idle_timeout, "idle_timeout")
        if not callable(respond):
            raise TypeError(f"respond must be callable, got {quote(respond)}")
        missing = [name for name in ("feed", "encode", "reset") if not callable(getattr(framer, name, None))]
        if missing or not hasattr(framer, "partial"):
            raise TypeError(
                f"framer must have feed(), encode(), reset() and partial (see netbasics.Framer), got {quote(framer)}"
            )
        try:
            # The server's own copy, made now: a framer that cannot be copied for each
            # connection (it holds a lock, a socket, ...) is refused here, not at the first client.
            prototype = _fresh_framer(framer)
        except Exception as exc:
            raise TypeError(
                f"framer {quote(framer)} cannot be copied for each connection ({type(exc).__name__}: {exc}); "
                "keep locks, sockets and files out of it"
            ) from exc
        self._respond = respond
        self._framer = prototype
        # A runtime-checkable protocol's isinstance costs tens of microseconds: answered
        # once here for the class every connection's copy has.
        self._framer_class = type(prototype)
        self._sized = isinstance(prototype, HeaderFramer)
        self._held = isinstance(prototype, ErrorPendingFramer)
        self._max = max_connections
        self._idle_timeout = idle_timeout
        self._peers = peers
        self._nodelay = nodelay
        self._active = 0
        self._sel: selectors.BaseSelector | None = None
        self._conns: set[_Conn] = set()
        self._deadlines: OrderedDict[_Conn, None] | None = None
        self._listening = False
        self._listener: socket.socket | None = None
        self._core: ServerCore | None = None
        self._now = 0.0  # the loop's clock reading for the connections being accepted

    @property
    def active(self) -> int:
        """Connections open right now."""
        return self._active

    @property
    def pending_output(self) -> int:
        """Bytes of replies waiting for their clients to read them (read from any thread)."""
        return sum(len(conn.out) for conn in list(self._conns))

    # --- called by stop() -----------------------------------------------------------

    def stop_requested(self, core: ServerCore) -> None:
        """Nothing to do: the loop sees ``core.stopping`` once the core's wake-up pipe wakes it."""

    def finish(self, core: ServerCore, deadline: float, hard_deadline: float) -> None:
        """The loop drains and closes connections itself (until ``core.deadline``); report if it is stuck."""
        if core.on_loop_thread():
            return  # stop() from respond(): the loop shuts down once respond() returns
        if self._sel is not None:  # still running after the core waited for it
            logger.warning("%s: respond() still running after stop(); connections close when it returns", core)

    # --- the loop ------------------------------------------------------------------

    def run(self, core: ServerCore) -> None:
        """Serve until the server is stopping, then shut down (the core's serving loop)."""
        sel = self._sel = selectors.DefaultSelector()
        self._listener = core.sock
        self._core = core
        self._deadlines = OrderedDict() if self._idle_timeout is not None else None
        try:
            self._serve(core, sel)
        finally:
            for conn in list(self._conns):
                if conn.out:
                    logger.info("%s: closing connection from %s at shutdown", core, str(conn))
                self._close(conn)
            sel.close()
            self._sel = None

    def _serve(self, core: ServerCore, sel: selectors.BaseSelector) -> None:
        listener = core.sock
        wake_r = core.wake_r
        idle = self._idle_timeout or 0.0
        limit = self._max
        conns = self._conns
        deadlines = self._deadlines
        respond = self._respond
        sel.register(listener, _READ, None)
        sel.register(wake_r, _READ, wake_r)
        self._listening = True
        backoff = core.backoff
        resume_at = 0.0  # when accepting starts again after running out of descriptors
        select = sel.select
        while not core.stopping:
            timeout: float | None = None
            if deadlines:
                timeout = max(0.0, next(iter(deadlines)).deadline - _monotonic())
            if resume_at:
                wait = max(0.0, resume_at - _monotonic())
                timeout = wait if timeout is None else min(timeout, wait)
            events = select(timeout)
            now = _monotonic()
            for key, mask in events:
                conn = key.data
                if conn.__class__ is _Conn:
                    if not conn.events:
                        continue  # closed earlier in this batch
                    if mask & _WRITE:
                        self._flush(core, conn)
                    if mask & _READ and conn.events & _READ:
                        self._receive(core, conn, respond, now, idle)
                elif conn is None:
                    # The listener: accept what fits under max_connections.
                    self._now = now
                    if core.accept(limit - len(conns), self._add):
                        resume_at = now + backoff.delay
                        self._pause_listening()
                    if len(conns) >= limit:
                        self._pause_listening()  # at capacity: new clients wait in the backlog
                else:
                    core.drain_wake()
            if deadlines:
                while deadlines:
                    conn = next(iter(deadlines))
                    if conn.deadline > now:
                        break
                    logger.debug("%s: connection from %s ended: no complete message within %g s", core, str(conn), idle)
                    self._close(conn)
            if resume_at and now >= resume_at:
                resume_at = 0.0
            if not self._listening and not resume_at and len(conns) < limit and not core.stopping:
                sel.register(listener, _READ, None)
                self._listening = True
        self._shut_down(core, sel)

    def _pause_listening(self) -> None:
        if self._listening and self._sel is not None and self._listener is not None:
            self._sel.unregister(self._listener)
            self._listening = False

    def _shut_down(self, core: ServerCore, sel: selectors.BaseSelector) -> None:
        """No new clients, nothing more read; replies already made may drain until the grace deadline."""
        self._pause_listening()
        core.close_socket()
        conns = self._conns
        for conn in list(conns):
            conn.closing = True
            if conn.out:
                self._set_events(conn, _WRITE)
            else:
                self._linger(core, conn)
        while conns:
            remaining = core.deadline - _monotonic()
            if remaining <= 0:
                break
            for key, mask in sel.select(remaining):
                conn = key.data
                if conn.__class__ is _Conn:
                    if mask & _WRITE and conn.events & _WRITE:
                        self._flush(core, conn)
                    elif mask & _READ and conn.events & _READ:
                        # Lingering: discard what the client still sends until it closes.
                        try:
                            more = conn.sock.recv(_CHUNK)
                        except (BlockingIOError, InterruptedError):
                            continue
                        except OSError:
                            more = b""
                        if not more:
                            self._close(conn)
                elif conn is not None:
                    core.drain_wake()
        # What is left is closed by run(), with a log record each.

    # --- per connection ------------------------------------------------------------

    def _add(self, sock: socket.socket, address: object) -> None:
        assert self._sel is not None
        try:
            sock.setblocking(False)
            if self._nodelay:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            framer = _fresh_framer(self._framer)
            conn = _Conn(
                sock, address, self._peers.peer(address), self._peers, framer, self._now + (self._idle_timeout or 0.0)
            )
            # The optional protocols, looked up once per connection (never per message),
            # from the answers for the prototype's class when the copy has that class.
            same = type(framer) is self._framer_class
            if _is_sized(framer, self._sized if same else None):
                conn.sized = framer
            if _holds_errors(framer, self._held if same else None):
                conn.held = framer
            self._sel.register(sock, _READ, conn)
        except OSError as exc:
            # The client may already have reset.
            logger.debug("%s: closed connection from %s at once: %s", self._core, self._peers.describe(address), exc)
            sock.close()
            return
        except Exception:
            # Anything else (a framer whose copy fails now, a stray address form) ends
            # this connection, never the loop that serves every other one.
            logger.exception(
                "%s: closed connection from %s at once: setting it up failed", self._core, self._peers.describe(address)
            )
            sock.close()
            return
        self._conns.add(conn)
        self._active = len(self._conns)
        if self._deadlines is not None:
            self._deadlines[conn] = None

    # --- ending a connection: one place for each way, each logs and closes ----------

    def _lost(self, core: ServerCore, conn: _Conn, exc: OSError) -> None:
        """The connection broke (a reset, a broken pipe): a normal event on a server."""
        if logger.isEnabledFor(logging.DEBUG):  # resets are common: name the peer only when it is logged
            logger.debug("%s: connection from %s ended: %s", core, str(conn), exc)
        self._close(conn)

    def _refused(self, core: ServerCore, conn: _Conn, exc: FrameTooLarge) -> None:
        """The client broke the protocol (an oversized message): a warning, no traceback."""
        logger.warning("%s: closed connection from %s: %s", core, str(conn), exc)
        self._close(conn)

    def _failed(self, core: ServerCore, conn: _Conn, what: str) -> None:
        """Our side failed (``respond``, the framer): the traceback, for the server's author."""
        logger.exception("%s: %s failed for connection from %s", core, what, str(conn))
        self._close(conn)

    # --- reading and answering ------------------------------------------------------

    def _receive(
        self,
        core: ServerCore,
        conn: _Conn,
        respond: Callable[[bytes, Any], Union[bytes, None]],
        now: float,
        idle: float,
    ) -> None:
        """Read what ``conn`` has sent, answer the messages it completes, send the replies. A hot path.

        A read that fills what it asked for (a large message arriving) is followed by
        more reads, up to ``_READS_PER_EVENT``, instead of a trip back to the selector
        between the pieces of one message.
        """
        framer = conn.framer
        sized = conn.sized
        reads = _READS_PER_EVENT
        while True:
            size = _CHUNK
            if sized is not None and sized.announced > _CHUNK:
                # The body of a large length-prefixed message is read in one piece when
                # it has arrived: that piece is the message, not copied again. (The
                # framer's answer is _CHUNK whenever announced <= _CHUNK: no call then.)
                size = sized.read_size(_CHUNK, _MOST)
            try:
                data = conn.sock.recv(size)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._lost(core, conn, exc)
                return
            if not data:
                self._ended(core, conn)
                return
            try:
                messages = framer.feed(data)
            except FrameTooLarge as exc:
                self._refused(core, conn, exc)
                return
            except Exception:
                # A framer may refuse malformed input in its own way (or have a bug): that
                # ends this connection, not the loop that serves every other one.
                self._failed(core, conn, "feed() of the framer")
                return
            if messages:
                deadlines = self._deadlines
                if deadlines is not None:
                    conn.deadline = now + idle
                    deadlines.move_to_end(conn)
                try:
                    if len(messages) == 1:
                        reply = respond(messages[0], conn.peer)
                        if reply is None:
                            out = None
                        elif sized is not None and len(reply) >= _CHUNK and not conn.out and conn.events:
                            # A large reply leaves with its header in one sendmsg, not copied behind it.
                            self._send_large(core, conn, sized.header(reply), reply)
                            out = None
                        else:
                            out = framer.encode(reply)
                    else:
                        out = self._replies(conn, messages, 0, respond)
                except Exception:
                    self._failed(core, conn, "respond()")
                    return
                if out is not None and not self._send(core, conn, out):
                    return
                if conn.pending is not None:
                    # Over the high-water mark with messages unanswered: read no more;
                    # _flush answers the rest as the output drains.
                    self._set_events(conn, _WRITE)
                    return
                if conn.held is not None and conn.held.error_pending and conn.events:
                    # The framer returned the good messages before an error in the same
                    # bytes: raise it now, since the client may send nothing more.
                    self._held_error(core, conn, framer)
                    return
            if len(data) < size or not conn.events & _READ:
                return
            reads -= 1
            if not reads:
                return

    def _send(self, core: ServerCore, conn: _Conn, out: bytes) -> bool:
        """Send ``out`` (replies) or buffer what the kernel does not take; False if the connection is gone."""
        if not conn.events:
            return False  # closed while respond() ran
        if conn.out:
            conn.out += out
            self._buffered(conn)
            return True
        try:
            sent = conn.sock.send(out, _SEND_FLAGS)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:
            self._lost(core, conn, exc)
            return False
        if sent != len(out):
            conn.out += memoryview(out)[sent:]
            self._set_events(conn, _READ | _WRITE)
            self._buffered(conn)
        return True

    def _held_error(self, core: ServerCore, conn: _Conn, framer: Framer) -> None:
        """Raise the error ``conn``'s framer holds back (``feed(b"")`` does) and close, as for an oversized message."""
        try:
            framer.feed(b"")
        except FrameTooLarge as exc:
            self._refused(core, conn, exc)
        except Exception:
            self._failed(core, conn, "feed() of the framer")
        else:
            # The framer broke its promise; the stream is in an unknown state either way.
            logger.warning("%s: closed connection from %s: error_pending, feed(b'') raised nothing", core, str(conn))
            self._close(conn)

    def _ended(self, core: ServerCore, conn: _Conn) -> None:
        """The client ended its stream: close, after sending the replies still buffered."""
        if conn.framer.partial:
            logger.debug("%s: connection from %s closed in the middle of a message", core, str(conn))
        if conn.out:
            # Half-closed by the client (e.g. nc after its input ends): send the replies first.
            conn.closing = True
            self._set_events(conn, _WRITE)
        else:
            self._close(conn)

    @staticmethod
    def _replies(
        conn: _Conn, messages: list[bytes], first: int, respond: Callable[[bytes, Any], Union[bytes, None]]
    ) -> bytes | None:
        """The encoded replies to ``messages[first:]``, joined (``None``: no reply), stopping at the high-water mark.

        Once the connection's output would reach ``_HIGH_WATER``, the messages not yet
        answered are kept in ``conn.pending`` (the caller stops reading the connection),
        so one read of many small requests for large replies cannot grow memory.
        """
        peer = conn.peer
        encode = conn.framer.encode
        replies = []
        room = _HIGH_WATER - len(conn.out)
        last = len(messages) - 1
        for i in range(first, last + 1):
            reply = respond(messages[i], peer)
            if reply is not None:
                data = encode(reply)
                replies.append(data)
                room -= len(data)
                if room <= 0 and i < last:
                    conn.pending = (messages, i + 1)
                    break
        else:
            conn.pending = None
        return b"".join(replies) if replies else None

    def _answer_pending(self, core: ServerCore, conn: _Conn) -> None:
        """Answer messages held back by backpressure, now that the output has drained; read again once none are left."""
        pending = conn.pending
        assert pending is not None
        messages, first = pending
        try:
            out = self._replies(conn, messages, first, self._respond)
        except Exception:
            self._failed(core, conn, "respond()")
            return
        deadlines = self._deadlines
        if deadlines is not None:
            conn.deadline = _monotonic() + (self._idle_timeout or 0.0)  # answering counts as progress
            deadlines.move_to_end(conn)
        if out is not None and not self._send(core, conn, out):
            return
        if conn.pending is None and conn.events:
            if conn.held is not None and conn.held.error_pending:
                self._held_error(core, conn, conn.framer)
            elif len(conn.out) < _LOW_WATER:
                self._set_events(conn, _READ | _WRITE if conn.out else _READ)

    def _send_large(self, core: ServerCore, conn: _Conn, header: bytes, body: bytes) -> None:
        """Send ``header`` and ``body`` with one sendmsg; what the kernel does not take is buffered."""
        try:
            sent = conn.sock.sendmsg((header, body), (), _SEND_FLAGS)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:
            self._lost(core, conn, exc)
            return
        if sent < len(header):
            conn.out += header[sent:]
            conn.out += body
        elif sent < len(header) + len(body):
            conn.out += memoryview(body)[sent - len(header) :]
        else:
            return
        self._set_events(conn, _READ | _WRITE)
        self._buffered(conn)

    def _buffered(self, conn: _Conn) -> None:
        """After replies were buffered: stop reading at the high-water mark."""
        if len(conn.out) >= _HIGH_WATER or conn.pending is not None:
            self._set_events(conn, _WRITE)  # backpressure: read no more until it drains

    def _flush(self, core: ServerCore, conn: _Conn) -> None:
        out = conn.out
        try:
            sent = conn.sock.send(out, _SEND_FLAGS)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lost(core, conn, exc)
            return
        del out[:sent]
        if conn.closing:
            if not out:
                if core.stopping:
                    self._linger(core, conn)
                else:
                    self._close(conn)
        elif len(out) < _LOW_WATER and conn.pending is not None:
            self._answer_pending(core, conn)
        elif not out:
            self._set_events(conn, _READ)
        elif len(out) < _LOW_WATER and not conn.events & _READ:
            self._set_events(conn, _READ | _WRITE)

    def _linger(self, core: ServerCore, conn: _Conn) -> None:
        """At shutdown, end the stream after the last reply; close once the client stops sending.

        Closing a socket with unread input (or receiving input after the close) makes the
        kernel send a reset, and a reset destroys replies the client has not read yet. So:
        FIN first; a client with nothing more to say is closed at once, one still sending
        is read, its input discarded, until its FIN (or the stop deadline).
        """
        sock = conn.sock
        try:
            sock.shutdown(socket.SHUT_WR)
            more = sock.recv(_CHUNK)
        except (BlockingIOError, InterruptedError):
            more = b""  # nothing unread: an idle client
        except OSError:
            more = b""
        if more:
            self._set_events(conn, _READ)
        else:
            logger.debug("%s: closing connection from %s at shutdown", core, str(conn))
            self._close(conn)

    def _set_events(self, conn: _Conn, events: int) -> None:
        if events != conn.events:
            assert self._sel is not None
            self._sel.modify(conn.sock, events, conn)
            conn.events = events

    def _close(self, conn: _Conn) -> None:
        conns = self._conns
        if conn not in conns:
            return
        conns.discard(conn)
        self._active = len(conns)
        if self._deadlines is not None:
            self._deadlines.pop(conn, None)
        try:
            assert self._sel is not None
            self._sel.unregister(conn.sock)
        except (KeyError, ValueError):  # pragma: no cover - registered until here
            pass
        conn.sock.close()
        conn.out.clear()
        conn.closing = True
        conn.events = 0
