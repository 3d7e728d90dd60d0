"""A fault-injecting loopback relay for the tests: this kernel has no ``netem``.

A relay sits between a client and a real server on loopback and forwards traffic both
ways, breaking it on purpose as it goes:

* :class:`UdpRelay` drops, delays, duplicates and reorders datagrams, and can forge a
  reply from a stranger (another port on the same address) ahead of each real one.
* :class:`TcpRelay` splits writes into 1-byte pieces, stalls (stops forwarding for some
  seconds, or for good) and resets the connection mid-stream (``SO_LINGER`` 0 close of
  both sides after a given number of bytes).

Faults apply to ``direction``: ``"up"`` (client to server), ``"down"`` (server to
client) or ``"both"``. Random faults come from ``random.Random(seed)``, drawn in a fixed
order per datagram, so the same traffic meets the same faults on every run.

Each relay runs in its own thread around one selector, is a context manager, exposes
:attr:`endpoint` (where clients connect instead of the server) and counts what it did in
:attr:`stats`. Leaving the block stops the thread and closes every socket it opened; an
exception inside the relay thread is re-raised there, so a broken relay fails the test
rather than passing it silently.

TCP has a limit worth knowing: the kernel completes a handshake before ``accept()``
returns, so a relay cannot make a connect hang. For an address that never answers a
SYN, use :func:`blackhole` (a listener whose accept queue is full).
"""

from __future__ import annotations

import heapq
import itertools
import random
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import Literal

from netbasics import Endpoint

__all__ = ["RelayStats", "TcpRelay", "UdpRelay", "blackhole", "reset_close"]

Direction = Literal["up", "down", "both"]
_UP: Literal["up"] = "up"
_DOWN: Literal["down"] = "down"
# SO_LINGER on, 0 s: close() sends a RST instead of a FIN.
_LINGER_RESET = struct.pack("ii", 1, 0)
# A TCP relay stops reading from one side while this much waits to go to the other.
_TCP_BUFFER = 1 << 20
_MAX_DATAGRAM = 65535


def reset_close(sock: socket.socket) -> None:
    """Close ``sock`` with a RST (``SO_LINGER`` on, 0 s) rather than a FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    except OSError:
        pass  # already dead: close() below still frees the descriptor
    sock.close()


@contextmanager
def blackhole(host: str = "127.0.0.1") -> Iterator[Endpoint]:
    """A loopback endpoint whose SYNs go unanswered: a listener with a full accept queue.

    With ``listen(0)`` Linux queues one connection; a few never-accepted connects fill
    the queue, and further SYNs are dropped (``tcp_abort_on_overflow`` is 0 by default),
    so a connect to it stays pending until its own timeout: what a firewalled or dead
    address looks like. Raises ``RuntimeError`` if the kernel answers anyway.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        listener.bind((host, 0))
        listener.listen(0)
        address = listener.getsockname()
        for _ in range(3):
            filler = socket.socket(family, socket.SOCK_STREAM)
            fillers.append(filler)
            filler.setblocking(False)
            filler.connect_ex(address)
        time.sleep(0.05)  # the handshakes that fit complete
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.2)
            try:
                probe.connect(address)
            except OSError:
                pass
            else:
                raise RuntimeError("this kernel answers SYNs beyond a full accept queue; no loopback blackhole")
        yield Endpoint.from_sockaddr(address)
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


@dataclass
class RelayStats:
    """What a relay did. TCP counts bytes in ``up``/``down``, UDP counts datagrams.

    ``up`` and ``down`` count what was delivered (each copy of a duplicated datagram);
    ``dropped``, ``duplicated``, ``reordered`` and ``forged`` count datagrams, ``stalls``
    and ``resets`` TCP connections. The relay thread counts a delivery just after it: a
    peer may see the bytes a moment before the count does (wait with ``leaks.settle``).
    """

    accepted: int = 0
    up: int = 0
    down: int = 0
    dropped: int = 0
    duplicated: int = 0
    reordered: int = 0
    forged: int = 0
    stalls: int = 0
    resets: int = 0


def _check_probability(value: float, name: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be within [0, 1], got {value!r}")
    return float(value)


class _Relay:
    """The thread, selector, wake-up socket and timers both relays share."""

    def __init__(self, upstream: Endpoint, direction: Direction, name: str) -> None:
        if direction not in ("up", "down", "both"):
            raise ValueError(f"direction must be 'up', 'down' or 'both', got {direction!r}")
        self.upstream = upstream
        self.direction: Direction = direction
        self.stats = RelayStats()
        self._family = socket.AF_INET6 if upstream.version == 6 else socket.AF_INET
        self._host = str(upstream.address)
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, self._drain_wake)
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._stopping = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._endpoint: Endpoint | None = None
        self._listener: socket.socket  # the relay's own socket, opened by _listen

    @property
    def endpoint(self) -> Endpoint:
        """Where clients send or connect instead of the upstream server."""
        assert self._endpoint is not None
        return self._endpoint

    def _faulty(self, direction: Literal["up", "down"]) -> bool:
        return self.direction == "both" or self.direction == direction

    # --- the loop -----------------------------------------------------------------------

    def later(self, delay: float, action: Callable[[], None]) -> None:
        """Run ``action`` on the relay thread ``delay`` seconds from now (relay thread only)."""
        heapq.heappush(self._timers, (time.monotonic() + delay, next(self._seq), action))

    def _drain_wake(self, mask: int) -> None:
        try:
            self._wake_r.recv(4096)
        except BlockingIOError:
            pass

    def _run(self) -> None:
        try:
            while not self._stopping:
                timers = self._timers
                wait = None if not timers else max(0.0, timers[0][0] - time.monotonic())
                for key, mask in self._sel.select(wait):
                    key.data(mask)
                now = time.monotonic()
                while timers and timers[0][0] <= now and not self._stopping:
                    heapq.heappop(timers)[2]()
        except BaseException as exc:  # kept for __exit__: a broken relay must fail the test
            self._error = exc
        finally:
            self._close_all()

    def _close_all(self) -> None:
        for key in list(self._sel.get_map().values()):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            if sock is not self._wake_r:
                sock.close()
        self._close_extra()
        self._sel.close()

    def _close_extra(self) -> None:
        """Close sockets the relay holds that are not registered with the selector."""

    def _listen(self, kind: socket.SocketKind, on_ready: Callable[[int], None], backlog: int | None = None) -> None:
        """Open :attr:`endpoint`: ``_listener`` bound to a free port on the upstream's host, watched for ``on_ready``.

        A failure closes everything the relay holds, as :meth:`_abandon` does.
        """
        self._listener = socket.socket(self._family, kind)
        try:
            self._listener.bind((self._host, 0))
            if backlog is not None:
                self._listener.listen(backlog)
            self._listener.setblocking(False)
            self._endpoint = Endpoint.from_sockaddr(self._listener.getsockname())
            self._sel.register(self._listener, selectors.EVENT_READ, on_ready)
        except BaseException:
            self._abandon()
            raise

    def _abandon(self) -> None:
        """Close every socket of a relay whose set-up failed (its thread never ran)."""
        self._listener.close()
        self._close_all()
        self._wake_w.close()
        self._wake_r.close()

    # --- lifetime -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop the thread and close every socket (idempotent); re-raise a relay failure."""
        if self._thread.is_alive():
            self._stopping = True
            try:
                self._wake_w.send(b"x")
            except OSError:
                pass
            self._thread.join(5)
            if self._thread.is_alive():
                raise RuntimeError(f"{self._thread.name} did not stop within 5 s")
        elif not self._thread.ident:
            self._close_all()  # never started
        if self._wake_w.fileno() != -1:
            self._wake_w.close()
            self._wake_r.close()
        error, self._error = self._error, None
        if error is not None:
            raise RuntimeError(f"{self._thread.name} failed") from error

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.close()
        except RuntimeError:
            if exc is None:
                raise  # otherwise the test's own failure is the news


# --- UDP ----------------------------------------------------------------------------------


class UdpRelay(_Relay):
    """A UDP relay to ``upstream`` that drops, delays, duplicates, reorders and forges datagrams.

    * ``drop``: the probability that a datagram is lost.
    * ``duplicate``: the probability that it is delivered twice (the copy ``dup_gap``
      seconds after the original).
    * ``delay`` plus up to ``jitter`` seconds (uniform) before each delivery.
    * ``reorder``: the probability that a datagram is held back ``reorder_delay`` seconds,
      so datagrams sent after it overtake it.
    * ``forge``: before each datagram delivered to a client, a stranger (a socket on the
      relay's address, another port) sends the client ``forged_prefix + datagram``.

    Each client address gets its own socket towards the upstream, as a NAT would, so
    replies find their way back. The random draws for one datagram are, in order: drop,
    duplicate, then jitter and reorder for each copy.
    """

    def __init__(
        self,
        upstream: Endpoint,
        *,
        drop: float = 0.0,
        duplicate: float = 0.0,
        reorder: float = 0.0,
        delay: float = 0.0,
        jitter: float = 0.0,
        reorder_delay: float = 0.05,
        dup_gap: float = 0.001,
        forge: bool = False,
        forged_prefix: bytes = b"forged:",
        direction: Direction = "both",
        seed: int = 0,
    ) -> None:
        super().__init__(upstream, direction, "udp-relay")
        self.drop = _check_probability(drop, "drop")
        self.duplicate = _check_probability(duplicate, "duplicate")
        self.reorder = _check_probability(reorder, "reorder")
        if min(delay, jitter, reorder_delay, dup_gap) < 0:
            raise ValueError("delay, jitter, reorder_delay and dup_gap must be >= 0")
        self.delay, self.jitter, self.reorder_delay, self.dup_gap = delay, jitter, reorder_delay, dup_gap
        self.forge = forge
        self.forged_prefix = forged_prefix
        self._rng = random.Random(seed)
        self._clients: dict[tuple[object, ...], socket.socket] = {}
        self._stranger: socket.socket | None = None
        self._listen(socket.SOCK_DGRAM, self._from_client)
        if forge:
            try:
                self._stranger = socket.socket(self._family, socket.SOCK_DGRAM)
                self._stranger.bind((self._host, 0))
            except BaseException:
                self._abandon()
                raise

    def __enter__(self) -> UdpRelay:
        self.start()
        return self

    def _close_extra(self) -> None:
        self._listener.close()  # registered, but close() is idempotent
        if self._stranger is not None:
            self._stranger.close()

    def _from_client(self, mask: int) -> None:
        while True:
            try:
                data, client = self._listener.recvfrom(_MAX_DATAGRAM)
            except (BlockingIOError, ConnectionRefusedError):
                return  # drained, or an ICMP error from a client that has gone
            key = tuple(client)
            towards = self._clients.get(key)
            if towards is None:
                towards = socket.socket(self._family, socket.SOCK_DGRAM)
                try:
                    towards.bind((self._host, 0))
                    towards.connect(self.upstream.sockaddr)
                    towards.setblocking(False)
                except BaseException:
                    towards.close()
                    raise
                self._clients[key] = towards
                self.stats.accepted += 1
                self._sel.register(towards, selectors.EVENT_READ, partial(self._from_server, towards, client))
            self._pass(data, _UP, partial(self._send_up, towards))

    def _from_server(self, towards: socket.socket, client: tuple[object, ...], mask: int) -> None:
        while True:
            try:
                data = towards.recv(_MAX_DATAGRAM)
            except BlockingIOError:
                return
            except ConnectionRefusedError:
                continue  # an ICMP port unreachable from the upstream: a UDP server may not be up
            self._pass(data, _DOWN, partial(self._send_down, client))

    def _send_up(self, towards: socket.socket, data: bytes) -> None:
        try:
            towards.send(data)
        except (BlockingIOError, ConnectionRefusedError):
            return  # a full buffer or an earlier ICMP error: lost, as on a network
        self.stats.up += 1

    def _send_down(self, client: tuple[object, ...], data: bytes) -> None:
        if self._stranger is not None:
            try:
                self._stranger.sendto(self.forged_prefix + data, client)
                self.stats.forged += 1
            except OSError:
                pass
        try:
            self._listener.sendto(data, client)
        except (BlockingIOError, ConnectionRefusedError):
            return
        self.stats.down += 1

    def _pass(self, data: bytes, direction: Literal["up", "down"], deliver: Callable[[bytes], None]) -> None:
        """Apply the faults to one datagram and schedule what survives."""
        if not self._faulty(direction):
            deliver(data)
            return
        rng = self._rng
        if rng.random() < self.drop:
            self.stats.dropped += 1
            return
        copies = 1
        if rng.random() < self.duplicate:
            copies = 2
            self.stats.duplicated += 1
        for copy in range(copies):
            wait = self.delay + (rng.uniform(0.0, self.jitter) if self.jitter else 0.0) + copy * self.dup_gap
            if rng.random() < self.reorder:
                wait += self.reorder_delay
                self.stats.reordered += 1
            if wait > 0:
                self.later(wait, partial(deliver, data))
            else:
                deliver(data)


# --- TCP ----------------------------------------------------------------------------------


class _Pipe:
    """One direction of a relayed TCP connection: bytes read from ``src`` wait to go to ``dst``."""

    __slots__ = ("direction", "dst", "eof", "faulty", "held", "pending", "sent", "shut", "src", "stall_done", "stalled")

    def __init__(self, src: socket.socket, dst: socket.socket, direction: Literal["up", "down"], faulty: bool) -> None:
        self.src = src
        self.dst = dst
        self.direction: Literal["up", "down"] = direction
        self.faulty = faulty
        self.pending = bytearray()
        self.sent = 0  # bytes forwarded so far
        self.eof = False  # src reached the end of its stream
        self.shut = False  # dst was shut down for writing (the EOF passed on)
        self.stalled = False  # a stall is in force
        self.stall_done = False  # the stall of this pipe has begun (there is one at most)
        self.held = False  # a split pause is in force


class _Link:
    """A relayed TCP connection: the client's socket, the upstream one, a pipe each way."""

    __slots__ = ("client", "closed", "down", "server", "up")

    def __init__(self, client: socket.socket, server: socket.socket, relay: TcpRelay) -> None:
        self.client = client
        self.server = server
        self.up = _Pipe(client, server, _UP, relay._faulty(_UP))
        self.down = _Pipe(server, client, _DOWN, relay._faulty(_DOWN))
        self.closed = False


class TcpRelay(_Relay):
    """A TCP relay to ``upstream`` that splits, stalls and resets, in the faulted ``direction``.

    * ``split``: forward one byte per ``send()``, pausing ``split_pause`` seconds between
      bytes so that each arrives in its own segment and the reader sees 1-byte reads.
    * ``stall_after``: after that many bytes of a connection went through in a faulted
      direction, stop forwarding them (reading goes on, up to 1 MiB) for ``stall_for``
      seconds, or for good if ``stall_for`` is None. ``stall_after=0`` stalls at once.
    * ``reset_after``: after that many bytes of a connection went through in a faulted
      direction, close both of its sockets with a RST (``SO_LINGER`` 0): both peers
      see the connection reset, with every byte forwarded before it readable.

    Each accepted client gets its own connection to the upstream; a failure on either
    side resets the other.
    """

    def __init__(
        self,
        upstream: Endpoint,
        *,
        split: bool = False,
        split_pause: float = 0.001,
        stall_after: int | None = None,
        stall_for: float | None = None,
        reset_after: int | None = None,
        direction: Direction = "both",
    ) -> None:
        super().__init__(upstream, direction, "tcp-relay")
        for name, value in (("stall_after", stall_after), ("reset_after", reset_after)):
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0, got {value!r}")
        if stall_for is not None and stall_for < 0:
            raise ValueError(f"stall_for must be >= 0 or None, got {stall_for!r}")
        self.split = split
        self.split_pause = split_pause
        self.stall_after = stall_after
        self.stall_for = stall_for
        self.reset_after = reset_after
        self._links: set[_Link] = set()
        self._listen(socket.SOCK_STREAM, self._accept, backlog=64)

    def __enter__(self) -> TcpRelay:
        self.start()
        return self

    @property
    def active(self) -> int:
        """Relayed connections still open."""
        return len(self._links)

    def _close_extra(self) -> None:
        self._listener.close()
        for link in list(self._links):
            link.client.close()
            link.server.close()
        self._links.clear()

    def _accept(self, mask: int) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except BlockingIOError:
                return
            except ConnectionAbortedError:
                continue
            server = socket.socket(self._family, socket.SOCK_STREAM)
            try:
                client.setblocking(False)
                server.setblocking(False)
                for sock in (client, server):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                server.connect_ex(self.upstream.sockaddr)
            except BaseException:
                client.close()
                server.close()
                raise
            self.stats.accepted += 1
            link = _Link(client, server, self)
            self._links.add(link)
            self._update(link)

    # Each socket is registered with what its link wants of it now: EVENT_READ while its
    # pipe may read more, EVENT_WRITE while the pipe into it has bytes it may send.
    def _update(self, link: _Link) -> None:
        if link.closed:
            return
        for sock, outgoing, incoming in ((link.client, link.up, link.down), (link.server, link.down, link.up)):
            mask = 0
            if not outgoing.eof and len(outgoing.pending) < _TCP_BUFFER:
                mask |= selectors.EVENT_READ
            if (
                (incoming.pending or (incoming.eof and not incoming.shut))
                and not incoming.stalled
                and not incoming.held
            ):
                mask |= selectors.EVENT_WRITE
            try:
                key = self._sel.get_key(sock)
            except KeyError:
                if mask:
                    self._sel.register(sock, mask, partial(self._ready, link, sock))
                continue
            if not mask:
                self._sel.unregister(sock)
            elif key.events != mask:
                self._sel.modify(sock, mask, key.data)

    def _ready(self, link: _Link, sock: socket.socket, mask: int) -> None:
        outgoing, incoming = (link.up, link.down) if sock is link.client else (link.down, link.up)
        try:
            if mask & selectors.EVENT_READ and not link.closed:
                self._read(outgoing)
            if mask & selectors.EVENT_WRITE and not link.closed:
                self._write(link, incoming)
        except OSError:
            self._reset(link)  # a reset, or the upstream refused: pass it on as a reset
            return
        if link.up.shut and link.down.shut and not link.up.pending and not link.down.pending:
            self._close(link, reset=False)
            return
        self._update(link)

    def _read(self, pipe: _Pipe) -> None:
        try:
            data = pipe.src.recv(65536)
        except BlockingIOError:
            return
        if data:
            pipe.pending += data
        else:
            pipe.eof = True

    def _write(self, link: _Link, pipe: _Pipe) -> None:
        if pipe.faulty and self.stall_after is not None and pipe.sent >= self.stall_after and not pipe.stall_done:
            self._stall(link, pipe)  # stall_after=0: before the first byte
            return
        if not pipe.pending:
            if pipe.eof and not pipe.shut:
                pipe.shut = True
                pipe.dst.shutdown(socket.SHUT_WR)
            return
        count = len(pipe.pending)
        if pipe.faulty:
            if self.split:
                count = 1
            for limit in (self.stall_after, self.reset_after):
                if limit is not None and pipe.sent < limit:
                    count = min(count, limit - pipe.sent)
        try:
            sent = pipe.dst.send(pipe.pending[:count])
        except BlockingIOError:
            return
        del pipe.pending[:sent]
        pipe.sent += sent
        if pipe.direction == _UP:
            self.stats.up += sent
        else:
            self.stats.down += sent
        if not pipe.faulty:
            return
        if self.reset_after is not None and pipe.sent >= self.reset_after:
            self._reset(link)
            return
        if self.stall_after is not None and pipe.sent >= self.stall_after and not pipe.stall_done:
            self._stall(link, pipe)
        elif self.split and pipe.pending and self.split_pause > 0:
            pipe.held = True
            self.later(self.split_pause, partial(self._release, link, pipe, "held"))

    def _stall(self, link: _Link, pipe: _Pipe) -> None:
        pipe.stall_done = True  # one stall per pipe
        pipe.stalled = True
        self.stats.stalls += 1
        if self.stall_for is not None:
            self.later(self.stall_for, partial(self._release, link, pipe, "stalled"))

    def _release(self, link: _Link, pipe: _Pipe, what: Literal["held", "stalled"]) -> None:
        setattr(pipe, what, False)
        self._update(link)

    def _reset(self, link: _Link) -> None:
        if not link.closed:
            self.stats.resets += 1
            self._close(link, reset=True)

    def _close(self, link: _Link, *, reset: bool) -> None:
        link.closed = True
        self._links.discard(link)
        for sock in (link.client, link.server):
            try:
                self._sel.unregister(sock)
            except KeyError:
                pass
            if reset:
                reset_close(sock)
            else:
                sock.close()
