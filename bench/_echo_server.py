"""One echo server for the stream benchmarks, run in its own process by bench/_harness.py.

Usage: ``python bench/_echo_server.py KIND ADDRESS MAX_CONNECTIONS``, where ADDRESS is
``HOST:PORT`` (port 0 picks one), ``[IPv6]:PORT`` or ``unix:PATH``. The server prints the
address to connect to (with the real port) on one line, then serves until it is killed.
The netbasics threaded kinds add a tab and a note to that line: whether their small sends
keep the GIL while several connections are served (``held send on``) or not, and why.

Kinds, each with the simplest echo its API allows:

* ``threaded``: netbasics ``TCPServer``/``UnixServer`` with a ``recv``/``send_all`` handler
  (a thread per connection);
* ``released``: the same server with ``NETBASICS_RELEASE_GIL=1`` in the environment, which
  bench/_harness.py sets for this process only (and removes for every other kind): every
  send releases the GIL, as the socket module's do. The server refuses to start if the
  variable is not so, so a column can never measure the wrong variant;
* ``messages``: ``for_messages`` with a ``LengthPrefixFramer`` and a ``respond`` returning
  each message (one event-loop thread);
* ``socketserver``: stdlib ``ThreadingTCPServer``/``ThreadingUnixStreamServer`` with a
  ``BaseRequestHandler`` doing ``recv``/``sendall`` on the raw socket (``request_queue_size``
  raised to 1024: its default of 5 refuses clients under load);
* ``asyncio``: ``asyncio.start_server`` (or ``start_unix_server``) streams,
  ``read``/``write``/``drain``;
* ``aio``: ``netbasics.aio.TCPServer``/``UnixServer`` with an ``async`` ``recv``/``send_all``
  handler (a task per connection, deadlines and limits on);
* ``aio-messages``: ``netbasics.aio`` ``for_messages`` with a ``LengthPrefixFramer`` and a
  plain ``respond`` returning each message;
* ``protocol``: a bare ``asyncio.Protocol`` echo (``data_received`` writes the data back):
  the ceiling of any asyncio server.
* ``task``: the floor of any ``async def handler(conn)`` design: a bare ``Protocol`` hands
  each chunk to a task per connection through a future, and the task writes it back (no
  deadline, no limit, no buffer). What it costs beyond ``protocol`` is what a task per
  connection costs on asyncio, whatever library runs the handler.
"""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import socketserver
import sys
from collections.abc import Awaitable, Callable
from typing import Any

BACKLOG = 2048


def split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def echo(conn: Any) -> None:
    recv, send = conn.recv, conn.send_all
    while True:
        data = recv()
        if not data:
            return
        send(data)


RELEASE_GIL = "NETBASICS_RELEASE_GIL"
HOLD_GIL = "NETBASICS_HOLD_GIL"


def held_send_note(tcp: bool) -> str:
    """Whether a threaded server made now keeps the GIL in small sends while crowded, and if not, why."""
    try:
        from netbasics._io import held_send

        loaded, several = held_send.load() is not None, held_send.several_cpus()
    except (ImportError, AttributeError):  # moved or renamed since this was written
        return "held send unknown (no netbasics._io.held_send.load/several_cpus)"
    if not loaded:
        switch = os.environ.get(RELEASE_GIL, "")
        return f"held send off ({RELEASE_GIL}={switch})" if switch else "held send off (cannot load it here)"
    if not several:
        return "held send off (the server may run on one CPU only)"
    if tcp and os.environ.get(HOLD_GIL, "") in ("", "0"):
        return "held send off (TCP: only with NETBASICS_HOLD_GIL=1)"
    return "held send on"


def serve_netbasics(kind: str, address: str, limit: int) -> None:
    from netbasics import LengthPrefixFramer, TCPServer, UnixServer

    cls: Any = UnixServer if address.startswith("unix:") else TCPServer
    note = ""
    if kind in ("threaded", "released", "held"):
        switch = os.environ.get(RELEASE_GIL)
        if (kind == "released") != (switch == "1"):
            sys.exit(f"server kind {kind!r} with {RELEASE_GIL}={switch!r}: the harness sets it for 'released' only")
        note = "\t" + held_send_note(cls is TCPServer)
        server = cls(address, echo, max_connections=limit, backlog=BACKLOG)
    else:
        server = cls.for_messages(
            address, lambda message, peer: message, framer=LengthPrefixFramer(), max_connections=limit, backlog=BACKLOG
        )
    print(f"{server.endpoint}{note}", flush=True)
    server.serve_forever()


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock = self.request
        if sock.family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    return
                sock.sendall(data)
        except OSError:
            return


def serve_socketserver(address: str) -> None:
    if address.startswith("unix:"):

        class UnixServer(socketserver.ThreadingUnixStreamServer):
            daemon_threads = True
            request_queue_size = 1024

        with UnixServer(address[5:], Echo) as unix_server:
            print(address, flush=True)
            unix_server.serve_forever()
        return
    host, port = split(address)

    class TCPServer(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 1024
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    with TCPServer((host, port), Echo) as server:
        print(address.rpartition(":")[0] + f":{server.socket.getsockname()[1]}", flush=True)
        server.serve_forever()


async def serve_asyncio(address: str) -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        writer.close()

    await serve_stdlib(address, asyncio.start_unix_server, asyncio.start_server, echo)


async def serve_stdlib(
    address: str,
    unix: Callable[..., Awaitable[asyncio.Server]],
    tcp: Callable[..., Awaitable[asyncio.Server]],
    handler: Any,
) -> None:
    """Serve ``handler`` with asyncio's ``unix`` or ``tcp`` server factory on ``address``; print where it listens."""
    if address.startswith("unix:"):
        server = await unix(handler, address[5:], backlog=BACKLOG)
        print(address, flush=True)
    else:
        host, port = split(address)
        server = await tcp(handler, host, port, backlog=BACKLOG)
        print(address.rpartition(":")[0] + f":{server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


async def serve_aio(kind: str, address: str, limit: int) -> None:
    import netbasics.aio as aio
    from netbasics import LengthPrefixFramer

    async def echo(conn: Any) -> None:
        recv, send = conn.recv, conn.send_all
        while True:
            data = await recv()
            if not data:
                return
            await send(data)

    cls: Any = aio.UnixServer if address.startswith("unix:") else aio.TCPServer
    if kind == "aio":
        server = cls(address, echo, max_connections=limit, backlog=BACKLOG)
    else:
        server = cls.for_messages(
            address, lambda message, peer: message, framer=LengthPrefixFramer(), max_connections=limit, backlog=BACKLOG
        )
    print(server.endpoint, flush=True)
    await server.serve_forever()


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


class TaskProtocol(asyncio.Protocol):
    """Each chunk goes to the connection's task through a future: the least a task per connection does."""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.waiter: Any = None
        self.chunks: list[bytes] = []
        self.ended = False
        asyncio.get_running_loop().create_task(self.handler())

    def data_received(self, data: bytes) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            self.waiter = None
            waiter.set_result(data)
        else:
            self.chunks.append(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(b"")

    async def recv(self) -> bytes:
        if self.chunks:
            return self.chunks.pop(0)
        if self.ended:
            return b""
        self.waiter = asyncio.get_running_loop().create_future()
        data: bytes = await self.waiter
        return data

    async def handler(self) -> None:
        recv, write = self.recv, self.transport.write
        while True:
            data = await recv()
            if not data:
                self.transport.close()
                return
            write(data)


async def serve_protocol(address: str, factory: Any = EchoProtocol) -> None:
    loop = asyncio.get_running_loop()
    await serve_stdlib(address, loop.create_unix_server, loop.create_server, factory)


def main() -> None:
    kind, address, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    # Thousands of idle connections need more descriptors than the usual soft limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < limit + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if kind in ("threaded", "released", "held", "messages"):
        serve_netbasics(kind, address, limit)
    elif kind == "socketserver":
        serve_socketserver(address)
    elif kind == "asyncio":
        asyncio.run(serve_asyncio(address))
    elif kind in ("aio", "aio-messages"):
        asyncio.run(serve_aio(kind, address, limit))
    elif kind == "protocol":
        asyncio.run(serve_protocol(address))
    elif kind == "task":
        asyncio.run(serve_protocol(address, TaskProtocol))
    else:
        sys.exit(f"unknown server kind {kind!r}")


if __name__ == "__main__":
    main()
