"""The thread-per-connection engine behind ``TCPServer(bind, handler)``: a worker pool and a phased stop.

The accept loop (the server's serving thread) waits on the listening socket and the
core's wake-up pipe; each accepted socket goes to an idle worker through a queue, or to
a new worker thread. A worker makes the handler's connection with the ``accept`` the
server passed in (a :class:`~netbasics.StreamConnection`, with the idle timeout as its
default deadline: the engine never sees the class), runs ``handler(conn)``, closes the
connection and its socket and waits up to ``_WORKER_IDLE`` seconds for the next one
before it exits. A failure anywhere in that (making the connection included) closes
that connection only, with a record on the ``netbasics`` logger naming the peer as the
server's kind of peer (``_io.peers``) describes it.

At ``max_connections`` the loop stops accepting (clients wait in the listen backlog).
Stopping (:meth:`ThreadedEngine.finish`): handlers get the grace period to finish;
connections still open are then shut down both ways, all at once and without letting go
of the GIL (:func:`shut_down_all`), which ends any read or write blocked on them;
the handlers are awaited until the hard deadline (the idle workers then exit on their
own). A handler may call ``stop()`` itself: its own connection is left to it.

Works over any listening stream socket (TCP or Unix-domain): the address ``accept``
returns is only used in log records.
"""

from __future__ import annotations

import logging
import queue
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from itertools import repeat
from typing import Final, Generic, Protocol, TypeVar, Union

from ..errors import FrameTooLarge, quote
from .held_send import Crowd, server_crowd
from .peers import PeerKind
from .server_core import ServerCore, logger
from .sockets import check_int, check_timeout

__all__ = ["Accept", "Closable", "ThreadedEngine", "shut_down_all"]

#: Seconds an idle worker thread waits for another connection before it exits.
_WORKER_IDLE: Final = 5.0

_Job = Union[tuple[socket.socket, object], None]


class Closable(Protocol):
    """What a handler's connection must offer the engine: ``close()`` once the handler returned."""

    def close(self) -> None:
        """Close the connection (idempotent)."""


C = TypeVar("C", bound=Closable)

#: ``accept(sock, address, timeout, crowd)``: the connection a handler gets for a socket
#: ``accept()`` returned from ``address``, with ``timeout`` as its default deadline and
#: ``crowd`` the server's "several threads compete for the GIL" flag (see _io.held_send).
Accept = Callable[[socket.socket, object, Union[float, None], Union[Crowd, None]], C]


def _load_held_shutdown() -> Callable[[int, int], int] | None:
    """The C library's ``shutdown`` called with the GIL held (see shut_down_all), or None."""
    try:
        import ctypes

        shutdown = ctypes.PyDLL(None).shutdown
    except (ImportError, OSError, AttributeError):  # pragma: no cover - Linux and the BSDs have it
        return None
    shutdown.argtypes = (ctypes.c_int, ctypes.c_int)
    shutdown.restype = ctypes.c_int
    result: Callable[[int, int], int] = shutdown
    return result


_fileno = socket.socket.fileno
_held_shutdown: Callable[[int, int], int] | None = None
_held_loaded = False


def shut_down_all(socks: Iterable[socket.socket]) -> None:
    """Shut each socket down both ways (waking any thread blocked on it), all while keeping the GIL.

    ``socket.shutdown`` releases the GIL, and with a few hundred busy threads taking it
    at each release, getting it back can take milliseconds: 200 shutdowns in a row took
    0.1-0.6 s. The C library's ``shutdown`` reached through ``ctypes.PyDLL`` keeps it
    (the call never blocks), and driven by ``map`` no Python bytecode runs between the
    calls, so the interpreter never hands the GIL to the threads being woken before
    the last socket is cut (about a microsecond per socket). For the same reason no
    other thread can close a socket (and its descriptor be reused) between its
    ``fileno()`` and the call; a closed one gives -1, which ``shutdown`` refuses.
    """
    global _held_shutdown, _held_loaded
    if not _held_loaded:
        _held_shutdown = _load_held_shutdown()
        _held_loaded = True
    held = _held_shutdown
    if held is not None:
        deque(map(held, map(_fileno, socks), repeat(socket.SHUT_RDWR)), maxlen=0)
        return
    for sock in socks:  # pragma: no cover - where ctypes cannot reach the C library
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # already closed or reset: nothing is blocked on it
            pass


class ThreadedEngine(Generic[C]):
    """Serves each connection with ``handler(conn)`` on a pool of worker threads; see the module docs.

    ``accept`` makes the handler's connection from an accepted socket (the transport
    decides its class); ``peers`` names a peer in log records (from the address and the
    socket, while it is still open).
    """

    def __init__(
        self,
        handler: Callable[[C], object],
        max_connections: int,
        idle_timeout: float | None,
        *,
        accept: Accept[C],
        peers: PeerKind[object],
        tcp: bool = False,
    ) -> None:
        """Check the server's arguments (before any socket exists) and set up an idle pool.

        ``tcp``: the connections are TCP, where small sends release the GIL by default
        (see ``_io.held_send`` for the measurements behind that).
        """
        if not callable(handler):
            raise TypeError(f"handler must be callable, got {quote(handler)}")
        self._handler = handler
        self._max = check_int(max_connections, "max_connections", 1)
        self._idle_timeout = check_timeout(idle_timeout, "idle_timeout")
        self._accept = accept
        self._peers = peers
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        # The socket of every connection being handled, with the address accept() gave.
        self._socks: dict[socket.socket, object] = {}
        self._workers: set[threading.Thread] = set()
        self._idle_workers = 0
        self._active = 0
        self._stopping = False
        self._cutting = False
        self._local = threading.local()
        self._core: ServerCore | None = None
        # Up while more than one connection is being handled on a multi-CPU machine: then
        # the connections' small sends keep the GIL (see _io.held_send for why).
        self._crowd = server_crowd(tcp=tcp)

    @property
    def active(self) -> int:
        """Connections being handled right now."""
        return self._active

    @property
    def pending_output(self) -> int:
        """Always 0: a handler's send waits for its client, nothing is buffered here."""
        return 0

    def _count(self, delta: int) -> None:
        """Count a connection in or out (the lock is held) and keep the crowd flag true to the count."""
        self._active += delta
        crowd = self._crowd
        if crowd is not None:
            crowd.busy = self._active > 1

    def _peer(self, sock: socket.socket, address: object) -> str:
        """The peer of ``sock`` for a log record."""
        return self._peers.describe(address, sock)

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
            logger.error(
                "%s: closed a connection from %s unhandled: cannot start a worker: %s",
                core,
                self._peer(sock, peer),
                exc,
            )
            sock.close()

    def _worker(self, job: _Job) -> None:
        try:
            while job is not None:
                self._handle(*job)
                job = self._next_job()
        finally:
            with self._lock:
                self._workers.discard(threading.current_thread())

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
        conn: C | None = None
        with self._lock:
            self._socks[sock] = peer
            cut = self._cutting
        if cut:
            shut_down_all((sock,))  # accepted just before stop() ran out of grace: it ends at once
        self._local.sock = sock
        try:
            conn = self._accept(sock, peer, self._idle_timeout, self._crowd)
            self._handler(conn)
        except (ConnectionError, TimeoutError) as exc:
            # Resets, broken pipes, idle clients: normal events on a server (the peer is
            # named only when the record is written: on Unix that is a system call).
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("%s: connection from %s ended: %s", core, self._peer(sock, peer), exc)
        except FrameTooLarge as exc:
            # The client broke the protocol, not the handler: no traceback.
            logger.warning("%s: closed connection from %s: %s", core, self._peer(sock, peer), exc)
        except Exception:
            what = "handler failed" if conn is not None else "setting up the connection failed"
            logger.exception("%s: %s for connection from %s", core, what, self._peer(sock, peer))
        finally:
            self._local.sock = None
            try:
                if conn is not None:
                    conn.close()
            finally:
                sock.close()
                with self._lock:
                    self._socks.pop(sock, None)
                    self._count(-1)
                    if not self._stopping or self._active <= 1:
                        # The accept loop may wait for a free slot; once stopping, only
                        # finish() waits, for the last handler (or all but its own):
                        # waking it for each of hundreds would make it compete for the
                        # GIL with the very threads it waits for.
                        self._cond.notify_all()

    # --- stopping -------------------------------------------------------------------

    def stop_requested(self, core: ServerCore) -> None:
        """Release the accept loop's capacity wait and tell every worker to exit once done."""
        with self._lock:
            self._stopping = True
            self._idle_workers = 0
            # One exit sentinel per worker, not per idle one: a worker whose idle wait
            # ends just now may take another's. Spare ones stay in the queue (harmless).
            sentinels = len(self._workers)
            self._cond.notify_all()
        for _ in range(sentinels):
            self._queue.put(None)

    def finish(self, core: ServerCore, deadline: float, hard_deadline: float) -> None:
        """Phases 2-4 of ``stop()``: handlers finish until ``deadline``; the rest are cut and awaited.

        Returns once every handler (but a calling one) has returned and its connection
        is closed, or at ``hard_deadline``. The worker threads then exit on their own,
        running no more user code: waiting for their teardown too would cost the stop
        a GIL hand-off per thread (measured: 50-70 ms for 200 busy connections).
        """
        own = getattr(self._local, "sock", None)
        mine = 1 if own is not None else 0
        clock = time.monotonic
        with self._lock:
            while True:
                remaining = deadline - clock()
                if self._active <= mine or remaining <= 0:
                    break
                self._cond.wait(remaining)
            self._cutting = True
            leftover = [(sock, peer) for sock, peer in self._socks.items() if sock is not own]
        # Cut what is left: blocked reads and writes return at once. All in one go,
        # before anything else (see shut_down_all), and logged after.
        shut_down_all([sock for sock, _ in leftover])
        if leftover and logger.isEnabledFor(logging.INFO):
            for sock, peer in leftover:
                logger.info("%s: closing connection from %s at shutdown", core, self._peer(sock, peer))
        with self._lock:
            while True:
                running = self._active - mine
                remaining = hard_deadline - clock()
                if running <= 0 or remaining <= 0:
                    break
                self._cond.wait(remaining)
        if running > 0:
            logger.warning("%s: %d handler(s) still running after stop(); their connections are closed", core, running)
            for sock, _ in leftover:
                sock.close()
        self._drain_queue(core)

    def _drain_queue(self, core: ServerCore) -> None:
        """Close the connections still queued for a worker; the exit sentinels stay for the idle workers."""
        sentinels = 0
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                sentinels += 1  # an idle worker has not taken it yet (finish() does not wait for them)
                continue
            sock, peer = job
            logger.info("%s: closed connection from %s unhandled: server stopping", core, self._peer(sock, peer))
            sock.close()
            with self._lock:
                self._count(-1)
                self._cond.notify_all()
        for _ in range(sentinels):
            self._queue.put(None)
