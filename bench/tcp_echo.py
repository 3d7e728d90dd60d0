"""Benchmark: TCP echo servers built on netbasics TCPServer, socketserver and asyncio streams.

Run by hand from the repository root on Linux (needs a C compiler once, for the load
generator)::

    python bench/tcp_echo.py [--seconds 3] [--runs 3] [--idle 1000] [--pin]
                             [--client epoll|threads|both] [--scenarios 1,50,bulk] [--where]

One run starts each server in its own process, on 127.0.0.1 port 0:

* ``netbasics``: ``TCPServer`` with a ``recv``/``send_all`` echo handler (a thread per
  connection), as it ships: on TCP every send releases the GIL;
* ``held``: the same server with ``NETBASICS_HOLD_GIL=1`` in its process's environment
  only (the switch flipped: small sends keep the GIL while more than one connection is
  served, the held send of ``netbasics._io.held_send``, which Unix servers have by default);
* ``messages``: ``TCPServer.for_messages`` with a ``LengthPrefixFramer`` and a
  ``respond`` that returns each message (message mode: one event-loop thread);
* ``socketserver``: stdlib ``ThreadingTCPServer`` with a ``BaseRequestHandler`` doing
  ``recv``/``sendall`` on the raw socket (the fastest way to use it; ``request_queue_size``
  raised to 1024, since its default of 5 refuses clients under load);
* ``asyncio``: ``asyncio.start_server`` streams, ``read``/``write``/``drain``.

Every server echoes the same bytes. They are driven by the same load generator
(bench/_loadgen.c, compiled once and cached by bench/_loadgen.py) in a separate process,
with two clients (``--client``, default both): ``epoll`` runs all connections on one
epoll loop in one thread (a few microseconds per round trip; a connection's next message
leaves when the loop reaches its echo), ``threads`` runs a thread per connection with
blocking ``send``/``recv`` (each woken by the kernel when its echo arrives). Each
connection sends a message and waits for the whole echo before sending the next (closed
loop). Every message is length-prefixed (a 4-byte big-endian length, then that many
bytes: ``LengthPrefixFramer()``'s format, 1 KiB on the wire in all), so the message-mode
server decodes and re-encodes exactly what the byte echoes return. Scenarios
(``--scenarios``, default all), each under each client:

* ``1``, ``50``: round trips per second with 1 and with 50 connections, 1 KiB messages;
* ``bulk``: MB/s (echoed payload, one direction) with 4 connections and 256 KiB messages;
* server memory (RSS) idle, and with ``--idle`` idle connections held open by another
  process (each served one message first); ``--idle 0`` leaves this row out.

Each figure is the median of ``--runs`` runs of ``--seconds`` seconds (after a warm-up of
a fifth of that); the runs of the servers are interleaved, each run starting with the
next server, so background load on the machine affects all of them alike. The output is
Markdown: the throughput table, with the ratios of the default and the switched
``TCPServer`` to socketserver, of default to switched, and of message mode to socketserver
and asyncio (each the median of the ratios measured within one run); then per server the
CPU time, the voluntary / involuntary context switches and the run-queue wait (time
runnable but waiting for a CPU) per round trip, all read from /proc over the measured part
of each run only; ``--where`` adds a table of where the server's threads are (on a CPU,
waiting on a futex such as the GIL's, in a socket call, in poll), sampled every 5 ms,
which costs CPU (compare such runs only with each other). ``--pin`` puts each server on
one CPU, where the held send is off: the heading says, per netbasics server, whether it
is on. A run takes about servers x scenarios x clients x runs x 1.2 x seconds:
``--seconds 2 --runs 5 --scenarios 50`` about 2 minutes, all scenarios about 6.
Numbers on a shared or busy machine vary; compare within one run.
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
    "held": ("held", "127.0.0.1:0"),
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


HEADERS = ("TCPServer", "TCPServer (NETBASICS_HOLD_GIL=1)", "for_messages", "socketserver", "asyncio")


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
    rows = h.table_rows(args.scenarios, h.CLIENT_CHOICES[args.client])
    with h.servers(SERVERS, max(h.DEFAULT_MAX_CONNECTIONS, args.idle + 100), server_cpus) as running:
        measured = h.measure(binary, running, args.runs, args.seconds, load_cpus, rows, args.where)
        if args.idle > 0:
            memory = {name: idle_memory(binary, server, args.idle) for name, server in running.items()}

    h.print_heading(args.runs, args.seconds, server_cpus is not None, running)
    header = ["scenario", "client", *HEADERS]
    header += ["TCPServer vs socketserver", "switched vs socketserver", "default vs switched"]
    header += ["for_messages vs socketserver", "for_messages vs asyncio"]
    ratios = [
        ("netbasics", "socketserver"),
        ("held", "socketserver"),
        ("netbasics", "held"),
        ("messages", "socketserver"),
        ("messages", "asyncio"),
    ]
    table = h.throughput_table(measured, list(SERVERS), rows, ratios)
    if memory:
        cells = [
            f"{after / 1024:.1f} MiB (+{(after - before) / args.idle:.1f} KiB/conn)"
            for before, after in memory.values()
        ]
        table.append([f"RSS with {args.idle} idle connections", "", *cells, "", "", "", "", ""])
    h.print_table(header, table)
    print("\nRatios are medians of the per-run ratios (each pair measured in the same run).")
    h.print_costs(measured, dict(zip(SERVERS, HEADERS, strict=True)), "socketserver", rows)


if __name__ == "__main__":
    h.run("bench/tcp_echo.py", main)
