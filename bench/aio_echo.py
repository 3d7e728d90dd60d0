"""Benchmark: netbasics.aio echo servers against asyncio streams and a bare asyncio Protocol (the ceiling).

Run by hand from the repository root on Linux (needs a C compiler once, for the load
generator)::

    python bench/aio_echo.py [--seconds 3] [--runs 3] [--pin] [--unix]
                             [--client epoll|threads|both] [--scenarios 1,50,bulk] [--where]

One run starts each server in its own process (bench/_echo_server.py), on 127.0.0.1
port 0 (``--unix``: a Unix socket):

* ``aio``: ``netbasics.aio.TCPServer`` with an ``async`` ``recv``/``send_all`` echo
  handler: a task per connection, the default idle deadline (60 s) and connection limit on;
* ``aio for_messages``: ``netbasics.aio.TCPServer.for_messages`` with a
  ``LengthPrefixFramer`` and a plain ``respond`` returning each message;
* ``asyncio``: ``asyncio.start_server`` streams with a ``read``/``write``+``drain`` echo;
* ``Protocol``: a bare ``asyncio.Protocol`` whose ``data_received`` writes the data back
  (no deadlines, no limits, no framing): the ceiling for anything on asyncio.
* ``task floor``: a bare ``Protocol`` handing each chunk to a task per connection through
  a future (no deadlines, no limits, no buffer): the floor of any ``async def handler(conn)``
  design on asyncio; ``aio`` cannot beat it.

The load generator (bench/_loadgen.c, as for bench/tcp_echo.py) sends length-prefixed
messages on each connection in a closed loop: 1 connection and 50 connections with
1 KiB messages (round trips/s), 4 connections with 256 KiB (MB/s). The runs are
interleaved and rotated; each figure is the median of ``--runs`` runs, each ratio the
median of the per-run ratios. The client is the load generator's epoll loop unless
``--client`` says otherwise (as in bench/tcp_echo.py). After the throughput table come
each server's CPU time per round trip (steadier than throughput on a busy machine), its
context switches and its run-queue wait. Numbers on a shared machine vary; compare
within one run.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The private helpers live beside this file; found also when run as python -m bench.aio_echo.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
import _loadgen

# Table column order: name -> server kind (bench/_echo_server.py); the names also label the progress lines.
SERVERS = {
    "aio": "aio",
    "aio_messages": "aio-messages",
    "asyncio": "asyncio",
    "task": "task",
    "protocol": "protocol",
}
HEADERS = ("aio", "aio for_messages", "asyncio streams", "task floor", "Protocol")


def main() -> None:
    parser = h.parser(__doc__)
    parser.set_defaults(client="epoll")
    parser.add_argument("--unix", action="store_true", help="serve on Unix sockets instead of TCP")
    args = parser.parse_args()
    servers = {
        name: (kind, f"unix:{{dir}}/{name}.sock" if args.unix else "127.0.0.1:0") for name, kind in SERVERS.items()
    }
    binary = _loadgen.build("bench/aio_echo.py")
    load_cpus, server_cpus = h.cpu_sets(args.pin)
    rows = h.table_rows(args.scenarios, h.CLIENT_CHOICES[args.client])
    with h.servers(servers, h.DEFAULT_MAX_CONNECTIONS, server_cpus) as running:
        measured = h.measure(binary, running, args.runs, args.seconds, load_cpus, rows, args.where)

    h.print_heading(args.runs, args.seconds, server_cpus is not None)
    samples = measured.figures
    header = ["scenario", "client", *HEADERS]
    header += ["aio vs streams", "for_messages vs streams", "task floor vs streams", "aio vs task floor"]
    table = [
        [
            *h.row_cells(row),
            *(h.median(samples, name, row) for name in SERVERS),
            h.ratio(samples, "aio", "asyncio", row),
            h.ratio(samples, "aio_messages", "asyncio", row),
            h.ratio(samples, "task", "asyncio", row),
            h.ratio(samples, "aio", "task", row),
        ]
        for row in rows
    ]
    h.print_table(header, table)
    print(
        "\nFigures are medians of the runs; ratios are medians of the per-run ratios (each pair measured in the same run)."
    )
    h.print_costs(measured, dict(zip(SERVERS, HEADERS, strict=True)), "asyncio", rows)


if __name__ == "__main__":
    h.run("bench/aio_echo.py", main)
