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

Only the loop thread touches connections; other threads talk to it through the
server's ``_stopping`` flag and its wake-up pipe.
"""

from __future__ import annotations

import logging
import os
import selectors
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Union

from ..endpoints import Endpoint
from ..errors import FrameTooLarge, quote
from ..framing import Framer, LengthPrefixFramer, LineFramer
from .sockets import AcceptBackoff

if TYPE_CHECKING:
    from ..tcp import TCPServer

__all__ = ["MessageLoop", "Responder"]

logger = logging.getLogger("netbasics")

#: ``respond(message, peer)``: the reply to send back, or ``None`` for no reply.
Responder = Callable[[bytes, Endpoint], Union[bytes, None]]

#: Bytes asked of the kernel per read.
_CHUNK: Final = 65536
#: Output bytes buffered for one connection at which it is no longer read.
_HIGH_WATER: Final = 256 * 1024
#: Output bytes below which a connection paused by backpressure is read again.
_LOW_WATER: Final = 64 * 1024
# See tcp.py: a send to a reset peer fails with EPIPE instead of raising SIGPIPE.
_SEND_FLAGS: Final = getattr(socket, "MSG_NOSIGNAL", 0)
_READ: Final = selectors.EVENT_READ
_WRITE: Final = selectors.EVENT_WRITE
_monotonic = time.monotonic


class _Conn:
    """One client connection, owned by the loop thread."""

    __slots__ = ("closing", "deadline", "events", "framer", "out", "peer", "sock")

    def __init__(self, sock: socket.socket, peer: Endpoint, framer: Framer, deadline: float) -> None:
        self.sock = sock
        self.peer = peer
        self.framer = framer
        self.out = bytearray()  # encoded replies the kernel has not taken yet
        self.deadline = deadline
        self.events = _READ
        self.closing = False  # read no more; close once ``out`` is sent


def _fresh_framer(framer: Framer) -> Framer:
    """A framer configured like ``framer``, with nothing buffered (one per connection)."""
    if isinstance(framer, LineFramer):
        return LineFramer(framer.delimiter, framer.max_size)
    return LengthPrefixFramer(framer.header_size, framer.max_size)


class MessageLoop:
    """The message-mode engine of one :class:`~netbasics.TCPServer`.

    Made by ``TCPServer.for_messages`` before the server binds (so bad arguments leak no
    socket); :meth:`run` is the server's serve loop and :meth:`stop` its ``stop()``.
    """

    def __init__(self, respond: Responder, framer: Framer) -> None:
        if not callable(respond):
            raise TypeError(f"respond must be callable, got {quote(respond)}")
        if not isinstance(framer, (LineFramer, LengthPrefixFramer)):
            raise TypeError(f"framer must be a LineFramer or a LengthPrefixFramer, got {quote(framer)}")
        self._respond = respond
        self._framer = framer
        self._thread: threading.Thread | None = None
        self._deadline = 0.0  # the grace deadline of stop(), set before _stopping
        #: The most output bytes ever buffered for one connection (for tests of backpressure).
        self.peak_buffered = 0

    # --- called from other threads -------------------------------------------------

    def stop(self, server: TCPServer, deadline: float, hard_deadline: float) -> None:
        """``server.stop()`` in message mode: signal the loop, then wait for it until ``hard_deadline``."""
        with server._lock:
            self._deadline = min(self._deadline, deadline) if server._stopping else deadline
            server._stopping = True
            server._cond.notify_all()
        server._wake()
        loop_thread = self._thread
        if loop_thread is threading.current_thread():
            pass  # stop() from respond(): the loop shuts down once respond() returns
        elif server._serving:
            if server._accept_thread is not None:
                server._accept_thread.join(max(0.0, hard_deadline - _monotonic()))
            else:
                server._loop_done.wait(max(0.0, hard_deadline - _monotonic()))
            if not server._loop_done.is_set():
                logger.warning("%s: respond() still running after stop(); connections close when it returns", server)
        else:
            server._close_listener()
        if not server._serving or server._loop_done.is_set():
            server._close_fds()  # else serve_forever() closes them as it returns

    # --- the loop ------------------------------------------------------------------

    def run(self, server: TCPServer) -> None:
        """Serve until the server is stopping, then shut down (called by ``serve_forever``)."""
        self._thread = threading.current_thread()
        sel = selectors.DefaultSelector()
        conns: set[_Conn] = set()
        try:
            self._serve(server, sel, conns)
        finally:
            for conn in list(conns):
                if conn.out:
                    logger.info("%s: closing connection from %s at shutdown", server, conn.peer)
                self._close(server, sel, conns, None, conn)
            sel.close()

    def _serve(self, server: TCPServer, sel: selectors.BaseSelector, conns: set[_Conn]) -> None:
        listener = server._listener
        wake_r = server._wake_r
        idle = server._idle_timeout or 0.0
        limit = server._max
        respond = self._respond
        prototype = self._framer
        deadlines: OrderedDict[_Conn, None] | None = OrderedDict() if server._idle_timeout is not None else None
        sel.register(listener, _READ, None)
        sel.register(wake_r, _READ, wake_r)
        listening = True
        backoff = AcceptBackoff(server, logger)
        resume_at = 0.0  # when accepting starts again after running out of descriptors
        select = sel.select
        while not server._stopping:
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
                        self._flush(server, sel, conns, deadlines, conn)
                    if mask & _READ and conn.events & _READ:
                        self._receive(server, sel, conns, deadlines, conn, respond, now, idle)
                elif conn is None:
                    # The listener: accept what fits under max_connections.
                    free = limit - len(conns)
                    while free > 0:
                        try:
                            sock, addr = listener.accept()
                        except (BlockingIOError, InterruptedError):
                            break
                        except OSError as exc:
                            if backoff.failed(exc):
                                resume_at = now + backoff.delay
                                sel.unregister(listener)
                                listening = False
                            break
                        backoff.succeeded()
                        self._add(server, sel, conns, deadlines, sock, addr, prototype, now, idle)
                        free -= 1
                    if listening and len(conns) >= limit:
                        sel.unregister(listener)  # at capacity: new clients wait in the backlog
                        listening = False
                else:
                    try:
                        os.read(wake_r, 512)
                    except OSError:  # pragma: no cover - the pipe is ours and readable
                        pass
            if deadlines:
                while deadlines:
                    conn = next(iter(deadlines))
                    if conn.deadline > now:
                        break
                    logger.debug(
                        "%s: connection from %s ended: no complete message within %g s", server, conn.peer, idle
                    )
                    self._close(server, sel, conns, deadlines, conn)
            if resume_at and now >= resume_at:
                resume_at = 0.0
            if not listening and not resume_at and len(conns) < limit and not server._stopping:
                sel.register(listener, _READ, None)
                listening = True
        # Shutting down: no new clients, nothing more read; replies already made may drain.
        if listening:
            sel.unregister(listener)
        server._close_listener()
        for conn in list(conns):
            conn.closing = True
            if conn.out:
                self._set_events(sel, conn, _WRITE)
            else:
                self._linger(server, sel, conns, deadlines, conn)
        while conns:
            remaining = self._deadline - _monotonic()
            if remaining <= 0:
                break
            for key, mask in select(remaining):
                conn = key.data
                if conn.__class__ is _Conn:
                    if mask & _WRITE and conn.events & _WRITE:
                        self._flush(server, sel, conns, deadlines, conn)
                    elif mask & _READ and conn.events & _READ:
                        # Lingering: discard what the client still sends until it closes.
                        try:
                            more = conn.sock.recv(_CHUNK)
                        except (BlockingIOError, InterruptedError):
                            continue
                        except OSError:
                            more = b""
                        if not more:
                            self._close(server, sel, conns, deadlines, conn)
                elif conn is wake_r:
                    try:
                        os.read(wake_r, 512)
                    except OSError:  # pragma: no cover
                        pass
        # What is left is closed by run(), with a log record each.

    # --- per connection ------------------------------------------------------------

    def _add(
        self,
        server: TCPServer,
        sel: selectors.BaseSelector,
        conns: set[_Conn],
        deadlines: OrderedDict[_Conn, None] | None,
        sock: socket.socket,
        addr: tuple[object, ...],
        prototype: Framer,
        now: float,
        idle: float,
    ) -> None:
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            peer = Endpoint.from_sockaddr(addr)
            conn = _Conn(sock, peer, _fresh_framer(prototype), now + idle)
            sel.register(sock, _READ, conn)
        except (OSError, ValueError) as exc:
            # The client may already have reset; a stray sockaddr form is no reason to crash.
            sock.close()
            logger.debug("%s: closed connection from %r at once: %s", server, addr, exc)
            return
        conns.add(conn)
        server._active = len(conns)
        if deadlines is not None:
            deadlines[conn] = None

    def _receive(
        self,
        server: TCPServer,
        sel: selectors.BaseSelector,
        conns: set[_Conn],
        deadlines: OrderedDict[_Conn, None] | None,
        conn: _Conn,
        respond: Responder,
        now: float,
        idle: float,
    ) -> None:
        try:
            data = conn.sock.recv(_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            logger.debug("%s: connection from %s ended: %s", server, conn.peer, exc)
            self._close(server, sel, conns, deadlines, conn)
            return
        if not data:
            if conn.framer.buffered:
                logger.debug("%s: connection from %s closed in the middle of a message", server, conn.peer)
            if conn.out:
                # Half-closed by the client (e.g. nc after its input ends): send the replies first.
                conn.closing = True
                self._set_events(sel, conn, _WRITE)
            else:
                self._close(server, sel, conns, deadlines, conn)
            return
        framer = conn.framer
        try:
            messages = framer.feed(data)
        except FrameTooLarge as exc:
            logger.warning("%s: closed connection from %s: %s", server, conn.peer, exc)
            self._close(server, sel, conns, deadlines, conn)
            return
        if not messages:
            return
        if deadlines is not None:
            conn.deadline = now + idle
            deadlines.move_to_end(conn)
        peer = conn.peer
        encode = framer.encode
        try:
            if len(messages) == 1:
                reply = respond(messages[0], peer)
                if reply is None:
                    return
                out = encode(reply)
            else:
                replies = []
                for message in messages:
                    reply = respond(message, peer)
                    if reply is not None:
                        replies.append(encode(reply))
                if not replies:
                    return
                out = b"".join(replies)
        except Exception:
            logger.exception("%s: respond() failed for connection from %s", server, peer)
            self._close(server, sel, conns, deadlines, conn)
            return
        if not conn.events:
            return  # closed while respond() ran
        if conn.out:
            conn.out += out
        else:
            try:
                sent = conn.sock.send(out, _SEND_FLAGS)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                logger.debug("%s: connection from %s ended: %s", server, peer, exc)
                self._close(server, sel, conns, deadlines, conn)
                return
            if sent == len(out):
                return
            conn.out += memoryview(out)[sent:]
            self._set_events(sel, conn, _READ | _WRITE)
        size = len(conn.out)
        if size > self.peak_buffered:
            self.peak_buffered = size
        if size >= _HIGH_WATER:
            self._set_events(sel, conn, _WRITE)  # backpressure: read no more until it drains

    def _flush(
        self,
        server: TCPServer,
        sel: selectors.BaseSelector,
        conns: set[_Conn],
        deadlines: OrderedDict[_Conn, None] | None,
        conn: _Conn,
    ) -> None:
        out = conn.out
        try:
            sent = conn.sock.send(out, _SEND_FLAGS)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            logger.debug("%s: connection from %s ended: %s", server, conn.peer, exc)
            self._close(server, sel, conns, deadlines, conn)
            return
        del out[:sent]
        if conn.closing:
            if not out:
                if server._stopping:
                    self._linger(server, sel, conns, deadlines, conn)
                else:
                    self._close(server, sel, conns, deadlines, conn)
        elif not out:
            self._set_events(sel, conn, _READ)
        elif len(out) < _LOW_WATER and not conn.events & _READ:
            self._set_events(sel, conn, _READ | _WRITE)

    def _linger(
        self,
        server: TCPServer,
        sel: selectors.BaseSelector,
        conn_set: set[_Conn],
        deadlines: OrderedDict[_Conn, None] | None,
        conn: _Conn,
    ) -> None:
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
            self._set_events(sel, conn, _READ)
        else:
            logger.debug("%s: closing connection from %s at shutdown", server, conn.peer)
            self._close(server, sel, conn_set, deadlines, conn)

    @staticmethod
    def _set_events(sel: selectors.BaseSelector, conn: _Conn, events: int) -> None:
        if events != conn.events:
            sel.modify(conn.sock, events, conn)
            conn.events = events

    @staticmethod
    def _close(
        server: TCPServer,
        sel: selectors.BaseSelector,
        conns: set[_Conn],
        deadlines: OrderedDict[_Conn, None] | None,
        conn: _Conn,
    ) -> None:
        if conn not in conns:
            return
        conns.discard(conn)
        server._active = len(conns)
        if deadlines is not None:
            deadlines.pop(conn, None)
        try:
            sel.unregister(conn.sock)
        except (KeyError, ValueError):  # pragma: no cover - registered until here
            pass
        conn.sock.close()
        conn.out.clear()
        conn.closing = True
        conn.events = 0
