"""Benchmark: echo over a Unix stream socket with UnixServer, against TCP loopback and socketserver.

Run by hand from the repository root on Linux (needs a C compiler once, for the load
generator)::

    python bench/unix_echo.py [--seconds 3] [--runs 3] [--pin]
                              [--client epoll|threads|both] [--scenarios 1,50,bulk] [--where]

One run starts each server in its own process:

* ``UnixServer``: netbasics ``UnixServer`` with a ``recv``/``send_all`` echo handler (a
  thread per connection), on a socket file in a fresh /tmp directory, as it ships: small
  sends keep the GIL while more than one connection is served (the held send);
* ``UnixServer (GIL released)``: the same server with ``NETBASICS_RELEASE_GIL=1`` in its
  process's environment only (the switch flipped: every send releases the GIL);
* ``UnixServer.for_messages``: message mode (one event-loop thread) with a
  ``LengthPrefixFramer`` and a ``respond`` that returns each message;
* ``TCPServer``: the same handler on 127.0.0.1 port 0, the same server on TCP loopback
  (as it ships; bench/tcp_echo.py has its switched variant);
* ``ThreadingUnixStreamServer``: stdlib socketserver with a ``BaseRequestHandler`` doing
  ``recv``/``sendall`` on the raw socket (the anchor; ``request_queue_size`` raised to
  1024, since its default of 5 refuses clients under load).

All are driven by one load generator (bench/_loadgen.c, compiled once and cached by
bench/_loadgen.py) in a separate process, with two clients (``--client``, default both):
``epoll``, all connections on one epoll loop in one thread, and ``threads``, a thread per
connection with blocking ``send``/``recv``. Each connection sends a message and waits for
the whole echo before sending the next (closed loop). Messages are length-prefixed (4-byte
big-endian length, then the body: ``LengthPrefixFramer``'s format), so the message-mode
server re-encodes exactly what the byte echoes return. Scenarios (``--scenarios``, default
all), each under each client: ``1`` and ``50``, round trips per second with 1 and 50
connections and 1 KiB messages; ``bulk``, MB/s (echoed payload, one direction) with 4
connections and 256 KiB messages.

Each figure is the median of ``--runs`` runs of ``--seconds`` seconds (after a warm-up of
a fifth of that); runs are interleaved server after server (each run starting with the
next server), so background load affects all alike, and each ratio is the median of the
ratios measured within one run. After the throughput table come, per server, the CPU
time, the voluntary / involuntary context switches and the run-queue wait (time
runnable but waiting for a CPU) per round trip, all read from /proc over the measured part
of each run only; ``--where`` adds a table of where the server's threads are (on a CPU,
waiting on a futex such as the GIL's, in a socket call, in poll), sampled every 5 ms,
which costs CPU (compare such runs only with each other). ``--pin`` puts each server on
one CPU, where the held send is off: the heading says, per netbasics server, whether it
is on. A run takes about servers x scenarios x clients x runs x 1.2 x seconds:
``--seconds 2 --runs 5 --scenarios 50`` about 2 minutes, all scenarios about 6.
Compare within one run.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The private helpers live beside this file; found also when run as python -m bench.unix_echo.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
import _loadgen

# Table column order; the keys also name the servers in the progress lines.
SERVERS = {
    "unix": ("threaded", "unix:{dir}/unix.sock"),
    "unix-released": ("released", "unix:{dir}/unix-released.sock"),
    "unix-messages": ("messages", "unix:{dir}/unix-messages.sock"),
    "tcp": ("threaded", "127.0.0.1:0"),
    "socketserver": ("socketserver", "unix:{dir}/socketserver.sock"),
}
HEADERS = (
    "UnixServer",
    "UnixServer (GIL released)",
    "UnixServer.for_messages",
    "TCPServer (TCP loopback)",
    "ThreadingUnixStreamServer",
)


def main() -> None:
    args = h.parser(__doc__).parse_args()
    binary = _loadgen.build("bench/unix_echo.py")
    load_cpus, server_cpus = h.cpu_sets(args.pin)
    rows = h.table_rows(args.scenarios, h.CLIENT_CHOICES[args.client])
    with h.servers(SERVERS, cpus=server_cpus) as running:
        measured = h.measure(binary, running, args.runs, args.seconds, load_cpus, rows, args.where)

    h.print_heading(args.runs, args.seconds, server_cpus is not None, running)
    header = ["scenario", "client", *HEADERS, "UnixServer vs ThreadingUnixStreamServer"]
    header += ["switched vs ThreadingUnixStreamServer", "default vs switched"]
    header += ["for_messages vs ThreadingUnixStreamServer", "UnixServer vs TCPServer"]
    ratios = [
        ("unix", "socketserver"),
        ("unix-released", "socketserver"),
        ("unix", "unix-released"),
        ("unix-messages", "socketserver"),
        ("unix", "tcp"),
    ]
    table = h.throughput_table(measured, list(SERVERS), rows, ratios)
    h.print_table(header, table)
    print("\nFigures are medians of the runs; ratios are medians of the per-run ratios.")
    h.print_costs(measured, dict(zip(SERVERS, HEADERS, strict=True)), "socketserver", rows)


if __name__ == "__main__":
    h.run("bench/unix_echo.py", main)
