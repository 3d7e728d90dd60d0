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
  read again until the buffer drains below ``_LOW_WATER``, so a client that sends and
  never reads costs at most about ``_HIGH_WATER`` plus the replies to one read.
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
Unix-domain): ``describe_peer`` turns the address ``accept`` gives into what ``respond``
receives as ``peer``.
"""

from __future__ import annotations

import copy
import selectors
import socket
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final, Protocol, Union, cast

from ..endpoints import Endpoint
from ..errors import FrameTooLarge, quote
from ..framing import Framer, LengthPrefixFramer
from .server_core import ServerCore, logger
from .sockets import READ_CHUNK, SEND_FLAGS, check_int, check_timeout

__all__ = ["MessageLoop", "Responder"]

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


class _HoldsErrors(Protocol):
    """A framer with the optional ``error_pending`` member (see :class:`~netbasics.Framer`)."""

    @property
    def error_pending(self) -> bool: ...


class _Conn:
    """One client connection, owned by the loop thread."""

    __slots__ = ("closing", "deadline", "events", "framer", "held", "out", "peer", "sized", "sock")

    def __init__(self, sock: socket.socket, peer: object, framer: Framer, deadline: float) -> None:
        self.sock = sock
        self.peer = peer
        self.framer = framer
        # The framer again if it is exactly a LengthPrefixFramer, whose large messages are
        # read and sent without copies (a subclass may encode differently: not assumed).
        self.sized = framer if type(framer) is LengthPrefixFramer else None
        # The framer again if it can hold an error back (Framer.error_pending): looked
        # up once here, so framers without it cost one None test per batch of messages.
        self.held = cast(_HoldsErrors, framer) if hasattr(framer, "error_pending") else None
        self.out = bytearray()  # encoded replies the kernel has not taken yet
        self.deadline = deadline
        self.events = _READ
        self.closing = False  # read no more; close once ``out`` is sent


def _fresh_framer(framer: Framer) -> Framer:
    """A framer configured like ``framer``, with nothing buffered (one per connection).

    Any framer works: a deep copy has its own buffers, whatever the class keeps them in,
    and ``reset()`` drops a partial message the prototype may have held.
    """
    fresh = copy.deepcopy(framer)
    fresh.reset()
    return fresh


def _inet_peer(address: object) -> object:
    """The ``peer`` given to ``respond`` on TCP: the client's :class:`Endpoint`."""
    assert isinstance(address, tuple)
    return Endpoint.from_sockaddr(address)


class MessageLoop:
    """The message-mode engine of one server: ``respond(message, peer)`` for every message.

    Made before the server binds (so bad arguments leak no socket); the server core
    calls :meth:`run` on its serving thread and :meth:`stop_requested`/:meth:`finish`
    from ``stop()``. ``describe_peer`` turns an accepted address into the ``peer``
    argument (an :class:`Endpoint` on TCP); ``nodelay`` sets ``TCP_NODELAY`` on each
    accepted socket (TCP only).
    """

    def __init__(
        self,
        respond: Callable[[bytes, Endpoint], Union[bytes, None]],
        framer: Framer,
        max_connections: int,
        idle_timeout: float | None,
        *,
        describe_peer: Callable[[object], object] = _inet_peer,
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
        self._respond: Callable[[bytes, object], Union[bytes, None]] = respond  # type: ignore[assignment]
        self._framer = framer
        self._max = max_connections
        self._idle_timeout = idle_timeout
        self._describe_peer = describe_peer
        self._nodelay = nodelay
        self._active = 0
        self._sel: selectors.BaseSelector | None = None
        self._conns: set[_Conn] = set()
        self._deadlines: OrderedDict[_Conn, None] | None = None
        self._listening = False
        self._listener: socket.socket | None = None
        self._core: ServerCore | None = None
        self._now = 0.0  # the loop's clock reading for the connections being accepted
        #: The most output bytes ever buffered for one connection (for tests of backpressure).
        self.peak_buffered = 0

    @property
    def active(self) -> int:
        """Connections open right now."""
        return self._active

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
                    logger.info("%s: closing connection from %s at shutdown", core, conn.peer)
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
                    logger.debug("%s: connection from %s ended: no complete message within %g s", core, conn.peer, idle)
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
            peer = self._describe_peer(address)
            conn = _Conn(sock, peer, _fresh_framer(self._framer), self._now + (self._idle_timeout or 0.0))
            self._sel.register(sock, _READ, conn)
        except (OSError, ValueError) as exc:
            # The client may already have reset; a stray sockaddr form is no reason to crash.
            sock.close()
            logger.debug("%s: closed connection from %r at once: %s", self._core, address, exc)
            return
        self._conns.add(conn)
        self._active = len(self._conns)
        if self._deadlines is not None:
            self._deadlines[conn] = None

    def _receive(
        self,
        core: ServerCore,
        conn: _Conn,
        respond: Callable[[bytes, object], Union[bytes, None]],
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
                logger.debug("%s: connection from %s ended: %s", core, conn.peer, exc)
                self._close(conn)
                return
            if not data:
                self._ended(core, conn)
                return
            try:
                messages = framer.feed(data)
            except FrameTooLarge as exc:
                logger.warning("%s: closed connection from %s: %s", core, conn.peer, exc)
                self._close(conn)
                return
            except Exception:
                # A framer may refuse malformed input in its own way (or have a bug): that
                # ends this connection, not the loop that serves every other one.
                logger.exception("%s: feed() of the framer failed for connection from %s", core, conn.peer)
                self._close(conn)
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
                        out = self._replies(conn, framer, messages, respond)
                except Exception:
                    logger.exception("%s: respond() failed for connection from %s", core, conn.peer)
                    self._close(conn)
                    return
                if out is not None:
                    if not conn.events:
                        return  # closed while respond() ran
                    if conn.out:
                        conn.out += out
                        self._buffered(conn)
                    else:
                        try:
                            sent = conn.sock.send(out, _SEND_FLAGS)
                        except (BlockingIOError, InterruptedError):
                            sent = 0
                        except OSError as exc:
                            logger.debug("%s: connection from %s ended: %s", core, conn.peer, exc)
                            self._close(conn)
                            return
                        if sent != len(out):
                            conn.out += memoryview(out)[sent:]
                            self._set_events(conn, _READ | _WRITE)
                            self._buffered(conn)
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

    def _held_error(self, core: ServerCore, conn: _Conn, framer: Framer) -> None:
        """Raise the error ``conn``'s framer holds back (``feed(b"")`` does) and close, as for an oversized message."""
        try:
            framer.feed(b"")
        except FrameTooLarge as exc:
            logger.warning("%s: closed connection from %s: %s", core, conn.peer, exc)
        except Exception:
            logger.exception("%s: feed() of the framer failed for connection from %s", core, conn.peer)
        else:
            # The framer broke its promise; the stream is in an unknown state either way.
            logger.warning("%s: closed connection from %s: error_pending, feed(b'') raised nothing", core, conn.peer)
        self._close(conn)

    def _ended(self, core: ServerCore, conn: _Conn) -> None:
        """The client ended its stream: close, after sending the replies still buffered."""
        if conn.framer.partial:
            logger.debug("%s: connection from %s closed in the middle of a message", core, conn.peer)
        if conn.out:
            # Half-closed by the client (e.g. nc after its input ends): send the replies first.
            conn.closing = True
            self._set_events(conn, _WRITE)
        else:
            self._close(conn)

    @staticmethod
    def _replies(
        conn: _Conn, framer: Framer, messages: list[bytes], respond: Callable[[bytes, object], Union[bytes, None]]
    ) -> bytes | None:
        """The encoded replies to several messages that came in one read, joined (``None``: no reply)."""
        peer = conn.peer
        encode = framer.encode
        replies = []
        for message in messages:
            reply = respond(message, peer)
            if reply is not None:
                replies.append(encode(reply))
        return b"".join(replies) if replies else None

    def _send_large(self, core: ServerCore, conn: _Conn, header: bytes, body: bytes) -> None:
        """Send ``header`` and ``body`` with one sendmsg; what the kernel does not take is buffered."""
        try:
            sent = conn.sock.sendmsg((header, body), (), _SEND_FLAGS)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:
            logger.debug("%s: connection from %s ended: %s", core, conn.peer, exc)
            self._close(conn)
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
        """After replies were buffered: track the peak, and stop reading at the high-water mark."""
        size = len(conn.out)
        if size > self.peak_buffered:
            self.peak_buffered = size
        if size >= _HIGH_WATER:
            self._set_events(conn, _WRITE)  # backpressure: read no more until it drains

    def _flush(self, core: ServerCore, conn: _Conn) -> None:
        out = conn.out
        try:
            sent = conn.sock.send(out, _SEND_FLAGS)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            logger.debug("%s: connection from %s ended: %s", core, conn.peer, exc)
            self._close(conn)
            return
        del out[:sent]
        if conn.closing:
            if not out:
                if core.stopping:
                    self._linger(core, conn)
                else:
                    self._close(conn)
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
            logger.debug("%s: closing connection from %s at shutdown", core, conn.peer)
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
