"""Benchmark: TCP echo servers built on netbasics TCPServer, socketserver and asyncio streams.

Run by hand from the repository root (needs gcc for the load generator)::

    python bench/tcp_echo.py [--seconds 3] [--runs 3] [--idle 1000]

One run starts each server in its own process, on 127.0.0.1 port 0:

* ``netbasics``: ``TCPServer`` with a ``recv``/``send_all`` echo handler (a thread per
  connection);
* ``messages``: ``TCPServer.for_messages`` with a ``LengthPrefixFramer`` and a
  ``respond`` that returns each message (message mode: one event-loop thread);
* ``socketserver``: stdlib ``ThreadingTCPServer`` with a ``BaseRequestHandler`` doing
  ``recv``/``sendall`` on the raw socket (the fastest way to use it; ``request_queue_size``
  raised to 1024, since its default of 5 refuses clients under load);
* ``asyncio``: ``asyncio.start_server`` streams, ``read``/``write``/``drain``.

Every server echoes the same bytes. They are driven by the same load generator, a small C
program compiled at run time that runs its connections on one epoll loop in a separate
process, so the client side costs a few microseconds per round trip and is not the
bottleneck. Each connection sends a message and waits for the whole echo before sending
the next (closed loop). Every message is length-prefixed (a 4-byte big-endian length,
then that many bytes: ``LengthPrefixFramer()``'s format, 1 KiB on the wire in all), so
the message-mode server decodes and re-encodes exactly what the byte echoes return.
Scenarios:

* round trips per second with 1 and with 50 connections, 1 KiB messages;
* MB/s (echoed payload, one direction) with 4 connections and 256 KiB messages;
* server memory (RSS) idle, and with ``--idle`` idle connections held open by another
  process.

Each figure is the median of ``--runs`` runs of ``--seconds`` seconds (after a warm-up of
a fifth of that); the runs of the servers are interleaved, one after the other,
so background load on the machine affects all of them alike. The output is a Markdown table with the ratios of both netbasics servers to
socketserver and of message mode to asyncio, each the median of the ratios measured within one run. Numbers on a
shared or busy machine vary; compare within one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOAD_C = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Closed-loop echo load: each connection sends one message, reads the whole echo, repeats. */
typedef struct { int fd; size_t sent, rcvd; } conn_t;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static void want(int ep, conn_t *c, int i, unsigned events) {
    struct epoll_event ev = {.events = events, .data.u32 = (unsigned)i};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: load HOST PORT CONNS MSGSIZE SECONDS\n"); return 2; }
    int n = atoi(argv[3]); size_t msg = strtoul(argv[4], 0, 10); double secs = atof(argv[5]);
    struct addrinfo hints = {0}, *ai;
    hints.ai_socktype = SOCK_STREAM; hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(argv[1], argv[2], &hints, &ai)) { fprintf(stderr, "bad address\n"); return 2; }
    char *out = malloc(msg), *in = malloc(65536);
    if (msg < 4) { fprintf(stderr, "MSGSIZE must be at least 4\n"); return 2; }
    memset(out, 'x', msg);
    /* A 4-byte big-endian length header, then the body: one LengthPrefixFramer message. */
    size_t body = msg - 4;
    out[0] = (char)(body >> 24); out[1] = (char)(body >> 16); out[2] = (char)(body >> 8); out[3] = (char)body;
    conn_t *c = calloc(n, sizeof *c);
    int ep = epoll_create1(0), one = 1;
    for (int i = 0; i < n; i++) {
        int fd = socket(ai->ai_family, SOCK_STREAM, 0);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen)) { perror("connect"); return 1; }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(fd, F_SETFL, O_NONBLOCK);
        c[i].fd = fd;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (unsigned)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    double warm = now() + secs * 0.2, end = warm + secs;
    long long done = 0; int counting = 0;
    struct epoll_event evs[256];
    for (;;) {
        double t = now();
        if (!counting && t >= warm) { counting = 1; done = 0; }
        if (t >= end) break;
        int k = epoll_wait(ep, evs, 256, 100);
        if (k < 0) { if (errno == EINTR) continue; perror("epoll_wait"); return 1; }
        for (int j = 0; j < k; j++) {
            int i = (int)evs[j].data.u32; conn_t *x = &c[i];
            if (evs[j].events & (EPOLLERR | EPOLLHUP)) { fprintf(stderr, "connection error\n"); return 1; }
            if ((evs[j].events & EPOLLOUT) && x->sent < msg) {
                ssize_t r = send(x->fd, out + x->sent, msg - x->sent, MSG_NOSIGNAL);
                if (r > 0) { x->sent += r; if (x->sent == msg) want(ep, x, i, EPOLLIN); }
                else if (r < 0 && errno != EAGAIN) { perror("send"); return 1; }
            }
            if (evs[j].events & EPOLLIN) {
                for (;;) {
                    size_t left = msg - x->rcvd;
                    ssize_t r = recv(x->fd, in, left < 65536 ? left : 65536, 0);
                    if (r > 0) {
                        x->rcvd += r;
                        if (x->rcvd == msg) {
                            done++; x->rcvd = 0; x->sent = 0;
                            ssize_t s = send(x->fd, out, msg, MSG_NOSIGNAL);
                            if (s > 0) x->sent = s;
                            if (x->sent < msg) want(ep, x, i, EPOLLIN | EPOLLOUT);
                            break;
                        }
                    } else if (r == 0) { fprintf(stderr, "server closed\n"); return 1; }
                    else { if (errno == EAGAIN) break; perror("recv"); return 1; }
                }
            }
        }
    }
    printf("%lld %.6f\n", done, now() - warm);
    for (int i = 0; i < n; i++) close(c[i].fd);
    return 0;
}
"""

SERVER = r"""
import asyncio, socket, socketserver, sys

kind = sys.argv[1]
if kind == "netbasics":
    from netbasics import TCPServer

    def echo(conn):
        recv, send = conn.recv, conn.send_all
        while True:
            data = recv()
            if not data:
                return
            send(data)

    server = TCPServer("127.0.0.1:0", echo, max_connections=1100, backlog=2048)
    print(server.endpoint.port, flush=True)
    server.serve_forever()
elif kind == "messages":
    from netbasics import LengthPrefixFramer, TCPServer

    def respond(message, peer):
        return message

    server = TCPServer.for_messages(
        "127.0.0.1:0", respond, framer=LengthPrefixFramer(), max_connections=1100, backlog=2048
    )
    print(server.endpoint.port, flush=True)
    server.serve_forever()
elif kind == "socketserver":
    class Echo(socketserver.BaseRequestHandler):
        def handle(self):
            sock = self.request
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                while True:
                    data = sock.recv(65536)
                    if not data:
                        return
                    sock.sendall(data)
            except OSError:
                return

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 1024

    server = Server(("127.0.0.1", 0), Echo)
    print(server.server_address[1], flush=True)
    server.serve_forever()
else:
    async def echo(reader, writer):
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

    async def main():
        server = await asyncio.start_server(echo, "127.0.0.1", 0, backlog=2048)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(main())
"""

IDLE_CLIENTS = r"""
import socket, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
for sock in held:
    sock.sendall(b"\x00\x00\x00\x01x")  # one length-prefixed message, echoed by every server
for sock in held:
    sock.recv(1)
print("ready", flush=True)
sys.stdin.readline()
"""

KINDS = ("netbasics", "messages", "socketserver", "asyncio")
SCENARIOS = (
    ("1 conn, 1 KiB: round trips/s", 1, 1024),
    ("50 conns, 1 KiB: round trips/s", 50, 1024),
    ("4 conns, 256 KiB: MB/s", 4, 256 * 1024),
)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def start_server(kind: str) -> tuple[subprocess.Popen[str], int]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent / "src"))
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, kind], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def run_load(load: Path, port: int, conns: int, size: int, seconds: float) -> float:
    out = subprocess.run(
        [str(load), "127.0.0.1", str(port), str(conns), str(size), str(seconds)],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds * 3 + 30,
    ).stdout.split()
    done, elapsed = int(out[0]), float(out[1])
    if size >= 65536:
        return done * size / elapsed / 1e6
    return done / elapsed


def idle_memory(port: int, pid: int, count: int) -> tuple[int, int]:
    before = rss_kib(pid)
    proc = subprocess.Popen(
        [sys.executable, "-c", IDLE_CLIENTS, str(port), str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdin is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    after = rss_kib(pid)
    proc.stdin.write("\n")
    proc.stdin.flush()
    proc.wait(30)
    return before, after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per run (default 3)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; the median is reported (default 3)")
    parser.add_argument(
        "--idle", type=int, default=1000, help="idle connections for the memory figure (0: no memory figure)"
    )
    args = parser.parse_args()
    if shutil.which("gcc") is None:
        sys.exit("bench/tcp_echo.py needs gcc to build its load generator")
    with tempfile.TemporaryDirectory() as tmp:
        load = Path(tmp) / "load"
        (Path(tmp) / "load.c").write_text(LOAD_C)
        subprocess.run(["gcc", "-O2", "-o", str(load), str(Path(tmp) / "load.c")], check=True)
        samples: dict[str, dict[str, list[float]]] = {kind: {label: [] for label, _, _ in SCENARIOS} for kind in KINDS}
        memory: dict[str, tuple[int, int]] = {}
        servers = {kind: start_server(kind) for kind in KINDS}
        try:
            # Interleaved (run, scenario, server) so that noise from other processes on
            # the machine spreads evenly over the three servers.
            for run in range(args.runs):
                for label, conns, size in SCENARIOS:
                    # Rotate the order each run, so that no server always runs first (or
                    # right after the same neighbour) when the machine's load drifts.
                    order = KINDS[run % len(KINDS) :] + KINDS[: run % len(KINDS)]
                    for kind in order:
                        figure = run_load(load, servers[kind][1], conns, size, args.seconds)
                        samples[kind][label].append(figure)
                        print(f"run {run + 1} {kind:13} {label:32} {figure:10.0f}", file=sys.stderr)
            if args.idle > 0:
                for kind in KINDS:
                    proc, port = servers[kind]
                    memory[kind] = idle_memory(port, proc.pid, args.idle)
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(10)
        results = {kind: {label: statistics.median(v) for label, v in by.items()} for kind, by in samples.items()}

    def ratio(kind: str, anchor: str, label: str) -> float:
        """The median of the per-run ratios: each run's pair was measured moments apart."""
        return statistics.median(a / b for a, b in zip(samples[kind][label], samples[anchor][label], strict=True))

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, medians of {args.runs} x {args.seconds:g} s\n")
    print(
        "| scenario | TCPServer | for_messages | socketserver | asyncio "
        "| TCPServer vs socketserver | for_messages vs socketserver | for_messages vs asyncio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, _, _ in SCENARIOS:
        nb, msg, ss, aio = (results[kind][label] for kind in KINDS)
        print(
            f"| {label} | {nb:,.0f} | {msg:,.0f} | {ss:,.0f} | {aio:,.0f} "
            f"| {ratio('netbasics', 'socketserver', label):.2f}x "
            f"| {ratio('messages', 'socketserver', label):.2f}x "
            f"| {ratio('messages', 'asyncio', label):.2f}x |"
        )
    if memory:  # --idle 0 skips the memory figure
        row = " | ".join(
            f"{memory[k][1] / 1024:.1f} MiB (+{(memory[k][1] - memory[k][0]) / args.idle:.1f} KiB/conn)" for k in KINDS
        )
        print(f"| RSS with {args.idle} idle connections | {row} | | | |")
    print("\nRatios are medians of the per-run ratios (each pair measured in the same run).")


if __name__ == "__main__":
    main()
