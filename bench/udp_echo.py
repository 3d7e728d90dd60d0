"""Benchmark: UDP echo throughput of netbasics.UDPServer against stdlib socketserver.

Run by hand from the repository root (Linux)::

    python bench/udp_echo.py [--runs 9] [--burst64 8000] [--burst1400 3000]

Each server runs in its own process, bound to 127.0.0.1 port 0, with the simplest echo
handler its API allows:

* ``netbasics.UDPServer`` (``workers=1`` and ``workers=2``): ``reply(datagram.data)``.
  With one worker on Linux it receives with ``recvmmsg`` and replies with ``sendmmsg``,
  in batches of up to 64 datagrams; the ``NETBASICS_NO_MMSG=1`` row is the same server
  with batches switched off (one ``recvfrom``/``sendto`` per datagram, as on other
  systems and with more workers);
* ``socketserver.UDPServer`` and ``socketserver.ThreadingUDPServer`` with a
  ``BaseRequestHandler`` calling ``sock.sendto(data, self.client_address)`` (the
  lightest stdlib handler: no ``BytesIO`` files as in ``DatagramRequestHandler``);
* a bare ``recvfrom``/``sendto`` loop: the ceiling for any Python server.

Method: on a two-core machine a load generator written in Python costs about as much
per datagram as the server, so a closed loop measures the generator as much as the
server. Here the generator, in a separate process, does its work *before* the clock
starts: it fills the server's receive queue (``SO_RCVBUF`` raised to 8 MiB) with a burst
of datagrams while the server is bound but not yet serving. The server process then
notes the time and starts serving; the generator receives the echoes and takes the
kernel's arrival timestamp (``SO_TIMESTAMPNS``) of the last one, so how fast it reads
them does not matter. Echoes/s = echoes / (last arrival - start). Datagrams never echoed
(after 0.3 s of silence) are counted as lost. Server CPU time per echo is reported too.

Runs are interleaved across servers, so drift in machine load hits all of them alike,
and the medians of ``--runs`` runs are reported, with ratios to ``socketserver.UDPServer``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import socket
import socketserver
import statistics
import struct
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

import netbasics
from netbasics import Datagram, UDPServer

QUEUE_BYTES = 8 << 20  # SO_RCVBUF asked for; Linux caps it at net.core.rmem_max
BASELINE = "socketserver.UDPServer"
# SO_TIMESTAMPNS (== SCM_TIMESTAMPNS) from <asm-generic/socket.h>; the socket module does
# not export it. If the kernel sends no timestamp, the time of reading is used instead.
SO_TIMESTAMPNS: int = getattr(socket, "SO_TIMESTAMPNS", 35)


# -- servers, each run in a child process ----------------------------------------------------
#
# Protocol with the parent: send the port; wait for "go"; send the wall-clock start time
# (time.time_ns, comparable with SO_TIMESTAMPNS) and start serving; wait for "cpu?";
# send the process CPU time used since "go".


def _echo(datagram: Datagram, reply: netbasics.Reply) -> None:
    reply(datagram.data)


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        sock.sendto(data, self.client_address)


def _serve_netbasics(workers: int, batched: bool = True) -> Callable[[Connection], None]:
    def serve(conn: Connection) -> None:
        if not batched:
            os.environ["NETBASICS_NO_MMSG"] = "1"  # in this child process only
        server = UDPServer("127.0.0.1:0", _echo, workers=workers, receive_buffer=QUEUE_BYTES)
        conn.send(server.endpoint.port)
        conn.recv()
        cpu = time.process_time()
        conn.send(time.time_ns())
        server.start()
        conn.recv()
        conn.send(time.process_time() - cpu)
        server.stop()

    return serve


def _serve_socketserver(cls: type[socketserver.UDPServer]) -> Callable[[Connection], None]:
    def serve(conn: Connection) -> None:
        server = cls(("127.0.0.1", 0), _EchoHandler)
        server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, QUEUE_BYTES)
        conn.send(server.server_address[1])
        conn.recv()
        cpu = time.process_time()
        conn.send(time.time_ns())
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        conn.recv()
        conn.send(time.process_time() - cpu)
        server.shutdown()
        server.server_close()

    return serve


def _serve_bare(conn: Connection) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, QUEUE_BYTES)
    sock.bind(("127.0.0.1", 0))

    def loop() -> None:
        recvfrom, sendto = sock.recvfrom, sock.sendto
        while True:
            data, addr = recvfrom(65535)
            sendto(data, addr)

    conn.send(sock.getsockname()[1])
    conn.recv()
    cpu = time.process_time()
    conn.send(time.time_ns())
    threading.Thread(target=loop, daemon=True).start()
    conn.recv()
    conn.send(time.process_time() - cpu)


SERVERS: dict[str, Callable[[Connection], None]] = {
    "netbasics UDPServer (workers=1)": _serve_netbasics(1),
    "netbasics UDPServer (workers=1, NETBASICS_NO_MMSG=1)": _serve_netbasics(1, batched=False),
    "netbasics UDPServer (workers=2)": _serve_netbasics(2),
    "socketserver.UDPServer": _serve_socketserver(socketserver.UDPServer),
    "socketserver.ThreadingUDPServer": _serve_socketserver(socketserver.ThreadingUDPServer),
    "bare recvfrom/sendto loop": _serve_bare,
}


# -- the load generator, in its own process ----------------------------------------------------


def _generate(port: int, size: int, count: int, conn: Connection) -> None:
    """Fill the server's queue with ``count`` datagrams, then collect the echoes' arrival times."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, QUEUE_BYTES)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.connect(("127.0.0.1", port))
    payload = b"x" * size
    for _ in range(count):
        sock.send(payload)
    conn.send("filled")
    sock.settimeout(5.0)  # the first echo: allow for a slow server start
    received = 0
    last_ns = 0
    cmsg_size = socket.CMSG_SPACE(16)
    try:
        while True:
            _data, ancdata, _flags, _addr = sock.recvmsg(2048, cmsg_size)
            received += 1
            last_ns = time.time_ns()
            for level, kind, cdata in ancdata:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(cdata) >= 16:
                    sec, nsec = struct.unpack("qq", cdata[:16])
                    last_ns = sec * 1_000_000_000 + nsec
            sock.settimeout(0.3)
    except TimeoutError:
        pass
    sock.close()
    conn.send((received, last_ns))


def run_once(name: str, size: int, count: int) -> tuple[float, float, float]:
    """One burst: (echoes per second, lost fraction, server CPU microseconds per echo)."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=SERVERS[name], args=(child,), daemon=True)
    server.start()
    gen_parent, gen_child = ctx.Pipe()
    generator: mp.process.BaseProcess | None = None
    try:
        if not parent.poll(10):
            raise RuntimeError(f"{name} did not start")
        port = parent.recv()
        generator = ctx.Process(target=_generate, args=(port, size, count, gen_child), daemon=True)
        generator.start()
        if not gen_parent.poll(30) or gen_parent.recv() != "filled":
            raise RuntimeError("load generator did not fill the queue")
        parent.send("go")
        start_ns = parent.recv()
        if not gen_parent.poll(120):
            raise RuntimeError("load generator did not finish")
        received, last_ns = gen_parent.recv()
        parent.send("cpu?")
        server_cpu = parent.recv()
    finally:
        for proc in (generator, server):
            if proc is not None:
                proc.join(5)
                if proc.is_alive():
                    proc.kill()
                    proc.join(5)
    elapsed = max(last_ns - start_ns, 1) / 1e9
    rate = received / elapsed if received else 0.0
    return rate, (count - received) / count, server_cpu / max(received, 1) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=9, help="bursts per server and size; medians reported (default 9)")
    parser.add_argument("--burst64", type=int, default=8000, help="64-byte datagrams per burst (default 8000)")
    parser.add_argument("--burst1400", type=int, default=3000, help="1,400-byte datagrams per burst (default 3000)")
    parser.add_argument("--servers", nargs="*", default=list(SERVERS), help="subset of servers to run")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        print("this benchmark needs Linux (SO_TIMESTAMPNS, fork)", file=sys.stderr)
        return 2

    print(
        f"UDP echo on 127.0.0.1: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"medians of {args.runs} interleaved bursts per cell\n"
    )
    for size, count in ((64, args.burst64), (1400, args.burst1400)):
        samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in args.servers}
        for _ in range(args.runs):
            for name in args.servers:
                samples[name].append(run_once(name, size, count))
        medians = {
            name: tuple(statistics.median(run[i] for run in runs) for i in range(3)) for name, runs in samples.items()
        }
        base = medians.get(BASELINE)
        print(f"{size}-byte datagrams, bursts of {count}:\n")
        print("| server | echoes/s | lost | server CPU us/echo | x socketserver.UDPServer (rate) | (CPU) |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, (rate, lost, cpu) in medians.items():
            by_rate = f"{rate / base[0]:.2f}x" if base and base[0] else "-"
            by_cpu = f"{base[2] / cpu:.2f}x" if base and cpu else "-"
            print(f"| {name} | {rate:,.0f} | {lost:.1%} | {cpu:.2f} | {by_rate} | {by_cpu} |")
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
