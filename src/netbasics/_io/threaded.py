"""The thread-per-connection engine behind ``TCPServer(bind, handler)``: a worker pool and a phased stop.

The accept loop (the server's serving thread) waits on the listening socket and the
core's wake-up pipe; each accepted socket goes to an idle worker through a queue, or to
a new worker thread. A worker wraps the socket in a :class:`~netbasics.StreamConnection`
with the idle timeout as its default deadline, runs ``handler(conn)``, closes the
connection and waits up to ``_WORKER_IDLE`` seconds for the next one before it exits.

At ``max_connections`` the loop stops accepting (clients wait in the listen backlog).
Stopping (:meth:`ThreadedEngine.finish`): handlers get the grace period to finish;
connections still open are then shut down both ways, which ends any read or write
blocked on them; workers are joined until the hard deadline. A handler may call
``stop()`` itself: its own connection is left to it.

Works over any listening stream socket (TCP or Unix-domain): the address ``accept``
returns is only used in log records.
"""

from __future__ import annotations

import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Final, Union

from ..endpoints import Endpoint
from ..errors import FrameTooLarge, quote
from ..stream import StreamConnection
from .held_send import server_crowd
from .server_core import ServerCore, logger
from .sockets import check_int, check_timeout

__all__ = ["ConnectionHandler", "ThreadedEngine", "peer_text"]

#: A :class:`TCPServer` handler: ``handler(conn)`` serves one connection in a worker thread.
ConnectionHandler = Callable[[StreamConnection], object]

#: Seconds an idle worker thread waits for another connection before it exits.
_WORKER_IDLE: Final = 5.0

_Job = Union[tuple[socket.socket, object], None]


def peer_text(address: object) -> str:
    """A client's address as accept() gave it, for log records (an endpoint, or a Unix path)."""
    if isinstance(address, tuple):
        try:
            return str(Endpoint.from_sockaddr(address))
        except Exception:
            return repr(address)
    return repr(address) if not address else str(address)


class ThreadedEngine:
    """Serves each connection with ``handler(conn)`` on a pool of worker threads; see the module docs."""

    def __init__(self, handler: ConnectionHandler, max_connections: int, idle_timeout: float | None) -> None:
        """Check the server's arguments (before any socket exists) and set up an idle pool."""
        if not callable(handler):
            raise TypeError(f"handler must be callable, got {quote(handler)}")
        self._handler = handler
        self._max = check_int(max_connections, "max_connections", 1)
        self._idle_timeout = check_timeout(idle_timeout, "idle_timeout")
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._conns: set[StreamConnection] = set()
        self._workers: set[threading.Thread] = set()
        self._idle_workers = 0
        self._active = 0
        self._stopping = False
        self._cutting = False
        self._local = threading.local()
        self._core: ServerCore | None = None
        # Up while more than one connection is being handled on a multi-CPU machine: then
        # the connections' small sends keep the GIL (see _io.held_send for why).
        self._crowd = server_crowd()

    @property
    def active(self) -> int:
        """Connections being handled right now."""
        return self._active

    def _count(self, delta: int) -> None:
        """Count a connection in or out (the lock is held) and keep the crowd flag true to the count."""
        self._active += delta
        crowd = self._crowd
        if crowd is not None:
            crowd.busy = self._active > 1

    # --- the accept loop ------------------------------------------------------------

    def run(self, core: ServerCore) -> None:
        """Accept connections and hand them to workers until the server stops."""
        self._core = core
        cond = self._cond
        backoff = core.backoff
        with selectors.DefaultSelector() as sel:
            sel.register(core.sock, selectors.EVENT_READ)
            sel.register(core.wake_r, selectors.EVENT_READ)
            while True:
                with cond:
                    while self._active >= self._max and not self._stopping:
                        cond.wait()  # at capacity: new clients wait in the listen backlog
                    if self._stopping:
                        return
                    free = self._max - self._active
                if backoff.delay:
                    with cond:
                        cond.wait(backoff.delay)  # out of descriptors: give handlers time to free some
                    if self._is_stopping():
                        return
                sel.select()
                if self._is_stopping():  # set by stop_requested() before the core wakes the selector
                    return
                core.accept(free, self._dispatch)

    def _is_stopping(self) -> bool:
        return self._stopping

    def _dispatch(self, sock: socket.socket, peer: object) -> None:
        with self._lock:
            self._count(1)
            if self._idle_workers:
                self._idle_workers -= 1
                self._queue.put((sock, peer))
                return
            core = self._core
            name = f"{core.name} worker" if core is not None else "worker"
            thread = threading.Thread(target=self._worker, args=((sock, peer),), name=name, daemon=True)
            self._workers.add(thread)
        try:
            thread.start()
        except RuntimeError as exc:  # can't start new thread: out of memory or a ulimit
            with self._lock:
                self._workers.discard(thread)
                self._count(-1)
                self._cond.notify_all()
            sock.close()
            logger.error("%s: closed a connection from %s unhandled: cannot start a worker: %s", core, peer, exc)

    def _worker(self, job: _Job) -> None:
        try:
            while job is not None:
                self._handle(*job)
                job = self._next_job()
        finally:
            with self._lock:
                self._workers.discard(threading.current_thread())
                self._cond.notify_all()

    def _next_job(self) -> _Job:
        with self._lock:
            if self._stopping:
                return None
            self._idle_workers += 1
        try:
            return self._queue.get(timeout=_WORKER_IDLE)
        except queue.Empty:
            with self._lock:
                try:
                    return self._queue.get_nowait()  # handed over just as the wait ended
                except queue.Empty:
                    self._idle_workers -= 1
                    return None

    def _handle(self, sock: socket.socket, peer: object) -> None:
        core = self._core
        conn: StreamConnection | None = None
        try:
            conn = StreamConnection._accepted(sock, peer, self._idle_timeout, self._crowd)
            with self._lock:
                self._conns.add(conn)
                cut = self._cutting
            if cut:
                conn._abort()  # accepted just before stop() ran out of grace: it ends at once
            self._local.conn = conn
            self._handler(conn)
        except (ConnectionError, TimeoutError) as exc:
            # Resets, broken pipes, idle clients: normal events on a server.
            logger.debug("%s: connection from %s ended: %s", core, peer_text(peer), exc)
        except FrameTooLarge as exc:
            # The client broke the protocol, not the handler: no traceback.
            logger.warning("%s: closed connection from %s: %s", core, peer_text(peer), exc)
        except Exception:
            logger.exception("%s: handler failed for connection from %s", core, peer_text(peer))
        finally:
            self._local.conn = None
            if conn is not None:
                conn.close()
            else:
                sock.close()
            with self._lock:
                if conn is not None:
                    self._conns.discard(conn)
                self._count(-1)
                self._cond.notify_all()

    # --- stopping -------------------------------------------------------------------

    def stop_requested(self, core: ServerCore) -> None:
        """Release the accept loop's capacity wait and tell every worker to exit once done."""
        with self._lock:
            self._stopping = True
            self._idle_workers = 0
            # One exit sentinel per worker, not per idle one: a worker whose idle wait
            # ends just now may take another's. Spare sentinels are drained in finish().
            sentinels = len(self._workers)
            self._cond.notify_all()
        for _ in range(sentinels):
            self._queue.put(None)

    def finish(self, core: ServerCore, deadline: float, hard_deadline: float) -> None:
        """Phases 2-4 of ``stop()``: handlers finish until ``deadline``; the rest are cut and joined."""
        own = getattr(self._local, "conn", None)
        me = threading.current_thread()
        clock = time.monotonic
        with self._lock:
            while True:
                others = self._active - (1 if own is not None else 0)
                remaining = deadline - clock()
                if others <= 0 or remaining <= 0:
                    break
                self._cond.wait(remaining)
            self._cutting = True
            leftover = [conn for conn in self._conns if conn is not own]
        # Cut what is left: blocked reads and writes return at once.
        for conn in leftover:
            logger.info("%s: closing connection from %s at shutdown", core, conn._where())
            conn._abort()
        with self._lock:
            while True:
                others_alive = [t for t in self._workers if t is not me]
                remaining = hard_deadline - clock()
                if not others_alive or remaining <= 0:
                    break
                self._cond.wait(remaining)
        if others_alive:
            logger.warning(
                "%s: %d handler thread(s) still running after stop(); their connections are closed",
                core,
                len(others_alive),
            )
            for conn in leftover:
                conn.close()
        self._drain_queue(core)

    def _drain_queue(self, core: ServerCore) -> None:
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if job is None:
                continue
            sock, peer = job
            sock.close()
            with self._lock:
                self._count(-1)
                self._cond.notify_all()
            logger.info("%s: closed connection from %s unhandled: server stopping", core, peer_text(peer))
