"""Benchmark: sending a file over loopback TCP with StreamConnection.send_file, raw socket.sendfile and a copy loop.

Run by hand from the repository root::

    python bench/sendfile.py [--size-mib 1024] [--runs 5]

Creates a file of ``--size-mib`` MiB of random bytes in /tmp (deleted at the end) and
sends it, whole, over a TCP connection on 127.0.0.1 to a receiver in a separate process
that reads with ``recv_into`` into a 1 MiB buffer and counts the bytes. Methods:

* ``send_file``: :meth:`StreamConnection.send_file` on a connection with a 60 s
  default timeout (so the deadline path runs: the send timeout is re-armed between
  8 MiB ``os.sendfile`` calls);
* ``socket.sendfile``: the stdlib method on a plain blocking socket (the anchor);
* ``read/sendall``: ``readinto`` a reused 1 MiB buffer, then ``sendall``: what code
  without sendfile does.

The file is read once before timing, so every method reads it from the page cache.
Runs are interleaved (method after method, each run starting with the next method) and
each figure is the median of ``--runs``: GiB/s of file sent, timed from the first byte sent until the receiver
reports the last byte received. Ratios are medians of the ratios within each run.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
sys.path.insert(0, str(SRC))

from netbasics import StreamConnection  # noqa: E402

RECEIVER = r"""
import socket, sys
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(8)
print(listener.getsockname()[1], flush=True)
buf = bytearray(1 << 20)
while True:
    conn, _ = listener.accept()
    total = 0
    while True:
        n = conn.recv_into(buf)
        if not n:
            break
        total += n
    conn.sendall(str(total).encode())
    conn.close()
"""


def send_with_netbasics(sock: socket.socket, path: Path) -> int:
    conn = StreamConnection(sock, timeout=60)
    with path.open("rb") as f:
        return conn.send_file(f)


def send_with_socket_sendfile(sock: socket.socket, path: Path) -> int:
    with path.open("rb") as f:
        return sock.sendfile(f)


def send_with_copy_loop(sock: socket.socket, path: Path) -> int:
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    total = 0
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buf):
            sock.sendall(view[:n])
            total += n
    return total


METHODS: dict[str, Callable[[socket.socket, Path], int]] = {
    "send_file": send_with_netbasics,
    "socket.sendfile": send_with_socket_sendfile,
    "read/sendall": send_with_copy_loop,
}


def one_run(port: int, path: Path, method: Callable[[socket.socket, Path], int]) -> float:
    sock = socket.create_connection(("127.0.0.1", port))
    try:
        start = time.perf_counter()
        sent = method(sock, path)
        sock.shutdown(socket.SHUT_WR)
        received = int(sock.recv(64))
        elapsed = time.perf_counter() - start
    finally:
        sock.close()
    size = path.stat().st_size
    assert sent == size == received, (sent, size, received)
    return size / elapsed / 2**30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="file size in MiB (default 1024)")
    parser.add_argument("--runs", type=int, default=5, help="runs per method; the median is reported (default 5)")
    args = parser.parse_args()
    fd, name = tempfile.mkstemp(prefix="netbasics-sendfile-", dir="/tmp")
    path = Path(name)
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        with os.fdopen(fd, "wb") as f:
            chunk = os.urandom(1 << 20)
            for _ in range(args.size_mib):
                f.write(chunk)
        with path.open("rb") as f:  # into the page cache
            while f.read(1 << 24):
                pass
        assert receiver.stdout is not None
        port = int(receiver.stdout.readline())
        samples: dict[str, list[float]] = {name: [] for name in METHODS}
        labels = list(METHODS)
        for run in range(args.runs):
            # Each run starts with the next method, so no method is always first or last.
            for label in labels[run % len(labels) :] + labels[: run % len(labels)]:
                figure = one_run(port, path, METHODS[label])
                samples[label].append(figure)
                print(f"run {run + 1} {label:16} {figure:6.2f} GiB/s", file=sys.stderr)
    finally:
        receiver.terminate()
        receiver.wait(10)
        path.unlink(missing_ok=True)
    medians = {label: statistics.median(values) for label, values in samples.items()}
    anchor = samples["socket.sendfile"]
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.size_mib} MiB file, medians of {args.runs}\n")
    print("| method | GiB/s | vs socket.sendfile |")
    print("|---|---:|---:|")
    for label, value in medians.items():
        # The median of the per-run ratios: each run's figures were measured seconds apart.
        ratio = statistics.median(mine / theirs for mine, theirs in zip(samples[label], anchor, strict=True))
        print(f"| {label} | {value:.2f} | {ratio:.2f}x |")
    print("\nGiB/s are medians of the runs; ratios are medians of the per-run ratios.")


if __name__ == "__main__":
    main()
