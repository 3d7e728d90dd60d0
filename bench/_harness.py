"""What the stream echo benchmarks (bench/tcp_echo.py, bench/unix_echo.py) share.

Servers run in their own processes (bench/_echo_server.py), the load generator in
another (bench/_loadgen.py); this module starts and stops the servers, runs the
scenarios under each client interleaved in a rotating order, reads each server's CPU
time and context switches over the measured part of every run, and turns the samples
into medians, ratios and Markdown table rows.

The server kind ``released`` is the threaded netbasics server with ``NETBASICS_RELEASE_GIL=1``
in its process's environment (every send releases the GIL); every other server runs with
that variable removed, so the default is measured whatever the caller's shell has set.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
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
#: ``--scenarios`` names, in table order.
SCENARIO_NAMES = {"1": SCENARIOS[0], "50": SCENARIOS[1], "bulk": SCENARIOS[2]}
CLIENT_CHOICES = {"epoll": ("epoll",), "threads": ("threads",), "both": ("epoll", "threads")}


@dataclass(frozen=True)
class Row:
    """One table row: a scenario driven by one of the load generator's clients."""

    scenario: Scenario
    client: str

    @property
    def label(self) -> str:
        return self.scenario.label


def table_rows(scenarios: Sequence[Scenario], clients: Sequence[str]) -> list[Row]:
    """Every scenario under every client, grouped by scenario."""
    return [Row(s, c) for s in scenarios for c in clients]


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


def scenario_list(text: str) -> tuple[Scenario, ...]:
    """An argparse type: a comma-separated list of scenario names (``1``, ``50``, ``bulk``)."""
    names = [name.strip() for name in text.split(",")]
    unknown = [name for name in names if name not in SCENARIO_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"{text!r}: scenarios are a comma-separated list of 1, 50, bulk")
    return tuple(s for key, s in SCENARIO_NAMES.items() if key in names)


def parser(doc: str) -> argparse.ArgumentParser:
    """A parser with the options every echo benchmark has: ``--seconds``, ``--runs``, ``--pin``,
    ``--client``, ``--scenarios`` and ``--where``."""
    result = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    result.add_argument("--seconds", type=duration, default=3.0, help="measured seconds per run (default 3)")
    result.add_argument(
        "--runs", type=int_at_least(1), default=3, help="runs per figure; the median is reported (default 3)"
    )
    result.add_argument(
        "--pin",
        action="store_true",
        help="run the load generator on the first CPU and every server on the last one (steadier figures;"
        " a server on one CPU never holds the GIL in its sends, so default and switched then match)",
    )
    result.add_argument(
        "--client",
        choices=CLIENT_CHOICES,
        default="both",
        help="the load generator's client: one epoll loop, a thread per connection, or both (default both)",
    )
    result.add_argument(
        "--scenarios",
        type=scenario_list,
        default=SCENARIOS,
        metavar="LIST",
        help="comma-separated scenarios: 1 (1 conn), 50 (50 conns), bulk (4 conns, 256 KiB); default all",
    )
    result.add_argument(
        "--where",
        action="store_true",
        help="also sample where each server's threads wait (running, GIL futex, socket, poll), every 5 ms;"
        " costs CPU, so compare such figures only with each other",
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


#: The switches the ``released`` and ``held`` server kinds set in their environment
#: (netbasics._io.held_send): every send releases the GIL / TCP servers hold small sends too.
RELEASE_GIL = "NETBASICS_RELEASE_GIL"
HOLD_GIL = "NETBASICS_HOLD_GIL"


@dataclass(frozen=True)
class Server:
    """A running echo server process, the address the load generator connects to, and what it said of itself.

    ``note`` is empty for servers outside netbasics; for the threaded ones it says
    whether their sends keep the GIL while several connections are served.
    """

    proc: subprocess.Popen[str]
    target: str
    note: str = ""


def _start(kind: str, address: str, max_connections: int, log: IO[str], cpus: set[int] | None) -> Server:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    env.pop(RELEASE_GIL, None)
    env.pop(HOLD_GIL, None)
    if kind == "released":
        env[RELEASE_GIL] = "1"
    elif kind == "held":
        env[HOLD_GIL] = "1"
    proc = subprocess.Popen(
        [sys.executable, str(SERVER_SCRIPT), kind, address, str(max_connections)],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=env,
        preexec_fn=_loadgen.pinned(cpus),
    )
    assert proc.stdout is not None
    target, _, note = proc.stdout.readline().strip().partition("\t")
    if not target:
        proc.wait(10)
        log.seek(0)
        lines = log.read().strip().splitlines() or [f"exit status {proc.returncode}"]
        raise RuntimeError(f"{kind} server on {address} did not start: {lines[-1]}")
    return Server(proc, target, note)


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

Samples = dict[str, dict[Row, list[float]]]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, all its threads together (ended ones too)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_counters(pid: int) -> dict[int, tuple[int, int, int]]:
    """Each live thread's (voluntary switches, involuntary switches, run-queue wait in ns) so far, by id.

    A voluntary switch is a sleep (in ``recv``, ``poll``, or a futex waiting for the GIL);
    an involuntary one is a preemption; the run-queue wait is time runnable but not running
    (waiting for a CPU; 0 where the kernel keeps no schedstat). /proc/PID/status alone
    counts only the main thread, so every thread's file is read.
    """
    counts: dict[int, tuple[int, int, int]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        voluntary = involuntary = waited = 0
        try:
            for line in (task / "status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    voluntary = int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches:"):
                    involuntary = int(line.split()[1])
            with suppress(FileNotFoundError):
                waited = int((task / "schedstat").read_text().split()[1])
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended while the directory was read
        counts[int(task.name)] = (voluntary, involuntary, waited)
    return counts


#: ``--where``: a thread's wait channel (/proc/PID/task/TID/wchan) to the column it counts in.
WHERE = ("running", "futex (GIL)", "socket", "poll", "other")


def where(wchan: str) -> str:
    """The :data:`WHERE` column of a wait channel: "0" is a thread on a CPU or waiting for one."""
    if wchan in ("0", ""):
        return "running"
    if "futex" in wchan:
        return "futex (GIL)"
    if any(part in wchan for part in ("poll", "select")):
        return "poll"
    if any(part in wchan for part in ("wait_woken", "sk_wait", "sk_stream", "unix_", "tcp_", "sock_", "inet_")):
        return "socket"
    return "other"


class Sampler:
    """``--where``: how many of a server's threads are in each :data:`WHERE` state, on average.

    A thread of the harness reads every server thread's wait channel each ``interval``
    seconds between :meth:`start` and :meth:`stop`. It costs the harness CPU time that the
    server and the load generator then miss, so figures taken with it are not compared
    with figures taken without.
    """

    def __init__(self, pid: int, interval: float = 0.005) -> None:
        self.pid = pid
        self.interval = interval
        self.samples = 0
        self.states: Counter[str] = Counter()
        self.channels: Counter[str] = Counter()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        tasks = Path(f"/proc/{self.pid}/task")
        while not self._done.wait(self.interval):
            for task in tasks.iterdir():
                try:
                    wchan = (task / "wchan").read_text().strip()
                except (FileNotFoundError, ProcessLookupError):
                    continue
                self.states[where(wchan)] += 1
                self.channels[wchan] += 1
            self.samples += 1

    def averages(self) -> dict[str, float]:
        """The average number of threads in each :data:`WHERE` state."""
        return {state: self.states[state] / self.samples if self.samples else 0.0 for state in WHERE}


@dataclass
class Counters:
    """A server's CPU time, context switches and run-queue wait, read as the measured part starts and ends."""

    pid: int
    sampler: Sampler | None = None
    cpu: float = 0.0
    switches: tuple[int, int] = (0, 0)
    queued: float = 0.0  # seconds its threads were runnable but waiting for a CPU
    _start: tuple[float, dict[int, tuple[int, int, int]]] | None = None

    def start(self) -> None:
        self._start = (cpu_seconds(self.pid), thread_counters(self.pid))
        if self.sampler:
            self.sampler.start()

    def stop(self) -> None:
        if self.sampler:
            self.sampler.stop()
        assert self._start is not None
        cpu, before = self._start
        after = thread_counters(self.pid)
        self.cpu = cpu_seconds(self.pid) - cpu
        # Threads born during the window count from zero; threads that ended are lost, but the
        # generator keeps every connection (and so every connection thread) open until now.
        zero = (0, 0, 0)
        delta = [tuple(a - b for a, b in zip(now, before.get(tid, zero), strict=True)) for tid, now in after.items()]
        self.switches = (sum(d[0] for d in delta), sum(d[1] for d in delta))
        self.queued = sum(d[2] for d in delta) / 1e9


@dataclass
class Measurements:
    """Per server and row: the figure (round trips/s or MB/s); per round trip (per MB for bulk) the
    server's CPU µs, voluntary and involuntary context switches and run-queue wait µs; with
    ``--where``, the average number of its threads in each :data:`WHERE` state, and the wait
    channels seen."""

    figures: Samples
    cpu: Samples
    voluntary: Samples
    involuntary: Samples
    queued: Samples
    where: dict[str, dict[Row, list[dict[str, float]]]]
    channels: Counter[str]


def rotated(names: Sequence[str], run: int) -> list[str]:
    """``names`` starting at the ``run``-th: no server always goes first or after the same one."""
    start = run % len(names)
    return [*names[start:], *names[:start]]


def estimate(servers: int, rows: int, runs: int, seconds: float) -> str:
    """How long :func:`measure` will take, roughly (each run is 1.2 x seconds plus set-up)."""
    total = servers * rows * runs * (seconds * 1.2 + 0.1)
    return f"{servers} servers x {rows} rows x {runs} runs: about {total / 60:.1f} min"


def measure(
    binary: Path,
    running: dict[str, Server],
    runs: int,
    seconds: float,
    cpus: set[int] | None = None,
    rows: Sequence[Row] | None = None,
    sample_where: bool = False,
) -> Measurements:
    """Run every row (scenario and client) against every server ``runs`` times, interleaved and rotated.

    The order is (run, row, server), so drifting background load on the machine spreads
    over all servers alike; progress goes to standard error. Each server's CPU time,
    context switches and run-queue wait are read from /proc as the load generator's
    measured part starts and as it ends (the warm-up, a fifth of ``seconds``, and
    connection set-up are left out): per round trip they are a steadier measure than
    throughput on a busy machine, and they show how the server's threads wait.
    ``sample_where`` also samples where they wait (:class:`Sampler`).
    """
    rows = list(rows) if rows is not None else table_rows(SCENARIOS, ["epoll"])
    names = list(running)
    width = max(map(len, names)) + 1
    print(estimate(len(names), len(rows), runs, seconds), file=sys.stderr)

    def empty() -> Samples:
        return {name: {row: [] for row in rows} for name in names}

    result = Measurements(
        empty(), empty(), empty(), empty(), empty(), {name: {row: [] for row in rows} for name in names}, Counter()
    )
    for run in range(runs):
        for row in rows:
            scenario = row.scenario
            for name in rotated(names, run):
                pid = running[name].proc.pid
                counters = Counters(pid, Sampler(pid) if sample_where else None)
                echoed = _loadgen.echo(
                    binary,
                    running[name].target,
                    scenario.connections,
                    scenario.size,
                    seconds,
                    cpus,
                    row.client,
                    (counters.start, counters.stop),
                )
                figure = echoed.megabytes_per_second if scenario.bulk else echoed.trips_per_second
                work = echoed.echoed_bytes / 1e6 if scenario.bulk else echoed.trips
                per = 1 / work if work else 0.0
                cpu, queued = counters.cpu * 1e6 * per, counters.queued * 1e6 * per
                voluntary, involuntary = counters.switches[0] * per, counters.switches[1] * per
                result.figures[name][row].append(figure)
                result.cpu[name][row].append(cpu)
                result.voluntary[name][row].append(voluntary)
                result.involuntary[name][row].append(involuntary)
                result.queued[name][row].append(queued)
                if counters.sampler:
                    result.where[name][row].append(counters.sampler.averages())
                    result.channels.update(counters.sampler.channels)
                print(
                    f"run {run + 1} {name:{width}} {row.client:7} {scenario.label:32} {figure:10.0f}"
                    f"  cpu {cpu:7.2f}  cs {voluntary:5.2f} / {involuntary:5.2f}  queued {queued:6.2f}",
                    file=sys.stderr,
                )
    return result


# -- reporting ---------------------------------------------------------------------------------


def median(samples: Samples, name: str, row: Row) -> str:
    """The median of a server's figures for one row, as a table cell ("12,345")."""
    return f"{statistics.median(samples[name][row]):,.0f}"


def ratio(samples: Samples, name: str, anchor: str, row: Row) -> str:
    """The median of the per-run ratios of ``name`` to ``anchor``, as a table cell ("1.23x").

    Each run's pair was measured moments apart, so their ratio is steadier than the ratio of
    the medians. Runs where the anchor measured nothing are left out ("n/a" if all are).
    """
    pairs = zip(samples[name][row], samples[anchor][row], strict=True)
    ratios = [mine / theirs for mine, theirs in pairs if theirs > 0]
    return f"{statistics.median(ratios):.2f}x" if ratios else "n/a"


def throughput_table(
    measured: Measurements, names: Sequence[str], rows: Sequence[Row], ratios: Sequence[tuple[str, str]]
) -> list[list[str]]:
    """The throughput table's rows: the row's cells, each server's median in ``names`` order, then
    each ``(name, anchor)`` ratio of ``ratios`` in order."""
    samples = measured.figures
    return [
        [
            *row_cells(row),
            *(median(samples, name, row) for name in names),
            *(ratio(samples, name, anchor, row) for name, anchor in ratios),
        ]
        for row in rows
    ]


def print_heading(runs: int, seconds: float, pinned: bool = False, running: dict[str, Server] | None = None) -> None:
    """The line naming the Python, the CPU count and the sampling, what the netbasics servers said, and a blank line."""
    placement = ", load generator and servers pinned to separate CPUs" if pinned else ""
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, medians of {runs} x {seconds:g} s{placement}")
    notes = [f"{name}: {server.note}" for name, server in (running or {}).items() if server.note]
    if notes:
        print(f"Held send ({RELEASE_GIL}, {HOLD_GIL}): " + "; ".join(notes))
    print(
        "Clients: epoll = one thread, one epoll loop for all connections; threads = a thread per connection,"
        " blocking send/recv.\n"
    )


def row_cells(row: Row) -> list[str]:
    """The first two cells of a row: the scenario and the client."""
    return [row.label, row.client]


def print_costs(measured: Measurements, names: dict[str, str], anchor: str, rows: Sequence[Row]) -> None:
    """The tables after the throughput table, one cell per server: CPU time per round trip (per MB
    for bulk) with its ratio to ``anchor``'s; context switches and run-queue wait per round trip;
    with ``--where``, the average number of threads in each state."""
    header = ["scenario", "client", *names.values()]

    def cells(samples: Samples, form: str) -> list[list[str]]:
        return [[*row_cells(row), *(format(statistics.median(samples[n][row]), form) for n in names)] for row in rows]

    print("\nServer CPU time, µs per round trip (per MB echoed for bulk); lower is better:\n")
    table = cells(measured.cpu, ".2f")
    for cpu_row, row in zip(table, rows, strict=True):
        cpu_row += [ratio(measured.cpu, n, anchor, row) for n in names if n != anchor]
    print_table([*header, *(f"{names[n]} / {names[anchor]}" for n in names if n != anchor)], table)

    print(
        "\nServer context switches per round trip (per MB echoed for bulk), all threads, voluntary / involuntary"
        " (voluntary: went to sleep, in recv, send, poll or a futex such as the GIL's; involuntary: preempted):\n"
    )
    table = [
        [
            *row_cells(row),
            *(
                f"{statistics.median(measured.voluntary[n][row]):.2f} / {statistics.median(measured.involuntary[n][row]):.2f}"
                for n in names
            ),
        ]
        for row in rows
    ]
    print_table(header, table)

    print(
        "\nServer run-queue wait, µs per round trip (per MB echoed for bulk), all threads: time runnable"
        " but waiting for a CPU (the load generator's threads compete for the same CPUs):\n"
    )
    print_table(header, cells(measured.queued, ".2f"))

    if not any(measured.where[n][row] for n in names for row in rows):
        return
    print(
        "\nWhere the server's threads are (--where), average number of threads: "
        + " / ".join(WHERE)
        + " (sampled from /proc/PID/task/*/wchan every 5 ms; running = on a CPU or waiting for one):\n"
    )
    table = []
    for row in rows:
        line = row_cells(row)
        for n in names:
            runs = measured.where[n][row]
            line.append(" / ".join(f"{statistics.median(r[state] for r in runs):.1f}" for state in WHERE))
        table.append(line)
    print_table(header, table)
    seen = measured.channels.most_common(10)
    total = sum(measured.channels.values()) or 1
    print("\nWait channels seen: " + ", ".join(f"{name} {count / total:.0%}" for name, count in seen))


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A Markdown table: the first two columns left-aligned (scenario, client), the others right-aligned."""
    for row in (header, ["---", "---"] + ["---:"] * (len(header) - 2), *rows):
        if row[0] == "---":
            print("|" + "|".join(row) + "|")
        else:
            print("|" + "|".join(f" {cell} " if cell else " " for cell in row) + "|")
