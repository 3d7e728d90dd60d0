"""Benchmark: TCP echo servers built on netbasics TCPServer, socketserver and asyncio streams.

Run by hand from the repository root on Linux (needs a C compiler once, for the load
generator)::

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

Every server echoes the same bytes. They are driven by the same load generator
(bench/_loadgen.c, compiled once and cached by bench/_loadgen.py), which runs its
connections on one epoll loop in a separate process, so the client side costs a few
microseconds per round trip and is not the bottleneck. Each connection sends a message
and waits for the whole echo before sending the next (closed loop). Every message is
length-prefixed (a 4-byte big-endian length, then that many bytes:
``LengthPrefixFramer()``'s format, 1 KiB on the wire in all), so the message-mode server
decodes and re-encodes exactly what the byte echoes return. Scenarios:

* round trips per second with 1 and with 50 connections, 1 KiB messages;
* MB/s (echoed payload, one direction) with 4 connections and 256 KiB messages;
* server memory (RSS) idle, and with ``--idle`` idle connections held open by another
  process (each served one message first); ``--idle 0`` leaves this row out.

Each figure is the median of ``--runs`` runs of ``--seconds`` seconds (after a warm-up of
a fifth of that); the runs of the servers are interleaved, each run starting with the
next server, so background load on the machine affects all of them alike. The output is
a Markdown table with the ratios of both netbasics servers to socketserver and of
message mode to asyncio, each the median of the ratios measured within one run. Numbers
on a shared or busy machine vary; compare within one run.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

# The private helpers live beside this file; found also when run as python -m bench.tcp_echo.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
import _loadgen

# Table column order; the keys also name the servers in the progress lines.
SERVERS = {
    "netbasics": ("threaded", "127.0.0.1:0"),
    "messages": ("messages", "127.0.0.1:0"),
    "socketserver": ("socketserver", "127.0.0.1:0"),
    "asyncio": ("asyncio", "127.0.0.1:0"),
}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def idle_memory(binary: Path, server: h.Server, count: int) -> tuple[int, int]:
    """The server's RSS in KiB before and while ``count`` idle connections are held open."""
    before = rss_kib(server.proc.pid)
    with _loadgen.hold(binary, server.target, count):
        time.sleep(0.5)
        after = rss_kib(server.proc.pid)
    return before, after


def main() -> None:
    parser = h.parser(__doc__)
    parser.add_argument(
        "--idle",
        type=h.int_at_least(0),
        default=1000,
        help="idle connections for the memory figure (0: no memory figure)",
    )
    args = parser.parse_args()
    # The load generator and each server need a descriptor per idle connection, and more.
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    most = hard - 100
    if hard != resource.RLIM_INFINITY and args.idle > most:
        parser.error(f"argument --idle: {args.idle} is above {most} (the hard limit on open files, less 100)")
    binary = _loadgen.build("bench/tcp_echo.py")
    memory: dict[str, tuple[int, int]] = {}
    # Every server must accept all the idle connections at once (a hundred to spare).
    load_cpus, server_cpus = h.cpu_sets(args.pin)
    with h.servers(SERVERS, max(h.DEFAULT_MAX_CONNECTIONS, args.idle + 100), server_cpus) as running:
        samples, costs = h.measure(binary, running, args.runs, args.seconds, load_cpus)
        if args.idle > 0:
            memory = {name: idle_memory(binary, server, args.idle) for name, server in running.items()}

    h.print_heading(args.runs, args.seconds, server_cpus is not None)
    header = ["scenario", "TCPServer", "for_messages", "socketserver", "asyncio"]
    header += ["TCPServer vs socketserver", "for_messages vs socketserver", "for_messages vs asyncio"]
    rows = [
        [
            s.label,
            *(h.median(samples, name, s.label) for name in SERVERS),
            h.ratio(samples, "netbasics", "socketserver", s.label),
            h.ratio(samples, "messages", "socketserver", s.label),
            h.ratio(samples, "messages", "asyncio", s.label),
        ]
        for s in h.SCENARIOS
    ]
    if memory:
        cells = [
            f"{after / 1024:.1f} MiB (+{(after - before) / args.idle:.1f} KiB/conn)"
            for before, after in memory.values()
        ]
        rows.append([f"RSS with {args.idle} idle connections", *cells, "", "", ""])
    h.print_table(header, rows)
    print("\nRatios are medians of the per-run ratios (each pair measured in the same run).")
    h.print_costs(costs, dict(zip(SERVERS, header[1:5], strict=True)), "socketserver")


if __name__ == "__main__":
    h.run("bench/tcp_echo.py", main)
