"""Benchmark: echo over a Unix stream socket with UnixServer, against TCP loopback and socketserver.

Run by hand from the repository root (needs gcc for the load generator)::

    python bench/unix_echo.py [--seconds 3] [--runs 3]

One run starts each server in its own process:

* ``UnixServer``: netbasics ``UnixServer`` with a ``recv``/``send_all`` echo handler (a
  thread per connection), on a socket file in a fresh /tmp directory;
* ``UnixServer.for_messages``: message mode (one event-loop thread) with a
  ``LengthPrefixFramer`` and a ``respond`` that returns each message;
* ``TCPServer``: the same handler on 127.0.0.1 port 0, the same server on TCP loopback;
* ``ThreadingUnixStreamServer``: stdlib socketserver with a ``BaseRequestHandler`` doing
  ``recv``/``sendall`` on the raw socket (the anchor; ``request_queue_size`` raised to
  1024, since its default of 5 refuses clients under load).

All are driven by one load generator, a small C program compiled at run time that runs
its connections on one epoll loop in a separate process (so the client costs a few
microseconds per round trip). Each connection sends a message and waits for the whole
echo before sending the next (closed loop). Messages are length-prefixed (4-byte
big-endian length, then the body: ``LengthPrefixFramer``'s format), so the message-mode
server re-encodes exactly what the byte echoes return. Scenarios: round trips per second
with 1 and 50 connections and 1 KiB messages; MB/s (echoed payload, one direction) with 4
connections and 256 KiB messages.

Each figure is the median of ``--runs`` runs of ``--seconds`` seconds (after a warm-up of
a fifth of that); runs are interleaved server after server (each run starting with the
next server), so background load affects all alike, and each ratio is the median of the
ratios measured within one run. Compare within one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
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
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* usage: load TARGET CONNS MSGSIZE SECONDS, TARGET "unix:/path" or "host:port".
   Each connection: send one length-prefixed message, read the whole echo, repeat. */
struct peer { int fd; size_t out, in; };

static double clock_now(void) {
    struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9;
}

static int open_conn(const char *target) {
    int fd;
    if (strncmp(target, "unix:", 5) == 0) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        strncpy(sun.sun_path, target + 5, sizeof sun.sun_path - 1);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&sun, sizeof sun)) { perror("connect"); exit(1); }
    } else {
        char host[256]; const char *colon = strrchr(target, ':');
        snprintf(host, sizeof host, "%.*s", (int)(colon - target), target);
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV}, *ai;
        if (getaddrinfo(host, colon + 1, &hints, &ai)) { fprintf(stderr, "bad target\n"); exit(2); }
        fd = socket(ai->ai_family, SOCK_STREAM, 0);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen)) { perror("connect"); exit(1); }
        int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static void arm(int ep, struct peer *p, int i, unsigned events) {
    struct epoll_event ev = {.events = events, .data.u32 = (unsigned)i};
    epoll_ctl(ep, EPOLL_CTL_MOD, p->fd, &ev);
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: load TARGET CONNS MSGSIZE SECONDS\n"); return 2; }
    int n = atoi(argv[2]); size_t size = strtoul(argv[3], 0, 10); double seconds = atof(argv[4]);
    if (size < 5) { fprintf(stderr, "MSGSIZE must be at least 5\n"); return 2; }
    char *msg = malloc(size), *sink = malloc(1 << 16);
    memset(msg, 'm', size);
    size_t body = size - 4;
    msg[0] = (char)(body >> 24); msg[1] = (char)(body >> 16); msg[2] = (char)(body >> 8); msg[3] = (char)body;
    struct peer *peers = calloc(n, sizeof *peers);
    int ep = epoll_create1(0);
    for (int i = 0; i < n; i++) {
        peers[i].fd = open_conn(argv[1]);
        struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (unsigned)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, peers[i].fd, &ev);
    }
    double start = clock_now() + seconds * 0.2, stop = start + seconds;
    long long trips = 0; int measuring = 0;
    struct epoll_event events[256];
    while (1) {
        double t = clock_now();
        if (!measuring && t >= start) { measuring = 1; trips = 0; }
        if (t >= stop) break;
        int k = epoll_wait(ep, events, 256, 100);
        if (k < 0) { if (errno == EINTR) continue; perror("epoll_wait"); return 1; }
        for (int j = 0; j < k; j++) {
            int i = (int)events[j].data.u32; struct peer *p = &peers[i];
            if (events[j].events & (EPOLLERR | EPOLLHUP)) { fprintf(stderr, "connection failed\n"); return 1; }
            if ((events[j].events & EPOLLOUT) && p->out < size) {
                ssize_t r = send(p->fd, msg + p->out, size - p->out, MSG_NOSIGNAL);
                if (r < 0 && errno != EAGAIN) { perror("send"); return 1; }
                if (r > 0 && (p->out += (size_t)r) == size) arm(ep, p, i, EPOLLIN);
            }
            if (events[j].events & EPOLLIN) {
                while (p->in < size) {
                    size_t want = size - p->in;
                    ssize_t r = recv(p->fd, sink, want < (1 << 16) ? want : (1 << 16), 0);
                    if (r == 0) { fprintf(stderr, "server closed\n"); return 1; }
                    if (r < 0) { if (errno == EAGAIN) break; perror("recv"); return 1; }
                    p->in += (size_t)r;
                }
                if (p->in == size) {
                    trips++; p->in = 0; p->out = 0;
                    arm(ep, p, i, EPOLLOUT);
                }
            }
        }
    }
    printf("%lld %.6f\n", trips, clock_now() - start);
    return 0;
}
"""

SERVER = r"""
import os, socket, socketserver, sys

kind, where = sys.argv[1], sys.argv[2]


def echo(conn):
    recv, send = conn.recv, conn.send_all
    while True:
        data = recv()
        if not data:
            return
        send(data)


if kind == "unix":
    from netbasics import UnixServer

    server = UnixServer(f"unix:{where}", echo, max_connections=1100, backlog=2048)
    print(f"unix:{where}", flush=True)
    server.serve_forever()
elif kind == "unix-messages":
    from netbasics import LengthPrefixFramer, UnixServer

    server = UnixServer.for_messages(
        f"unix:{where}", lambda message, peer: message, framer=LengthPrefixFramer(), max_connections=1100, backlog=2048
    )
    print(f"unix:{where}", flush=True)
    server.serve_forever()
elif kind == "tcp":
    from netbasics import TCPServer

    server = TCPServer("127.0.0.1:0", echo, max_connections=1100, backlog=2048)
    print(f"127.0.0.1:{server.endpoint.port}", flush=True)
    server.serve_forever()
else:
    class Echo(socketserver.BaseRequestHandler):
        def handle(self):
            sock = self.request
            try:
                while True:
                    data = sock.recv(65536)
                    if not data:
                        return
                    sock.sendall(data)
            except OSError:
                return

    class Server(socketserver.ThreadingUnixStreamServer):
        daemon_threads = True
        request_queue_size = 1024

    server = Server(where, Echo)
    print(f"unix:{where}", flush=True)
    server.serve_forever()
"""

KINDS = ("unix", "unix-messages", "tcp", "socketserver")
HEADERS = ("UnixServer", "UnixServer.for_messages", "TCPServer (TCP loopback)", "ThreadingUnixStreamServer")
SCENARIOS = (
    ("1 conn, 1 KiB: round trips/s", 1, 1024),
    ("50 conns, 1 KiB: round trips/s", 50, 1024),
    ("4 conns, 256 KiB: MB/s", 4, 256 * 1024),
)


def start_server(kind: str, where: str) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent / "src"))
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, kind, where],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def run_load(load: Path, target: str, conns: int, size: int, seconds: float) -> float:
    out = subprocess.run(
        [str(load), target, str(conns), str(size), str(seconds)],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds * 3 + 30,
    ).stdout.split()
    trips, elapsed = int(out[0]), float(out[1])
    if size >= 65536:
        return trips * size / elapsed / 1e6
    return trips / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per run (default 3)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; the median is reported (default 3)")
    args = parser.parse_args()
    if shutil.which("gcc") is None:
        sys.exit("bench/unix_echo.py needs gcc to build its load generator")
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        load = Path(tmp) / "load"
        (Path(tmp) / "load.c").write_text(LOAD_C)
        subprocess.run(["gcc", "-O2", "-o", str(load), str(Path(tmp) / "load.c")], check=True)
        samples = {kind: {label: [] for label, _, _ in SCENARIOS} for kind in KINDS}
        servers = {kind: start_server(kind, f"{tmp}/{kind}.sock") for kind in KINDS}
        try:
            for run in range(args.runs):
                for label, conns, size in SCENARIOS:
                    # Each run starts with the next server, so none is always first.
                    for kind in KINDS[run % len(KINDS) :] + KINDS[: run % len(KINDS)]:
                        figure = run_load(load, servers[kind][1], conns, size, args.seconds)
                        samples[kind][label].append(figure)
                        print(f"run {run + 1} {kind:14} {label:32} {figure:10.0f}", file=sys.stderr)
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(10)
    results = {kind: {label: statistics.median(v) for label, v in by.items()} for kind, by in samples.items()}

    def ratio(kind: str, anchor: str, label: str) -> float:
        """The median of the per-run ratios: the two figures of a run were measured seconds apart."""
        pairs = zip(samples[kind][label], samples[anchor][label], strict=True)
        return statistics.median(mine / theirs for mine, theirs in pairs)

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, medians of {args.runs} x {args.seconds:g} s\n")
    print(
        "| scenario | " + " | ".join(HEADERS) + " | UnixServer vs ThreadingUnixStreamServer "
        "| for_messages vs ThreadingUnixStreamServer | UnixServer vs TCPServer |"
    )
    print("|---|" + "---:|" * (len(HEADERS) + 3))
    for label, _, _ in SCENARIOS:
        unix, msgs, tcp, anchor = (results[kind][label] for kind in KINDS)
        print(
            f"| {label} | {unix:,.0f} | {msgs:,.0f} | {tcp:,.0f} | {anchor:,.0f} "
            f"| {ratio('unix', 'socketserver', label):.2f}x | {ratio('unix-messages', 'socketserver', label):.2f}x "
            f"| {ratio('unix', 'tcp', label):.2f}x |"
        )
    print("\nFigures are medians of the runs; ratios are medians of the per-run ratios.")


if __name__ == "__main__":
    main()
