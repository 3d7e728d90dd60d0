"""Benchmark: the HTTP guard's cost against the same http.client unguarded, on loopback.

Run by hand from the repository root::

    python bench/http_guard.py [--seconds 2] [--runs 5]

A keep-alive HTTP/1.1 server (``ThreadingHTTPServer``, a 2-byte body) runs in another
process. Three measurements, each guarded and unguarded, interleaved in a rotating order
within every run, reported as the median over ``--runs``:

* **pooled requests**: one keep-alive connection, ``GET /`` in a loop (requests/s). The
  guard runs once per new connection, so the two should be within noise (target: 5%);
* **new connection**: ``socket.create_connection`` against ``connect_guarded`` to the
  literal ``127.0.0.1`` (no resolution), connect and close (µs per connection), against a
  second listener in the server process that only accepts and closes; the difference is
  the guard's added cost (target: under 100 µs);
* **new connection, name**: the same through a name answered by an in-process resolver
  (no DNS), so the check of a resolved answer is included;
* **requests** (when installed): the same client with and without the adapter
  (``requests.Session`` against ``guarded_session``), pooled keep-alive requests/s, and
  requests/s when every request opens a new connection (``Connection: close``).
* **the check alone**: what the guard adds in Python before the connect (reading the host,
  resolving through the in-process resolver, checking), without any socket: the part of
  the added cost that does not vary with the kernel's connect time.

The output is a Markdown table.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from netbasics import DestinationPolicy
from netbasics.http_guard import GuardedHTTPConnection, connect_guarded
from netbasics.http_guard._connect import checked_endpoints

SERVER = r"""
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        if self.headers.get("Connection", "").lower() == "close":
            self.send_header("Connection", "close")  # so the client does not reuse it
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a): pass
class S(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
import socket, threading
plain = socket.create_server(("127.0.0.1", 0), backlog=1024)
def accept_and_close():
    while True:
        plain.accept()[0].close()
threading.Thread(target=accept_and_close, daemon=True).start()
s = S(("127.0.0.1", 0), H)
print(s.server_address[1], plain.getsockname()[1], flush=True)
s.serve_forever()
"""


def _resolver(host: str, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> Sequence[Any]:
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]


def pooled(make: Callable[[], http.client.HTTPConnection], seconds: float) -> float:
    """Requests per second over one keep-alive connection."""
    conn = make()
    try:
        count = 0
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            for _ in range(10):
                conn.request("GET", "/")
                conn.getresponse().read()
            count += 10
        return count / seconds
    finally:
        conn.close()


def connects(connect: Callable[[], socket.socket], seconds: float) -> float:
    """Microseconds per connect-and-close."""
    count = 0
    start = time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        for _ in range(20):
            connect().close()
        count += 20
    return (time.perf_counter() - start) / count * 1e6


def via_requests(session: Any, url: str, seconds: float, close: bool) -> float:
    """Requests per second through a requests session; ``close`` makes each one a new connection."""
    headers = {"Connection": "close"} if close else None
    try:
        count = 0
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            for _ in range(10):
                session.get(url, headers=headers).close()
            count += 10
        return count / seconds
    finally:
        session.close()


def _requests_scenarios(url: str, policy: DestinationPolicy, seconds: float) -> dict[str, Callable[[], float]]:
    try:
        import requests

        from netbasics.http_guard.requests import guarded_session
    except ImportError:
        return {}

    def plain() -> Any:
        session = requests.Session()
        session.trust_env = False  # as the guarded session: no proxies from the environment
        return session

    return {
        "requests pooled, unguarded": lambda: via_requests(plain(), url, seconds, False),
        "requests pooled, guarded": lambda: via_requests(guarded_session(policy), url, seconds, False),
        "requests new connection, unguarded": lambda: via_requests(plain(), url, seconds, True),
        "requests new connection, guarded": lambda: via_requests(guarded_session(policy), url, seconds, True),
    }


def check_only(check: Callable[[], object], seconds: float) -> float:
    """Microseconds per call of the guard's check, no socket involved."""
    count = 0
    start = time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        for _ in range(200):
            check()
        count += 200
    return (time.perf_counter() - start) / count * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per measurement (default 2)")
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs; the median is reported (default 5)")
    args = parser.parse_args(argv)

    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port, plain = (int(word) for word in server.stdout.readline().split())
        policy = DestinationPolicy(allow=["127.0.0.1"], allowed_ports=[port, plain])
        scenarios: dict[str, Callable[[], float]] = {
            "pooled, unguarded": lambda: pooled(lambda: http.client.HTTPConnection("127.0.0.1", port), args.seconds),
            "pooled, guarded": lambda: pooled(
                lambda: GuardedHTTPConnection("127.0.0.1", port, policy=policy), args.seconds
            ),
            "connect, unguarded": lambda: connects(
                lambda: socket.create_connection(("127.0.0.1", plain)), args.seconds
            ),
            "connect, guarded": lambda: connects(
                lambda: connect_guarded("127.0.0.1", plain, policy=policy), args.seconds
            ),
            "connect by name, guarded": lambda: connects(
                lambda: connect_guarded("bench.test", plain, policy=policy, resolver=_resolver), args.seconds
            ),
        }
        scenarios.update(_requests_scenarios(f"http://127.0.0.1:{port}/", policy, args.seconds))
        scenarios["check, literal"] = lambda: check_only(lambda: checked_endpoints("127.0.0.1", plain, policy), 0.2)
        scenarios["check, name"] = lambda: check_only(
            lambda: checked_endpoints("bench.test", plain, policy, _resolver), 0.2
        )
        samples: dict[str, list[float]] = {name: [] for name in scenarios}
        names = list(scenarios)
        for run in range(args.runs):
            order = names[run % len(names) :] + names[: run % len(names)]
            for name in order:
                samples[name].append(scenarios[name]())
        med = {name: statistics.median(values) for name, values in samples.items()}
    finally:
        server.kill()
        server.wait()

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.runs} run(s) x {args.seconds:g} s\n")
    print("| measurement | unguarded | guarded | guarded / unguarded |")
    print("| --- | --- | --- | --- |")
    pooled_ratio = med["pooled, guarded"] / med["pooled, unguarded"]
    print(
        f"| pooled keep-alive requests/s | {med['pooled, unguarded']:,.0f} | {med['pooled, guarded']:,.0f} "
        f"| {pooled_ratio:.3f} |"
    )
    base = med["connect, unguarded"]
    rows = (("new connection, literal IP", "connect, guarded"), ("new connection, name", "connect by name, guarded"))
    for label, key in rows:
        print(f"| {label}: µs | {base:.1f} | {med[key]:.1f} | {med[key] - base:+.1f} µs |")
    for label, key in (
        ("requests, pooled", "requests pooled"),
        ("requests, new connection", "requests new connection"),
    ):
        if f"{key}, guarded" in med:
            before, after = med[f"{key}, unguarded"], med[f"{key}, guarded"]
            print(f"| {label}: requests/s | {before:,.0f} | {after:,.0f} | {after / before:.3f} |")
    for label, key in (("the check alone, literal IP", "check, literal"), ("the check alone, name", "check, name")):
        print(f"| {label}: µs | - | {med[key]:.1f} | +{med[key]:.1f} µs |")


if __name__ == "__main__":
    main()
