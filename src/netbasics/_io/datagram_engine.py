"""The engine of every datagram server (UDPServer, UnixDatagramServer): worker threads receive and run the handler.

The engine knows sockets, threads and the server core, not the kind of address: how a
received ``(data, address)`` becomes the handler's datagram and its ``reply``, how a
sender is named in log records, and (for the batched loop) how a reply is checked and a
failed one described come from the server that builds it, as one
:class:`DatagramKind`.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Final, Protocol

from ..endpoints import Endpoint
from .datagrams import TRUNC_FLAGS, BytesLike, Reply, oversized_received
from .peers import PeerKind
from .server_core import ServerCore
from .server_core import logger as _log
from .sockets import family_of, local_endpoint

__all__ = ["DatagramEngine", "DatagramKind"]

# Recent senders whose reply callables a worker keeps (cleared when full).
_REPLY_CACHE: Final = 256
# Datagrams per recvmmsg/sendmmsg call in the batched loop, and the bytes of replies
# queued before a sendmmsg (at least one maximum-size datagram).
_BATCH: Final = 64
_SEND_AREA: Final = 256 * 1024

# Linux wakes threads blocked in recvfrom when the socket is shut down (see DatagramEngine.stop_requested).
_SHUTDOWN_WAKES: Final = sys.platform.startswith("linux")

# A socket address as the socket module gives it: a tuple for IP; text or bytes (or None
# for an unbound sender) for AF_UNIX. The engine only passes it to the hooks.
_SockAddr = Any


class DatagramKind(PeerKind[Any], Protocol):
    """What differs between the datagram servers (UDP, Unix): a :class:`PeerKind` plus the handler's arguments.

    ``peer``, ``describe`` and ``unnamed_senders`` as for any kind of peer (a sender's
    socket address, decoded and named in log records); and:
    """

    def datagram(self, data: bytes, sockaddr: _SockAddr) -> object:
        """The handler's datagram for ``data`` received from ``sockaddr`` (a hot path: decode lazily)."""

    def reply(self, sock: socket.socket, sockaddr: _SockAddr) -> Reply:
        """The handler's ``reply``: sends from ``sock`` to ``sockaddr`` at once, errors raised to the caller."""

    @property
    def reply_fits(self) -> int:
        """A ``bytes`` reply of at most this many bytes needs no :meth:`check_reply` (batched loop)."""

    def check_reply(self, data: object, sockaddr: _SockAddr) -> None:
        """Raise for a reply that cannot be sent to ``sockaddr`` (not bytes-like, too large); batched loop."""

    def reply_error(self, exc: OSError, sockaddr: _SockAddr) -> BaseException:
        """The error logged when the kernel refused a queued reply to ``sockaddr`` (batched loop)."""


class DatagramEngine:
    """The serving engine of a datagram server: ``workers`` threads receive and run the handler.

    The server core's serving thread is worker 0; :meth:`run` starts the others. Each
    worker receives with batched system calls where Linux offers them (one worker
    only, see :class:`_BatchWorker`), else one ``recvfrom`` per datagram
    (:meth:`_serve_plain`). ``stop()`` wakes blocked receives by shutting the socket
    down, which ends them on Linux; elsewhere an empty datagram per worker does.
    """

    def __init__(
        self,
        handler: Callable[[Any, Reply], None],
        workers: int,
        max_datagram: int,
        kind: DatagramKind,
        *,
        batched: bool,
    ) -> None:
        self.handler = handler
        self.workers = workers
        self.max_datagram = max_datagram
        #: Whether the worker receives and replies in batches (recvmmsg/sendmmsg).
        self.batched = batched
        # How a received (data, address) becomes the handler's arguments, how a sender is
        # named in log records and how a queued reply is checked: the server's kind of socket.
        self.kind = kind
        #: Every worker thread that ran, the serving thread first.
        self.threads: list[threading.Thread] = []
        # worker thread id -> a function that sends the replies its current batch queued
        self.flushers: dict[int, Callable[[], None]] = {}
        self._stopping = False
        #: Set once every worker thread was started (start() returns then).
        self.started = threading.Event()

    def stopping(self) -> bool:
        """True once the server is stopping (checked by workers before each datagram)."""
        return self._stopping

    def run(self, core: ServerCore) -> None:
        """Start workers 1..n-1, then be worker 0."""
        self.threads.append(threading.current_thread())
        try:
            for i in range(1, self.workers):
                if self._stopping:
                    break
                thread = threading.Thread(target=self._work, args=(core,), name=f"{core.name} worker {i}", daemon=True)
                self.threads.append(thread)
                thread.start()
        finally:
            self.started.set()
        self._work(core)

    def _work(self, core: ServerCore) -> None:
        if self.batched:
            try:
                worker = _BatchWorker(self, core)
            except (OSError, RuntimeError) as exc:  # pragma: no cover - out of memory for the buffers
                _log.warning("%s: batched receive unavailable (%s); one datagram per call", core, exc)
            else:
                worker.run()
                return
        self._serve_plain(core)

    def receive_failed(self, core: ServerCore, exc: OSError) -> bool:
        """After a failed receive: True if the worker should stop (the server is stopping)."""
        if self._stopping or core.sock.fileno() < 0:
            return True
        _log.error("%s: receive failed: %s", core, exc)
        time.sleep(0.01)  # do not spin if the error persists
        return False

    def oversized(self, core: ServerCore, size: int, sockaddr: _SockAddr) -> None:
        """Log a datagram that was larger than ``max_datagram`` (it was dropped)."""
        _log.warning("%s: %s", core, oversized_received(size, self.max_datagram, self.kind.describe(sockaddr)))

    def _serve_plain(self, core: ServerCore) -> None:
        """The portable loop: one recvfrom per datagram, replies sent at once. A hot path."""
        sock = core.sock
        recvfrom = sock.recvfrom
        handler = self.handler
        max_datagram = self.max_datagram
        size = max_datagram + 1  # one spare byte detects an oversized datagram
        flags = TRUNC_FLAGS
        kind = self.kind
        datagram = kind.datagram
        make_reply = kind.reply
        unnamed = kind.unnamed_senders
        replies: dict[_SockAddr, Reply] = {}  # one reply callable per recent sender
        while True:
            try:
                # With MSG_TRUNC, Linux returns the real length; the bytes beyond the
                # buffer are not data, but such a datagram is dropped below anyway.
                data, sockaddr = recvfrom(size, flags)
            except (ConnectionRefusedError, ConnectionResetError):
                # An ICMP port unreachable for an earlier reply (Linux with IP_RECVERR,
                # Windows always): about a past datagram, not this socket. Carry on.
                continue
            except OSError as exc:
                if self.receive_failed(core, exc):
                    return
                continue
            if self._stopping or (sockaddr is None and not unnamed):  # stop(), or shut down (no data)
                return
            if len(data) > max_datagram:
                self.oversized(core, len(data), sockaddr)
                continue
            reply = replies.get(sockaddr)
            if reply is None:
                if len(replies) >= _REPLY_CACHE:
                    replies.clear()
                reply = replies[sockaddr] = make_reply(sock, sockaddr)
            try:
                handler(datagram(data, sockaddr), reply)
            except Exception:
                _log.exception("%s: handler failed for a datagram from %s", core, kind.describe(sockaddr))

    # --- stopping -------------------------------------------------------------------

    def stop_requested(self, core: ServerCore) -> None:
        """Send the replies a calling handler's batch queued, then wake every blocked receive."""
        self._stopping = True
        flush = self.flushers.get(threading.get_ident())
        if flush is not None:  # called from a handler: its batch's replies go out before the shutdown
            flush()
        # shutdown() wakes every thread blocked in recvfrom on Linux (the kernel's "wake
        # up other listeners" path; it still reports ENOTCONN for an unconnected socket).
        # Where it does not, one empty datagram per worker to the server's own address
        # does: workers check the stop flag before looking at any datagram.
        try:
            core.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if _SHUTDOWN_WAKES:
            return
        target = local_endpoint(core.sock) if core.sock.fileno() >= 0 else None  # pragma: no cover - not Linux
        if target is None:  # pragma: no cover
            return
        if target.address.is_unspecified:  # pragma: no cover
            target = Endpoint("127.0.0.1" if target.version == 4 else "::1", target.port)
        try:  # pragma: no cover
            with socket.socket(family_of(target), socket.SOCK_DGRAM) as waker:
                for _ in range(self.workers):
                    waker.sendto(b"", target.sockaddr)
        except OSError:  # pragma: no cover
            pass

    def finish(self, core: ServerCore, deadline: float, hard_deadline: float) -> None:
        """Join the workers (busy handlers get until the hard deadline); warn about any still running."""
        current = threading.current_thread()
        for thread in self.threads:
            if thread is not current:
                thread.join(max(0.0, hard_deadline - time.monotonic()))
        alive = [t for t in self.threads if t.is_alive() and t is not current]
        if alive:
            _log.warning("%s: %d worker(s) still busy in the handler after stop()", core, len(alive))
        if not core.on_loop_thread():
            core.close_socket()  # else the serving loop closes it as it returns


class _BatchWorker:
    """The Linux worker: recvmmsg fills up to _BATCH buffers; replies are queued and sent by sendmmsg.

    The queue is flushed after every batch, before the worker can block again, so a reply
    waits at most for the rest of its batch to be handled. ``reply()`` called from another
    thread, or after the handler returned, sends at once as in the plain loop.
    """

    def __init__(self, engine: DatagramEngine, core: ServerCore) -> None:
        from . import mmsg as _mmsg  # imports ctypes: only when a batched worker starts

        self._engine = engine
        self._core = core
        self._decode = _mmsg.decode_sockaddr
        self._receiver = _mmsg.Receiver(_BATCH, engine.max_datagram + 1)  # MSG_TRUNC reports any larger size
        self._sender = _mmsg.Sender(_BATCH, _SEND_AREA)
        self._sock = core.sock
        self._fd = core.sock.fileno()
        self._pending: list[tuple[bytes, bytes]] = []
        self._batching = 0  # the worker's thread id while it runs handlers, whose replies are then queued
        # raw sender address -> (tuple form, reply callable), for recent senders
        self._entries: dict[bytes, tuple[_SockAddr, Reply]] = {}

    def run(self) -> None:
        """Receive batches until the server stops; the flusher is registered for stop() from a handler."""
        me = threading.get_ident()
        flushers = self._engine.flushers
        flushers[me] = self.flush
        try:
            self._loop(me)
        finally:
            flushers.pop(me, None)

    def _loop(self, me: int) -> None:
        receiver = self._receiver
        receive = receiver.receive
        slots = list(
            zip(receiver.offsets, receiver.len_index, receiver.name_offsets, receiver.namelen_index, strict=True)
        )
        engine = self._engine
        stopping = engine.stopping
        fd = self._fd
        while not stopping():
            try:
                got = receive(fd)
            except (ConnectionRefusedError, ConnectionResetError):
                continue  # an ICMP error about an earlier reply, as in the plain loop
            except OSError as exc:
                if engine.receive_failed(self._core, exc):
                    return
                continue
            self._batching = me
            try:
                if not self._handle(slots[:got]):
                    return
            finally:
                self._batching = 0
                if self._pending:
                    self.flush()

    def _handle(self, slots: list[tuple[int, int, int, int]]) -> bool:
        """Run the handler for each datagram of a batch; False once the server is stopping."""
        receiver = self._receiver
        payloads = receiver.data
        names = receiver.names
        u32 = receiver.u32
        entries = self._entries
        engine = self._engine
        stopping = engine.stopping
        handler = engine.handler
        max_datagram = engine.max_datagram
        datagram = engine.kind.datagram
        describe = engine.kind.describe
        for offset, len_at, name_at, namelen_at in slots:
            if stopping():  # stop() ran, maybe from the last handler: leave the rest
                return False
            namelen = u32[namelen_at]
            if not namelen:  # shut down: no sender, no data
                return False
            raw = names[name_at : name_at + namelen]
            entry = entries.get(raw)
            if entry is None:
                entry = self._new_sender(raw)
            sockaddr, reply = entry
            size = u32[len_at]
            if size > max_datagram:
                engine.oversized(self._core, size, sockaddr)
                continue
            try:
                handler(datagram(payloads[offset : offset + size], sockaddr), reply)
            except Exception:
                _log.exception("%s: handler failed for a datagram from %s", self._core, describe(sockaddr))
        return True

    def _new_sender(self, raw: bytes) -> tuple[_SockAddr, Reply]:
        entries = self._entries
        if len(entries) >= _REPLY_CACHE:
            entries.clear()
        to: _SockAddr = self._decode(raw)
        entry = entries[raw] = (to, self._make_reply(raw, to))
        return entry

    def _make_reply(self, raw: bytes, to: _SockAddr) -> Reply:
        """The reply callable for one sender: queued while this worker's batch runs, else sent at once."""
        engine = self._engine
        direct = engine.kind.reply(self._sock, to)
        check = engine.kind.check_reply
        get_ident = threading.get_ident
        queue = self._pending.append
        fits = engine.kind.reply_fits

        def reply(data: BytesLike) -> None:
            if self._batching != get_ident():
                direct(data)  # from another thread, or after the handler returned: at once
                return
            if type(data) is not bytes:
                check(data, to)  # also refuses non-buffers
                data = bytes(data)  # a copy: the caller may reuse its buffer before the batch is sent
            elif len(data) > fits:
                check(data, to)
            queue((data, raw))
            if len(self._pending) >= _BATCH:  # a handler replying many times: send as we go
                self.flush()

        return reply

    def _send_failed(self, _data: bytes, raw: bytes, exc: OSError) -> None:
        if self._engine.stopping():
            return  # shut down for sending by stop(): EPIPE, as a reply after stop() gets
        error = self._engine.kind.reply_error(exc, self._decode(raw))
        _log.error("%s: reply not sent: %s", self._core, error)

    def flush(self) -> None:
        """Send the queued replies with sendmmsg (not after the socket was closed)."""
        pending = self._pending
        with self._core.io_lock:
            if pending and self._sock.fileno() >= 0:
                self._sender.send(self._fd, pending, self._send_failed)
        pending.clear()
