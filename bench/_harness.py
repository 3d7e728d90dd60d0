"""What the stream echo benchmarks (bench/tcp_echo.py, bench/unix_echo.py) share.

Servers run in their own processes (bench/_echo_server.py), the load generator in
another (bench/_loadgen.py); this module starts and stops the servers, runs the
scenarios interleaved in a rotating order, and turns the samples into medians, ratios
and Markdown table rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import _loadgen

BENCH = Path(__file__).resolve().parent
SRC = BENCH.parent / "src"
SERVER_SCRIPT = BENCH / "_echo_server.py"
DEFAULT_MAX_CONNECTIONS = 1100


@dataclass(frozen=True)
class Scenario:
    """A closed-loop echo load: its table label, connections and message size (bytes)."""

    label: str
    connections: int
    size: int

    @property
    def bulk(self) -> bool:
        """Large messages are reported as MB/s, small ones as round trips per second."""
        return self.size >= 65536


SCENARIOS = (
    Scenario("1 conn, 1 KiB: round trips/s", 1, 1024),
    Scenario("50 conns, 1 KiB: round trips/s", 50, 1024),
    Scenario("4 conns, 256 KiB: MB/s", 4, 256 * 1024),
)

# -- command line ------------------------------------------------------------------------------


MAX_SECONDS = 86400.0


def duration(text: str) -> float:
    """An argparse type: a duration above zero and at most a day."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= MAX_SECONDS:  # also false for nan
        raise argparse.ArgumentTypeError(f"{text!r} is not above 0 and at most {MAX_SECONDS:g}")
    return value


def int_at_least(low: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{text!r} is below {low}")
        return value

    return parse


def parser(doc: str) -> argparse.ArgumentParser:
    """A parser with the options every echo benchmark has: ``--seconds`` and ``--runs``."""
    result = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    result.add_argument("--seconds", type=duration, default=3.0, help="measured seconds per run (default 3)")
    result.add_argument(
        "--runs", type=int_at_least(1), default=3, help="runs per figure; the median is reported (default 3)"
    )
    result.add_argument(
        "--pin",
        action="store_true",
        help="run the load generator on the first CPU and every server on the last one (steadier figures)",
    )
    return result


def cpu_sets(pin: bool) -> tuple[set[int] | None, set[int] | None]:
    """(load generator CPUs, server CPUs) for ``--pin``; ``(None, None)`` without it or with one CPU.

    On a small machine the scheduler moves a server's threads and the load generator
    between cores from one run to the next, and a threaded Python server's speed depends
    on whether its threads hand the GIL to each other on one core or across two: pinning
    gives every server the same, repeatable placement.
    """
    cpus = sorted(os.sched_getaffinity(0))
    if not pin or len(cpus) < 2:
        return None, None
    return {cpus[0]}, {cpus[-1]}


# -- servers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """A running echo server process and the address the load generator connects to."""

    proc: subprocess.Popen[str]
    target: str


def _start(kind: str, address: str, max_connections: int, log: IO[str], cpus: set[int] | None) -> Server:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.Popen(
        [sys.executable, str(SERVER_SCRIPT), kind, address, str(max_connections)],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=env,
        preexec_fn=_loadgen.pinned(cpus),
    )
    assert proc.stdout is not None
    target = proc.stdout.readline().strip()
    if not target:
        proc.wait(10)
        log.seek(0)
        lines = log.read().strip().splitlines() or [f"exit status {proc.returncode}"]
        raise RuntimeError(f"{kind} server on {address} did not start: {lines[-1]}")
    return Server(proc, target)


def _stop(server: Server) -> None:
    server.proc.terminate()
    server.proc.wait(10)
    assert server.proc.stdout is not None
    server.proc.stdout.close()


@contextmanager
def servers(
    specs: dict[str, tuple[str, str]], max_connections: int = DEFAULT_MAX_CONNECTIONS, cpus: set[int] | None = None
) -> Iterator[dict[str, Server]]:
    """Start one server process per ``name: (kind, address)`` and stop them all at the end.

    Yields the servers by name. An address may name a Unix socket in a fresh private
    directory as ``unix:{dir}/name.sock``. Each server's standard error goes to a file
    there, and the last line of it explains a server that fails to start. The directory is
    in /tmp, whatever ``TMPDIR`` says, since a socket path must fit in 107 bytes.
    """
    with tempfile.TemporaryDirectory(prefix="netbasics-bench-", dir="/tmp") as tmp, ExitStack() as stack:
        running: dict[str, Server] = {}
        try:
            for name, (kind, address) in specs.items():
                log = stack.enter_context(open(f"{tmp}/{name}.log", "w+"))
                running[name] = _start(kind, address.format(dir=tmp), max_connections, log, cpus)
            yield running
        finally:
            for server in running.values():
                _stop(server)


def run(bench: str, main: Callable[[], None]) -> None:
    """Call a benchmark's ``main``; a server or load generator that fails ends it with one line."""
    try:
        main()
    except RuntimeError as error:
        sys.exit(f"{bench}: {error}")


# -- measuring ---------------------------------------------------------------------------------

Samples = dict[str, dict[str, list[float]]]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, all its threads together."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rotated(names: Sequence[str], run: int) -> list[str]:
    """``names`` starting at the ``run``-th: no server always goes first or after the same one."""
    start = run % len(names)
    return [*names[start:], *names[:start]]


def measure(
    binary: Path, running: dict[str, Server], runs: int, seconds: float, cpus: set[int] | None = None
) -> tuple[Samples, Samples]:
    """Run every scenario against every server ``runs`` times, interleaved and rotated.

    The order is (run, scenario, server), so drifting background load on the machine
    spreads over all servers alike; progress goes to standard error. Returns the figures
    and the server's CPU time per round trip (µs; per MB for bulk): the CPU time is read
    from /proc around the whole run and scaled to the measured part of it (the warm-up is
    a fifth of ``seconds``), a steadier measure than throughput on a busy machine.
    """
    names = list(running)
    width = max(map(len, names)) + 1
    samples: Samples = {name: {s.label: [] for s in SCENARIOS} for name in names}
    costs: Samples = {name: {s.label: [] for s in SCENARIOS} for name in names}
    for run in range(runs):
        for scenario in SCENARIOS:
            for name in rotated(names, run):
                pid = running[name].proc.pid
                before = cpu_seconds(pid)
                result = _loadgen.echo(binary, running[name].target, scenario.connections, scenario.size, seconds, cpus)
                used = (cpu_seconds(pid) - before) / 1.2  # the run is 1.2 x seconds: warm-up + measured
                figure = result.megabytes_per_second if scenario.bulk else result.trips_per_second
                work = result.echoed_bytes / 1e6 if scenario.bulk else result.trips
                samples[name][scenario.label].append(figure)
                costs[name][scenario.label].append(used * 1e6 / work if work else 0.0)
                print(f"run {run + 1} {name:{width}} {scenario.label:32} {figure:10.0f}", file=sys.stderr)
    return samples, costs


# -- reporting ---------------------------------------------------------------------------------


def median(samples: Samples, name: str, label: str) -> str:
    """The median of a server's figures for one scenario, as a table cell ("12,345")."""
    return f"{statistics.median(samples[name][label]):,.0f}"


def ratio(samples: Samples, name: str, anchor: str, label: str) -> str:
    """The median of the per-run ratios of ``name`` to ``anchor``, as a table cell ("1.23x").

    Each run's pair was measured moments apart, so their ratio is steadier than the ratio of
    the medians. Runs where the anchor measured nothing are left out ("n/a" if all are).
    """
    pairs = zip(samples[name][label], samples[anchor][label], strict=True)
    ratios = [mine / theirs for mine, theirs in pairs if theirs > 0]
    return f"{statistics.median(ratios):.2f}x" if ratios else "n/a"


def print_heading(runs: int, seconds: float, pinned: bool = False) -> None:
    """The line naming the Python, the CPU count and the sampling, and a blank line."""
    placement = ", load generator and servers pinned to separate CPUs" if pinned else ""
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, medians of {runs} x {seconds:g} s{placement}\n")


def print_costs(costs: Samples, names: dict[str, str], anchor: str) -> None:
    """A second table: each server's CPU time per round trip (per MB for bulk) and its ratio to ``anchor``'s."""
    print("\nServer CPU time, µs per round trip (per MB echoed for bulk); lower is better:\n")
    header = ["scenario", *names.values(), *(f"{names[n]} / {names[anchor]}" for n in names if n != anchor)]
    rows = []
    for s in SCENARIOS:
        row = [s.label, *(f"{statistics.median(costs[n][s.label]):.2f}" for n in names)]
        row += [ratio(costs, n, anchor, s.label) for n in names if n != anchor]
        rows.append(row)
    print_table(header, rows)


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A Markdown table: the first column left-aligned, the others right-aligned."""
    for row in (header, ["---"] + ["---:"] * (len(header) - 1), *rows):
        if row[0] == "---":
            print("|" + "|".join(row) + "|")
        else:
            print("|" + "|".join(f" {cell} " if cell else " " for cell in row) + "|")
