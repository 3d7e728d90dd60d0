"""The lifecycle every netbasics server shares: a bound socket, a serving loop, a phased stop.

A server is a :class:`ServerCore` plus an *engine*. The core does what every server does
the same way, whatever it serves and over whichever kind of socket:

* it owns the already-bound socket (a listening TCP or Unix-domain stream socket, a UDP
  or Unix-domain datagram socket: whoever builds the server binds it, so a new kind of
  endpoint needs no change here) and closes it exactly once;
* ``start`` (a background thread named after the server), ``serve_forever`` (the calling
  thread), the context manager, :attr:`serving`, ``stop`` with its phases, and the
  "ready / serving / stopped" states, with the same errors for every server;
* a wake-up pipe the engine's loop can wait on, and ``accept`` with the back-off on
  running out of descriptors (stream servers);
* log records on the ``netbasics`` logger, prefixed with the server's name.

The engine (see :class:`Engine`) owns its own state (connections, worker threads,
buffers) and its own lock; the core calls it at three points: :meth:`Engine.run` is the
serving loop, :meth:`Engine.stop_requested` wakes whatever that loop blocks on, and
:meth:`Engine.finish` lets work finish until the grace deadline, cuts the rest and joins
the engine's threads. Engines read the core's state through its properties and never
write it.

``stop(timeout)`` runs in phases, from any thread, including one the engine runs user
code on: the stopping flag is set and the loop woken (new clients are no longer taken);
the serving thread is joined (unless the caller is that thread); the engine's
``finish`` runs with the grace deadline (``timeout`` seconds from now) and a hard
deadline 90 ms later; the socket and pipe are closed once the loop has returned.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Final, Protocol

from .sockets import FOREVER, AcceptBackoff, check_timeout

__all__ = ["STOP_SLACK", "Engine", "ServerCore", "logger"]

#: The logger of every server.
logger: Final = logging.getLogger("netbasics")

#: Seconds added to stop()'s grace period for closing what is left and joining threads.
STOP_SLACK: Final = 0.09
_monotonic = time.monotonic


class Engine(Protocol):
    """What a server serves with: the part of a server that is not its lifecycle."""

    def run(self, core: ServerCore) -> None:
        """The serving loop, on the serving thread: serve until ``core.stopping``, then return."""

    def stop_requested(self, core: ServerCore) -> None:
        """Called by ``stop()`` (on its thread) right after ``core.stopping`` became true: wake the loop's waits."""

    def finish(self, core: ServerCore, deadline: float, hard_deadline: float) -> None:
        """After the loop returned (or never ran): work may finish until ``deadline``; cut the rest, join threads."""


class ServerCore:
    """The lifecycle of one server around an already-bound socket; see the module docs.

    ``kind`` is the class name used in messages (``"TCPServer"``); ``label`` says where
    the server is (its endpoint or path); ``name`` (default ``"<kind> <label>"``) names
    the serving thread and prefixes log records.
    """

    __slots__ = (
        "_closed",
        "_lock",
        "_loop_done",
        "_loop_thread",
        "_started",
        "_stopping",
        "_thread",
        "admit",
        "backoff",
        "deadline",
        "engine",
        "io_lock",
        "kind",
        "name",
        "on_close",
        "sock",
        "wake_r",
        "wake_w",
    )

    def __init__(self, sock: socket.socket, engine: Engine, *, kind: str, label: str, name: str | None) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a str or None, got {type(name).__name__}")
        #: The bound socket the engine serves on; closed by :meth:`close_socket`.
        self.sock = sock
        self.engine = engine
        self.kind = kind
        self.name = name or f"{kind} {label}"
        self._lock = threading.Lock()
        #: Held while the socket is closed, and by engines that use its raw descriptor
        #: (so a descriptor number is never used after it was closed and reused).
        self.io_lock = threading.Lock()
        self._started = False
        self._stopping = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._loop_thread: threading.Thread | None = None
        self._loop_done = threading.Event()
        #: The grace deadline of the first ``stop()`` (the earliest, if called again).
        self.deadline = 0.0
        self.backoff = AcceptBackoff(self, logger)
        #: ``admit(sock, address)`` decides on each accepted connection before any engine
        #: sees it (False: closed at once; the function logs why). Set by servers that
        #: check peers, such as a Unix server's allowed uids; ``None`` admits everyone.
        self.admit: Callable[[socket.socket, object], bool] | None = None
        #: Called once, right after the socket is closed (a Unix server removes its
        #: socket file there); ``None`` for nothing.
        self.on_close: Callable[[], object] | None = None
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)

    def __str__(self) -> str:
        return self.name

    # --- state ----------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        """True once ``stop()`` was called (or the loop failed)."""
        return self._stopping

    @property
    def serving(self) -> bool:
        """True from ``start()``/``serve_forever()`` until ``stop()``."""
        return self._started and not self._stopping

    @property
    def state(self) -> str:
        """``"ready"``, ``"serving"`` or ``"stopped"``, for ``repr``."""
        return "stopped" if self._stopping else "serving" if self._started else "ready"

    def on_loop_thread(self) -> bool:
        """True when called from the thread running the serving loop."""
        return self._loop_thread is threading.current_thread()

    # --- running --------------------------------------------------------------------

    def _claim(self, what: str) -> None:
        if self._stopping:
            raise RuntimeError(f"{what} called on a {self.kind} that was stopped; create a new one")
        if self._started:
            raise RuntimeError(f"{what} called on a {self.kind} that is already running")
        self._started = True

    def start(self) -> None:
        """Run the serving loop in a background (daemon) thread named after the server."""
        thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
        with self._lock:
            self._claim("start()")
            # Started under the lock: a stop() from another thread then never finds a
            # thread it cannot join yet (the new thread does not take this lock).
            try:
                thread.start()
            except BaseException:
                self._loop_done.set()  # nothing runs: stop() need not wait for it
                raise
            self._thread = thread

    def serve_forever(self) -> None:
        """Run the serving loop on the calling thread until ``stop()``; an exception stops the server at once."""
        with self._lock:
            self._claim("serve_forever()")
        self._serve()

    def _serve(self) -> None:
        self._loop_thread = threading.current_thread()
        try:
            self.engine.run(self)
        except BaseException:
            self._loop_ended()
            self.stop(timeout=0)
            raise
        self._loop_ended()
        self._close_pipe()  # the loop only returns once stopping

    def _loop_ended(self) -> None:
        self.close_socket()
        self._loop_done.set()

    # --- engine services ------------------------------------------------------------

    def accept(self, limit: int, take: Callable[[socket.socket, object], None]) -> bool:
        """Accept up to ``limit`` waiting connections, handing each to ``take(sock, address)``.

        Returns True if ``accept`` ran out of descriptors: the engine then waits
        ``backoff.delay`` seconds before accepting again (logged once per server).
        """
        accept = self.sock.accept
        backoff = self.backoff
        admit = self.admit
        while limit > 0:
            try:
                sock, address = accept()
            except (BlockingIOError, InterruptedError):
                return False
            except OSError as exc:
                return backoff.failed(exc)
            if backoff.delay:
                backoff.succeeded()
            if admit is not None and not admit(sock, address):
                sock.close()
                continue
            take(sock, address)
            limit -= 1
        return False

    def drain_wake(self) -> None:
        """Empty the wake-up pipe (for loops that keep waiting on it after a wake-up)."""
        try:
            os.read(self.wake_r, 512)
        except OSError:  # pragma: no cover - the pipe is ours and readable
            pass

    def wake(self) -> None:
        """Make the wake-up pipe readable, so a loop blocked on it returns."""
        with self._lock:
            if not self._closed:
                try:
                    os.write(self.wake_w, b"x")
                except OSError:
                    pass  # the pipe is full: the loop is being woken anyway

    def close_socket(self) -> None:
        """Close the server's socket (idempotent): a stream server refuses new clients from now on."""
        with self.io_lock:
            first = self.sock.fileno() >= 0
            try:
                self.sock.close()
            except OSError:  # pragma: no cover - closing a bound socket does not fail
                pass
        if first and self.on_close is not None:
            self.on_close()

    def _close_pipe(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        os.close(self.wake_r)
        os.close(self.wake_w)

    # --- stopping -------------------------------------------------------------------

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop in phases (see the module docs); ``timeout`` is the grace period in seconds (``None``: no limit)."""
        grace = check_timeout(timeout)
        deadline = _monotonic() + (FOREVER if grace is None else grace)
        hard_deadline = deadline + STOP_SLACK
        with self._lock:
            self.deadline = min(self.deadline, deadline) if self._stopping else deadline
            self._stopping = True
            started = self._started
        self.engine.stop_requested(self)
        self.wake()
        if started:
            me = threading.current_thread()
            thread = self._thread
            if self._loop_thread is not me and thread is not me:
                if thread is not None:
                    thread.join(max(0.0, hard_deadline - _monotonic()))
                else:
                    self._loop_done.wait(max(0.0, hard_deadline - _monotonic()))
        else:
            self.close_socket()
        self.engine.finish(self, deadline, hard_deadline)
        if not started or self._loop_done.is_set():
            self._close_pipe()  # else the loop closes it as it returns
